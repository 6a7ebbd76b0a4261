#!/usr/bin/env node
// bench: the command line. Bad input is one line on stderr and exit status 2, never a stack.
import { UsageError, HostError } from '../shared/errors.js';
import { runCommand } from './run-command.js';
import { envCommand, listCommand } from './info-commands.js';
import { referenceCommand } from './reference-command.js';
import { soakCommand } from './soak-command.js';
import { microCommand } from './micro-command.js';
import { labCommand } from '../lab/lab-command.js';
import { kvmCommand } from '../kvm-build/kvm-command.js';
import { reportCommand } from './report-command.js';
import { gateCommand, gateEvalCommand } from './gate-command.js';

const HELP = `bench: how fast can a KVM guest scan the PCI hole, under each strategy from the 2020
KVM_MEM_PCI_HOLE review? Real VMs on /dev/kvm, a Linux-like guest scan, one table.

usage: bench <command> [options]        bench <command> --help for its options

  run        measure strategies × workloads on real KVM (default: all strategies, linux-q35-boot)
  list       strategies and workloads, one line each
  env        host fingerprint and which strategies can run here (and how to enable the rest)
  report     one offline HTML report from one or more results files
  gate       compare two results files for CI (exit 0 pass, 1 regression, 2 bad input)
  gate-eval  false-alarm and detection rate of the gate on a real results file
  reference  the same scan through a minimal C KVM_RUN loop, beside this harness
  soak       hundreds of fresh VMs in one process: fds, mappings and RSS must stay flat
  micro      the harness's own cost per exit (koffi call, exit loop + PCI model), with tinybench
  lab        any of these inside a VM of the suite's own with a real KVM (hosts without /dev/kvm)
  kvm        build the patched KVM modules of kernel/ (kvm build), test them in the lab (kvm test)

examples:
  npx bench run                                   # every strategy on linux-q35-boot, 10 VMs each
  npx bench run --strategy userspace-exit --access all --samples 5
  npx bench report results/*/results.json --out compare.html
  npx bench lab -- run --samples 3                # the same, in the lab VM (no /dev/kvm here)
  npx bench gate --baseline test/perf-baseline.json --current results/<run> --ratios`;

const commands: Record<string, (args: string[]) => Promise<number> | number> = {
  run: runCommand,
  list: listCommand,
  env: envCommand,
  report: reportCommand,
  gate: gateCommand,
  'gate-eval': gateEvalCommand,
  reference: referenceCommand,
  soak: soakCommand,
  micro: microCommand,
  lab: labCommand,
  kvm: kvmCommand,
};

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    if (cmd === 'help' && rest[0] && commands[rest[0]]) return commands[rest[0]](['--help']);
    console.log(HELP);
    return 0;
  }
  const f = commands[cmd];
  if (!f) throw new UsageError(`unknown command '${cmd}'; commands: ${Object.keys(commands).join(', ')} (bench --help)`);
  return f(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError || e instanceof HostError) {
      process.stderr.write(`bench: ${e.message}\n`);
      process.exitCode = 2;
    } else if (e instanceof Error && 'code' in e && typeof e.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`bench: ${e.message.split('\n')[0]}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`bench: internal error: ${e instanceof Error ? e.message : String(e)}${process.env.PCIHOLE_DEBUG ? `\n${(e as Error).stack}` : ' (PCIHOLE_DEBUG=1 for the stack)'}\n`);
      process.exitCode = 1;
    }
  },
);
