// The orchestrator's side of the sample worker (runner/measure/sample-process.ts): one long-lived process, a
// timeout per request, and a fresh process after a timeout or a crash.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Sample } from '../results/schema.js';
import type { ChildMessage, RunRequest } from './sample-process.js';
import { workerFlags } from './worker-flags.js';

const CHILD = fileURLToPath(new URL('./sample-process.js', import.meta.url));

export interface WorkerReply {
  samples: Sample[];
  /** One line per sample that did not finish (guest fault, timeout, crash, setup error). */
  errors: string[];
}

export class SampleWorker {
  private child: ChildProcess | null = null;
  private stderr = '';

  constructor(
    /** A request that sends nothing for this long is killed and reported as a timeout. */
    private readonly timeoutMs: number,
  ) {}

  /** Runs `req.samples` fresh-VM samples; never rejects (failures come back as errors). */
  run(req: RunRequest, onSample?: () => void): Promise<WorkerReply> {
    const child = this.spawn();
    const reply: WorkerReply = { samples: [], errors: [] };
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (error?: string) => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        if (error) {
          reply.errors.push(error);
          this.kill();
        }
        resolve(reply);
      };
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => finish(`timeout: no result within ${this.timeoutMs / 1000} s (the guest never signalled done); sample process killed`), this.timeoutMs);
      };
      const onMessage = (m: ChildMessage) => {
        arm();
        if (m.type === 'sample') reply.samples.push(m.sample);
        else if (m.type === 'sample-error') reply.errors.push(m.message);
        else if (m.type === 'error') return finish(m.message);
        else if (m.type === 'done') return finish();
        onSample?.();
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        this.child = null;
        const last = this.stderr.trim().split('\n').pop() ?? '';
        finish(`sample process died (${signal ?? `exit ${code}`})${last ? `: ${last}` : ''}`);
      };
      child.on('message', onMessage);
      child.on('exit', onExit);
      arm();
      child.send(req);
    });
  }

  private spawn(): ChildProcess {
    if (this.child) return this.child;
    this.stderr = '';
    const c = fork(CHILD, [], { execArgv: [...process.execArgv, ...workerFlags()], stdio: ['ignore', 'inherit', 'pipe', 'ipc'], serialization: 'advanced' });
    c.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    this.child = c;
    return c;
  }

  /** Stops the worker now (timeouts, Ctrl-C). */
  kill(): void {
    this.child?.kill('SIGKILL');
    this.child = null;
  }

  /** Lets an idle worker exit. */
  close(): void {
    this.child?.disconnect();
    this.child = null;
  }
}
