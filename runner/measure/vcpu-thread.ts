// Running vCPUs 1..n-1 on their own threads (KVM_RUN blocks the calling thread until the next
// exit, so each concurrently running vCPU needs a thread of its own).
//
// Design: the main thread creates the VM and every vCPU (fds, CPUID, registers) exactly as for one
// vCPU, then runs vCPU 0 itself. Each other vCPU runs in a node:worker_threads worker (one per
// extra vCPU, kept for the life of the process and handed one job per sample) that gets
// the vCPU's fd number (threads share the fd table and the address space, so KVM accepts the
// ioctls: kvm->mm is the same), dup()s it, maps its kvm_run page into its own view (a second
// mapping of the same kvm_run) and runs the same ExitLoop on its own fd, which it closes itself.
// Why its own fd: the main thread may close the original (release() after a join() timeout)
// while this thread is still running, and the next VM may get the same fd number; a thread
// that kept using the number could run that VM's vCPU. The thread dup()s while the original
// is certainly open: it checks that the sample was not dropped first, and calls KVM_RUN only
// after start() released the sample (GO = 1), which happens before the main thread can
// release anything. An abandoned sample (GO = -1) stops the thread at its next exit.
// The PCI device model stays one model: its configuration spaces, the 0xCF8 latch and a lock
// live in a SharedArrayBuffer (PciModel.sharedBuffer) and every thread handles each exit under
// that lock (drain of the per-VM coalesced-MMIO ring included), as QEMU does under its BQL.
// Start and end are synchronised through a small Int32Array in shared memory (Atomics.wait is
// allowed on Node's main thread): workers report ready, the main thread releases them all at
// once and enters KVM_RUN; afterwards it waits for their "done" and receives their results
// synchronously (receiveMessageOnPort), so runSample stays a synchronous call.
import { MessageChannel, Worker, isMainThread, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { Vcpu } from '../vmm/vcpu.js';
import { check, close, dup } from '../vmm/libc.js';
import { ExitLoop, type EcamDecode, type Fault } from '../devices/exit-loop.js';
import { PciModel, type FunctionSpec, type PciCounters } from '../devices/pci-model.js';

/** Sync words of one sample (Int32 indexes). */
const READY = 0;
const GO = 1;
const DONE = 2;

/** One sample's work for one vCPU thread. */
interface ThreadJob {
  /** Per-thread job number: a late result of an abandoned sample is told apart by it. */
  seq: number;
  fd: number;
  id: number;
  mmapSize: number;
  topology: FunctionSpec[];
  pciBuffer: SharedArrayBuffer;
  ecam: EcamDecode;
  drainCoalesced: boolean;
  /** READY / GO / DONE words of this sample. */
  sync: SharedArrayBuffer;
}

/** What a pooled thread gets once, at creation. */
interface ThreadInit {
  vcpuThread: true;
  port: MessagePort;
  /** [0]: jobs posted so far (the thread sleeps on it between samples). */
  wake: SharedArrayBuffer;
}

/** What a vCPU thread hands back. */
export interface ThreadResult {
  seq: number;
  id: number;
  /** The fault that stopped the vCPU (null: it signalled done). */
  fault: Fault | null;
  /** An exception in the thread (setup or the loop). */
  error?: string;
  exits: Record<string, number>;
  counters: PciCounters;
}

/** A worker kept for the life of the process: starting one per sample costs ~30 ms and leaves a
 *  few host mappings behind each time (V8/glibc per-thread areas), which add up over long runs. */
class PooledThread {
  readonly worker: Worker;
  readonly port: MessagePort;
  private readonly wake = new Int32Array(new SharedArrayBuffer(4));
  private seq = 0;

  constructor() {
    const { port1, port2 } = new MessageChannel();
    const init: ThreadInit = { vcpuThread: true, port: port2, wake: this.wake.buffer as SharedArrayBuffer };
    this.worker = new Worker(new URL('./vcpu-thread.js', import.meta.url), { workerData: init, transferList: [port2] });
    this.worker.unref();
    this.port = port1;
  }

  /** Queues a job; returns its number. */
  post(job: Omit<ThreadJob, 'seq'>): number {
    const seq = ++this.seq;
    this.port.postMessage({ ...job, seq });
    Atomics.add(this.wake, 0, 1);
    Atomics.notify(this.wake, 0);
    return seq;
  }

  /** The result of job `seq` (results of abandoned jobs before it are dropped). */
  result(seq: number): ThreadResult {
    for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) {
      const r = m.message as ThreadResult;
      if (r.seq === seq) return r;
    }
    throw new Error('vCPU thread finished without a result');
  }
}

const pool: PooledThread[] = [];

/** The main thread's handle on the vCPU threads of one sample. */
export class VcpuThreads {
  private readonly sync = new Int32Array(new SharedArrayBuffer(16));
  private readonly threads: { thread: PooledThread; seq: number }[] = [];

  /** Hands each vCPU to a pooled thread (the vCPUs' fds must stay open until start() returns
   *  or abort() was called). */
  constructor(
    vcpus: Vcpu[],
    opts: { topology: FunctionSpec[]; pciBuffer: SharedArrayBuffer; ecam: EcamDecode; drainCoalesced: boolean; mmapSize: number },
  ) {
    try {
      vcpus.forEach((v, i) => {
        pool[i] ??= new PooledThread();
        const seq = pool[i].post({ fd: v.fd, id: v.id, ...opts, sync: this.sync.buffer as SharedArrayBuffer });
        this.threads.push({ thread: pool[i], seq });
      });
    } catch (e) {
      this.abort(); // jobs already posted must not wait for a start() that never comes
      throw e;
    }
  }

  /** Waits until every thread is ready to enter KVM_RUN, then releases them together. */
  start(timeoutMs = 30_000): void {
    const n = this.threads.length;
    const deadline = Date.now() + timeoutMs;
    for (let ready = Atomics.load(this.sync, READY); ready < n; ready = Atomics.load(this.sync, READY)) {
      if (Date.now() > deadline) throw new Error(`vCPU threads: ${ready} of ${n} started within ${timeoutMs / 1000} s`);
      Atomics.wait(this.sync, READY, ready, 100);
    }
    Atomics.store(this.sync, GO, 1);
    Atomics.notify(this.sync, GO);
  }

  /** Waits for every thread to finish its loop and returns their results (in vCPU order). */
  join(timeoutMs = 120_000): ThreadResult[] {
    const n = this.threads.length;
    const deadline = Date.now() + timeoutMs;
    for (let done = Atomics.load(this.sync, DONE); done < n; done = Atomics.load(this.sync, DONE)) {
      if (Date.now() > deadline) throw new Error(`vCPU threads: ${done} of ${n} finished within ${timeoutMs / 1000} s`);
      Atomics.wait(this.sync, DONE, done, 100);
    }
    return this.threads.map((t) => t.thread.result(t.seq));
  }

  /** Drops this sample: threads that have not started never enter KVM_RUN; running ones stop at
   *  their next exit (ExitLoop's stop check). */
  abort(): void {
    Atomics.store(this.sync, GO, -1);
    Atomics.notify(this.sync, GO);
  }

  /** After abort(): waits until every thread has finished its job. False when one is still
   *  running at the deadline (its guest makes no exits): its own fd keeps the VM alive, so the
   *  VM's memory must stay mapped. */
  settle(timeoutMs = 10_000): boolean {
    const n = this.threads.length;
    const deadline = Date.now() + timeoutMs;
    for (let done = Atomics.load(this.sync, DONE); done < n; done = Atomics.load(this.sync, DONE)) {
      if (Date.now() > deadline) return false;
      Atomics.wait(this.sync, DONE, done, 100);
    }
    return true;
  }
}

/** One sample on this thread: map the vCPU, report ready, wait for go, run, report. */
function runJob(job: ThreadJob, port: MessagePort): void {
  const sync = new Int32Array(job.sync);
  const result: ThreadResult = { seq: job.seq, id: job.id, fault: null, exits: {}, counters: { reads: 0, writes: 0, holeReads: 0, holeWrites: 0 } };
  let vcpu: Vcpu | null = null;
  let ready = false;
  const signalReady = () => {
    if (ready) return;
    ready = true;
    Atomics.add(sync, READY, 1);
    Atomics.notify(sync, READY);
  };
  const dropped = () => Atomics.load(sync, GO) === -1;
  try {
    // A sample dropped before this thread got to it: its fds may be closed, their numbers reused.
    if (dropped()) throw new Error('sample dropped before the vCPU thread started');
    const pci = new PciModel(job.topology, { buffer: job.pciBuffer, init: false });
    const loop = new ExitLoop(pci, job.ecam, job.drainCoalesced);
    // This thread's own fd for the vCPU (see the top of the file); closed by vcpu.close() below.
    const fd = check(`dup (vCPU ${job.id} fd)`, dup(job.fd));
    // One more view of kvm_run, of the size the VM read from /dev/kvm.
    try {
      vcpu = new Vcpu(fd, job.id, job.mmapSize);
    } catch (e) {
      close(fd);
      throw e;
    }
    signalReady();
    // The main thread releases (1) or drops (-1) the sample; give up if it never does.
    const deadline = Date.now() + 60_000;
    while (Atomics.load(sync, GO) === 0 && Date.now() < deadline) Atomics.wait(sync, GO, 0, 1000);
    if (Atomics.load(sync, GO) === 1) result.fault = loop.run(vcpu, dropped);
    result.exits = loop.counts.toRecord();
    result.counters = { ...pci.counters };
  } catch (e) {
    result.error = e instanceof Error ? e.message : String(e);
    signalReady(); // a thread that failed before its loop must not hold up start()
  } finally {
    vcpu?.close(); // unmaps this thread's kvm_run view and closes its own fd
  }
  port.postMessage(result);
  Atomics.add(sync, DONE, 1);
  Atomics.notify(sync, DONE);
}

/** The pooled thread: sleep until a job is posted, run it, repeat. */
function threadMain(init: ThreadInit): void {
  const wake = new Int32Array(init.wake);
  let seen = 0;
  for (;;) {
    if (Atomics.load(wake, 0) === seen) {
      Atomics.wait(wake, 0, seen, 1000);
      continue;
    }
    seen++;
    const m = receiveMessageOnPort(init.port);
    if (m) runJob(m.message as ThreadJob, init.port);
  }
}

if (!isMainThread && (workerData as ThreadInit | undefined)?.vcpuThread) threadMain(workerData as ThreadInit);
