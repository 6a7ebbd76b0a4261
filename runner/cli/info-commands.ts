// `bench list` and `bench env`.
import { parseArgs } from 'node:util';
import { HostError } from '../shared/errors.js';
import { strategyLabel } from '../shared/row-id.js';
import { hostFacts, type HostFacts } from '../host/host.js';
import { timingLabel, timingNote } from '../results/timing.js';
import { openHost, previewRow } from '../measure/admit.js';
import type { HostInfo } from '../../strategies/types.js';
import { strategies } from '../../strategies/index.js';
import { workloads } from '../../workloads/index.js';

export const LIST_HELP = `usage: bench list

Every strategy (with its variants) and every workload (with the access methods it supports),
one line each. Ids go to 'bench run --strategy' and '--workload'.`;

export const ENV_HELP = `usage: bench env [--json]

The host fingerprint results are tagged with (kernel, CPU, KVM backend module and its
parameters, KVM capabilities, THP and hugetlb state, vm.max_map_count) and, for each strategy
and variant, whether it runs here (measured / proxy / unsupported) and why, with the command
that enables it. Changes nothing on the host.

Without a usable /dev/kvm it prints what it can (kernel, CPU, THP, hugetlb, limits), then one
line on stderr saying how to get KVM, and exits with status 2.`;

export function listCommand(args: string[]): number {
  const { values } = parseArgs({ args, strict: true, options: { help: { type: 'boolean', short: 'h', default: false } } });
  if (values.help) {
    console.log(LIST_HELP);
    return 0;
  }
  const sw = Math.max(...strategies.map((s) => s.id.length));
  console.log('strategies:');
  for (const s of strategies) {
    const v = s.variants.filter(Boolean);
    console.log(`  ${s.id.padEnd(sw)}  ${s.summary}${v.length ? ` [variants: ${v.join(', ')}]` : ''}`);
  }
  const ww = Math.max(...workloads.map((w) => w.id.length));
  console.log('workloads:');
  for (const w of workloads) console.log(`  ${w.id.padEnd(ww)}  ${w.summary} [access: ${w.access.join(', ')}]`);
  return 0;
}

export function envCommand(args: string[]): number {
  const { values } = parseArgs({ args, strict: true, options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } } });
  if (values.help) {
    console.log(ENV_HELP);
    return 0;
  }
  let host: HostInfo;
  try {
    host = openHost('env');
  } catch (e) {
    if (!(e instanceof HostError)) throw e;
    // No KVM here: the host facts still help (and say which kernel and CPU the lab would be compared with).
    const facts = hostFacts();
    if (values.json) console.log(JSON.stringify({ host: facts, kvm: null, problem: e.message }, null, 1));
    else {
      console.log('host (no usable KVM device: no capabilities, no fingerprint id)');
      printFacts(facts);
    }
    throw e;
  }
  const fp = host.fingerprint;
  const w = workloads[0];
  const matrix = strategies.flatMap((s) =>
    s.variants.map((variant) => {
      // As `bench run` admits the row, but host limits are only described: env changes nothing.
      const { probe: p, raises } = previewRow(host, { strategy: s, variant, workload: w, access: 'ecam' });
      const raised = raises.length ? `(bench run raises ${raises.join(', ')}) ` : '';
      return { strategy: s.id, variant, ...p, reason: `${raised}${p.reason ?? ''}`.trim() };
    }),
  );
  host.kvm.close();
  if (values.json) {
    console.log(JSON.stringify({ host: fp, strategies: matrix }, null, 1));
    return 0;
  }
  console.log(`host ${fp.id}`);
  printFacts(fp);
  console.log(`  KVM           API ${fp.apiVersion}, guest TSC ${fp.tscKhz} kHz`);
  console.log(`  capabilities  ${Object.entries(fp.capabilities).map(([k, v]) => `${k.replace('KVM_CAP_', '')}=${v}`).join(' ')}`);
  console.log(`\nstrategies on this host (${w.id}, ecam):`);
  const nw = Math.max(...matrix.map((m) => strategyLabel(m).length));
  for (const m of matrix) {
    console.log(`  ${strategyLabel(m).padEnd(nw)}  ${m.status.padEnd(11)} ${m.reason ?? ''}`);
  }
  return 0;
}

/** The lines of `bench env` that need no /dev/kvm. */
function printFacts(f: HostFacts): void {
  const hp = f.hugetlb;
  const dflt = hp.defaultSizeKb && hp.defaultSizeKb !== hp.hugepageSizeKb ? `; default hugepage size ${hp.defaultSizeKb} KiB` : '';
  console.log(`  kernel        ${f.kernel}`);
  console.log(`  cpu           ${f.cpuModel} (${f.cpus} cpus), ${(f.memoryBytes / 2 ** 30).toFixed(1)} GiB`);
  console.log(`  KVM backend   ${f.kvmBackend}`);
  console.log(`  parameters    ${Object.entries(f.kvmParams).map(([k, v]) => `${k}=${v}`).join(' ') || '—'}`);
  console.log(`  THP           enabled=${f.thp.enabled} defrag=${f.thp.defrag} shmem=${f.thp.shmemEnabled}`);
  console.log(`  hugetlb       ${hp.nrHugepages} pages of ${hp.hugepageSizeKb} KiB (${hp.freeHugepages} free)${dflt}`);
  console.log(`  max_map_count ${f.maxMapCount}   root: ${f.isRoot ? 'yes' : 'no'}   node ${f.node}`);
  if (f.lab) {
    const l = f.lab;
    console.log(`  lab           ${l.accel} under QEMU ${l.qemu}, guest kernel ${l.guestKernel}; outer host ${l.outerKernel}, ${l.outerCpu}${l.outerHostId ? ` (${l.outerHostId})` : ''}`);
  }
  const timing = f.timing ?? 'hardware';
  console.log(`  timing        ${timingNote(timing) || timingLabel(timing)}`);
}
