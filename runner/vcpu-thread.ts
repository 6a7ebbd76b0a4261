// Running vCPUs 1..n-1 on their own threads (KVM_RUN blocks the calling thread until the next
// exit, so each concurrently running vCPU needs a thread of its own).
//
// Design: the main thread creates the VM and every vCPU (fds, CPUID, registers) exactly as for one
// vCPU, then runs vCPU 0 itself. Each other vCPU runs in a node:worker_threads worker that gets
// the vCPU's fd number (threads share the fd table and the address space, so KVM accepts the
// ioctls: kvm->mm is the same) and opens nothing: it maps that fd's kvm_run page into its own
// view (a second mapping of the same kvm_run, no new file) and runs the same ExitLoop.
// The PCI device model stays one model: its configuration spaces, the 0xCF8 latch and a lock
// live in a SharedArrayBuffer (PciModel.sharedBuffer) and every thread handles each exit under
// that lock (drain of the per-VM coalesced-MMIO ring included), as QEMU does under its BQL.
// Start and end are synchronised through a small Int32Array in shared memory (Atomics.wait is
// allowed on Node's main thread): workers report ready, the main thread releases them all at
// once and enters KVM_RUN; afterwards it waits for their "done" and receives their results
// synchronously (receiveMessageOnPort), so runSample stays a synchronous call.
import { MessageChannel, Worker, isMainThread, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { munmap } from './libc.js';
import { Vcpu } from './vcpu.js';
import type { Vm } from './vm.js';
import { ExitLoop, type EcamDecode, type Fault } from './exit-loop.js';
import { PciModel, type FunctionSpec, type PciCounters } from './pci-model.js';

/** Sync words (Int32 indexes). */
const READY = 0;
const GO = 1;
const DONE = 2;

interface ThreadRequest {
  fd: number;
  id: number;
  mmapSize: number;
  topology: FunctionSpec[];
  pciBuffer: SharedArrayBuffer;
  ecam: EcamDecode;
  drainCoalesced: boolean;
  sync: SharedArrayBuffer;
  port: MessagePort;
}

/** What a vCPU thread hands back. */
export interface ThreadResult {
  id: number;
  /** The fault that stopped the vCPU (null: it signalled done). */
  fault: Fault | null;
  /** An exception in the thread (setup or the loop). */
  error?: string;
  exits: Record<string, number>;
  counters: PciCounters;
}

/** The main thread's handle on the vCPU threads of one sample. */
export class VcpuThreads {
  private readonly sync = new Int32Array(new SharedArrayBuffer(16));
  private readonly ports: MessagePort[] = [];
  private readonly workers: Worker[] = [];

  /** Starts one worker per vCPU (the vCPUs' fds must stay open until join() returns). */
  constructor(
    vcpus: Vcpu[],
    opts: { topology: FunctionSpec[]; pciBuffer: SharedArrayBuffer; ecam: EcamDecode; drainCoalesced: boolean; mmapSize: number },
  ) {
    for (const v of vcpus) {
      const { port1, port2 } = new MessageChannel();
      const req: ThreadRequest = { fd: v.fd, id: v.id, ...opts, sync: this.sync.buffer as SharedArrayBuffer, port: port2 };
      const w = new Worker(new URL('./vcpu-thread.js', import.meta.url), { workerData: req, transferList: [port2] });
      w.unref();
      this.workers.push(w);
      this.ports.push(port1);
    }
  }

  /** Waits until every worker is ready to enter KVM_RUN, then releases them together. */
  start(timeoutMs = 30_000): void {
    const n = this.workers.length;
    const deadline = Date.now() + timeoutMs;
    for (let ready = Atomics.load(this.sync, READY); ready < n; ready = Atomics.load(this.sync, READY)) {
      if (Date.now() > deadline) throw new Error(`vCPU threads: ${ready} of ${n} started within ${timeoutMs / 1000} s`);
      Atomics.wait(this.sync, READY, ready, 100);
    }
    Atomics.store(this.sync, GO, 1);
    Atomics.notify(this.sync, GO);
  }

  /** Waits for every worker to finish its loop and returns their results (in vCPU order). */
  join(timeoutMs = 120_000): ThreadResult[] {
    const n = this.workers.length;
    const deadline = Date.now() + timeoutMs;
    for (let done = Atomics.load(this.sync, DONE); done < n; done = Atomics.load(this.sync, DONE)) {
      if (Date.now() > deadline) throw new Error(`vCPU threads: ${done} of ${n} finished within ${timeoutMs / 1000} s`);
      Atomics.wait(this.sync, DONE, done, 100);
    }
    const out = this.ports.map((p) => {
      const m = receiveMessageOnPort(p);
      p.close();
      if (!m) throw new Error('vCPU thread finished without a result');
      return m.message as ThreadResult;
    });
    for (const w of this.workers) void w.terminate();
    return out;
  }

  /** Releases workers that never started (on an error before start()). */
  abort(): void {
    Atomics.store(this.sync, GO, -1);
    Atomics.notify(this.sync, GO);
    for (const w of this.workers) void w.terminate();
    for (const p of this.ports) p.close();
  }
}

/** Vcpu keeps its kvm_run mapping private; a thread that mapped it unmaps it without closing the
 *  fd (the main thread owns the fd). See the final report: a public Vcpu method would replace this. */
function unmapRun(v: Vcpu): void {
  const m = v as unknown as { runPtr?: unknown; runSize?: unknown };
  if (typeof m.runPtr !== 'bigint' || typeof m.runSize !== 'number') throw new Error('Vcpu no longer exposes runPtr/runSize: update unmapRun');
  munmap(m.runPtr, m.runSize);
}

function workerMain(req: ThreadRequest): void {
  const sync = new Int32Array(req.sync);
  const result: ThreadResult = { id: req.id, fault: null, exits: {}, counters: { reads: 0, writes: 0, holeReads: 0, holeWrites: 0 } };
  let vcpu: Vcpu | null = null;
  let ready = false;
  const signalReady = () => {
    if (ready) return;
    ready = true;
    Atomics.add(sync, READY, 1);
    Atomics.notify(sync, READY);
  };
  try {
    const pci = new PciModel(req.topology, { buffer: req.pciBuffer, init: false });
    const loop = new ExitLoop(pci, req.ecam, req.drainCoalesced);
    // Only vcpuMmapSize() of the VM is used by the constructor: no new fd, one more view of kvm_run.
    const vmShim = { kvm: { vcpuMmapSize: () => req.mmapSize } } as unknown as Vm;
    vcpu = new Vcpu(vmShim, req.fd, req.id);
    signalReady();
    while (Atomics.load(sync, GO) === 0) Atomics.wait(sync, GO, 0, 1000);
    if (Atomics.load(sync, GO) === 1) {
      const fault = loop.run(vcpu);
      result.fault = fault;
    }
    result.exits = loop.counts.toRecord();
    result.counters = { ...pci.counters };
  } catch (e) {
    result.error = e instanceof Error ? e.message : String(e);
    signalReady(); // a thread that failed before its loop must not hold up start()
  } finally {
    if (vcpu) unmapRun(vcpu);
  }
  req.port.postMessage(result);
  req.port.close();
  Atomics.add(sync, DONE, 1);
  Atomics.notify(sync, DONE);
}

if (!isMainThread && (workerData as ThreadRequest | undefined)?.sync) workerMain(workerData as ThreadRequest);
