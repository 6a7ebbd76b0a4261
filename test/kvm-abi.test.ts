// runner/vmm/kvm-abi.ts against <linux/kvm.h>: a tiny C program, compiled with cc at test time,
// prints every ioctl number, capability, exit reason, struct size and field offset the VMM
// uses; each must equal the TypeScript constant. Skipped (with the reason) when cc or the
// kernel headers are missing (Debian: apt-get install -y gcc linux-libc-dev).
//
// KVM_PRE_FAULT_MEMORY / KVM_CAP_PRE_FAULT_MEMORY (Linux 6.10) are missing from older headers
// (Debian 12 ships 6.1): then they are checked against api.rst's definition instead,
// _IOWR(KVMIO, 0xd5, struct kvm_pre_fault_memory) with a 64-byte struct, and capability 236.
//
// The private constants of the patched KVM (kernel/*.patch) are in no system header: they are
// checked against kernel/selftests/pcihole_uapi.h, which the probe includes after <linux/kvm.h>
// (it defines them only where <linux/kvm.h> does not), and that header against the patches'
// own uapi lines (test/private-uapi.ts).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PRIVATE_UAPI_DIR, privateMacroNames } from './private-uapi.js';
import {
  CPUID_ENTRY_SIZE,
  IOAPIC_IOREGSEL_OFFSET,
  IOAPIC_IOWIN,
  IRQCHIP_SIZE,
  KVM_API_VERSION,
  KVM_COALESCED_MMIO_PAGE_OFFSET,
  KVM_EXIT_IO_IN,
  KVM_EXIT_IO_OUT,
  KVM_IRQCHIP_IOAPIC,
  KVM_MEM_PCI_HOLE_BIT,
  KVM_MEM_PREFETCH_2M_BIT,
  KVM_MEM_PCI_HOLE_MMIO_BIT,
  KVM_MEM_PREFETCH_2M_BATCH_BIT,
  KVM_MEM_READONLY,
  KVM_MEM_SINGLE_HVA_2M_BIT,
  KVM_MEM_SINGLE_HVA_BIT,
  KVM_MMIO_FILL_WRITE_EXIT,
  KVM_MP_STATE_RUNNABLE,
  REGS,
  REGS_SIZE,
  SEGMENTS,
  SREGS_SIZE,
  caps,
  exitReasons,
  ioctls,
  run,
  sregs,
} from '../runner/vmm/kvm-abi.js';

/** P(NAME, NAME) for every private macro of pcihole_uapi.h, and whether <linux/kvm.h> already had it. */
const privateLines = () =>
  privateMacroNames()
    .map((n) => `#ifdef ${n}\n  P("system_has.${n}", 1);\n#endif`)
    .join('\n');

const C_SOURCE = () => String.raw`
#include <stdio.h>
#include <stddef.h>
#include <linux/kvm.h>

#define P(name, value) printf("%s %llu\n", name, (unsigned long long)(value))

static void system_header_private(void) {
${privateLines()}
}

#include "pcihole_uapi.h"

#define IOCTL(x) P(#x, x)
#define CAP(x) P(#x, x)
#define OFF(label, type, field) P(label, offsetof(type, field))
#define SIZE(label, type) P(label, sizeof(type))

/* api.rst, KVM_PRE_FAULT_MEMORY: struct kvm_pre_fault_memory { __u64 gpa, size, flags, padding[5]; } */
struct pre_fault_doc { __u64 gpa, size, flags, padding[5]; };

int main(void) {
  system_header_private();
${privateMacroNames().map((n) => `  P("${n}", ${n});`).join('\n')}
  SIZE("sizeof_kvm_mmio_fill", struct kvm_mmio_fill);
  OFF("mmio_fill.addr", struct kvm_mmio_fill, addr); OFF("mmio_fill.size", struct kvm_mmio_fill, size);
  OFF("mmio_fill.fill", struct kvm_mmio_fill, fill); OFF("mmio_fill.flags", struct kvm_mmio_fill, flags);
  IOCTL(KVM_GET_API_VERSION); IOCTL(KVM_CREATE_VM); IOCTL(KVM_CHECK_EXTENSION); IOCTL(KVM_GET_VCPU_MMAP_SIZE);
  IOCTL(KVM_GET_SUPPORTED_CPUID); IOCTL(KVM_CREATE_VCPU); IOCTL(KVM_SET_USER_MEMORY_REGION); IOCTL(KVM_SET_TSS_ADDR); IOCTL(KVM_CREATE_PIT2); IOCTL(KVM_SET_MSRS);
  IOCTL(KVM_CREATE_IRQCHIP); IOCTL(KVM_GET_IRQCHIP); IOCTL(KVM_SET_IRQCHIP); IOCTL(KVM_REGISTER_COALESCED_MMIO);
  IOCTL(KVM_RUN); IOCTL(KVM_GET_REGS); IOCTL(KVM_SET_REGS); IOCTL(KVM_GET_SREGS); IOCTL(KVM_SET_SREGS);
  IOCTL(KVM_SET_CPUID2); IOCTL(KVM_GET_TSC_KHZ); IOCTL(KVM_GET_STATS_FD); IOCTL(KVM_SET_MP_STATE);
#ifdef KVM_PRE_FAULT_MEMORY
  IOCTL(KVM_PRE_FAULT_MEMORY);
  SIZE("sizeof_kvm_pre_fault_memory", struct kvm_pre_fault_memory);
  P("header_has_pre_fault", 1);
#else
  P("KVM_PRE_FAULT_MEMORY", _IOWR(KVMIO, 0xd5, struct pre_fault_doc));
  SIZE("sizeof_kvm_pre_fault_memory", struct pre_fault_doc);
  P("header_has_pre_fault", 0);
#endif

  CAP(KVM_CAP_IRQCHIP); CAP(KVM_CAP_USER_MEMORY); CAP(KVM_CAP_NR_MEMSLOTS); CAP(KVM_CAP_COALESCED_MMIO);
  CAP(KVM_CAP_IOEVENTFD); CAP(KVM_CAP_GET_TSC_KHZ); CAP(KVM_CAP_READONLY_MEM); CAP(KVM_CAP_BINARY_STATS_FD);
#ifdef KVM_CAP_PRE_FAULT_MEMORY
  CAP(KVM_CAP_PRE_FAULT_MEMORY);
#else
  P("KVM_CAP_PRE_FAULT_MEMORY", 236);
#endif

  P("KVM_API_VERSION", KVM_API_VERSION);
  P("KVM_MEM_READONLY", KVM_MEM_READONLY); P("KVM_MP_STATE_RUNNABLE", KVM_MP_STATE_RUNNABLE);
  P("KVM_EXIT_UNKNOWN", KVM_EXIT_UNKNOWN); P("KVM_EXIT_IO", KVM_EXIT_IO); P("KVM_EXIT_HLT", KVM_EXIT_HLT);
  P("KVM_EXIT_MMIO", KVM_EXIT_MMIO); P("KVM_EXIT_SHUTDOWN", KVM_EXIT_SHUTDOWN); P("KVM_EXIT_FAIL_ENTRY", KVM_EXIT_FAIL_ENTRY);
  P("KVM_EXIT_INTR", KVM_EXIT_INTR); P("KVM_EXIT_INTERNAL_ERROR", KVM_EXIT_INTERNAL_ERROR);
  P("KVM_EXIT_IO_IN", KVM_EXIT_IO_IN); P("KVM_EXIT_IO_OUT", KVM_EXIT_IO_OUT);
  P("KVM_IRQCHIP_IOAPIC", KVM_IRQCHIP_IOAPIC);
  P("KVM_COALESCED_MMIO_PAGE_OFFSET", KVM_COALESCED_MMIO_PAGE_OFFSET);

  OFF("run.exit_reason", struct kvm_run, exit_reason);
  OFF("run.mmio_phys_addr", struct kvm_run, mmio.phys_addr);
  OFF("run.mmio_data", struct kvm_run, mmio.data);
  OFF("run.mmio_len", struct kvm_run, mmio.len);
  OFF("run.mmio_is_write", struct kvm_run, mmio.is_write);
  OFF("run.io_direction", struct kvm_run, io.direction);
  OFF("run.io_size", struct kvm_run, io.size);
  OFF("run.io_port", struct kvm_run, io.port);
  OFF("run.io_count", struct kvm_run, io.count);
  OFF("run.io_data_offset", struct kvm_run, io.data_offset);
  OFF("run.internal_suberror", struct kvm_run, internal.suberror);
  OFF("run.internal_ndata", struct kvm_run, internal.ndata);
  OFF("run.internal_data", struct kvm_run, internal.data);
  OFF("run.fail_entry_reason", struct kvm_run, fail_entry.hardware_entry_failure_reason);
  OFF("run.fail_entry_cpu", struct kvm_run, fail_entry.cpu);
  SIZE("run.size", struct kvm_run);

  SIZE("REGS_SIZE", struct kvm_regs);
  OFF("regs.rax", struct kvm_regs, rax); OFF("regs.rbx", struct kvm_regs, rbx); OFF("regs.rcx", struct kvm_regs, rcx);
  OFF("regs.rdx", struct kvm_regs, rdx); OFF("regs.rsi", struct kvm_regs, rsi); OFF("regs.rdi", struct kvm_regs, rdi);
  OFF("regs.rsp", struct kvm_regs, rsp); OFF("regs.rbp", struct kvm_regs, rbp); OFF("regs.r8", struct kvm_regs, r8);
  OFF("regs.r9", struct kvm_regs, r9); OFF("regs.r10", struct kvm_regs, r10); OFF("regs.r11", struct kvm_regs, r11);
  OFF("regs.r12", struct kvm_regs, r12); OFF("regs.r13", struct kvm_regs, r13); OFF("regs.r14", struct kvm_regs, r14);
  OFF("regs.r15", struct kvm_regs, r15); OFF("regs.rip", struct kvm_regs, rip); OFF("regs.rflags", struct kvm_regs, rflags);

  SIZE("SREGS_SIZE", struct kvm_sregs);
  OFF("sregs.cs", struct kvm_sregs, cs); OFF("sregs.ds", struct kvm_sregs, ds); OFF("sregs.es", struct kvm_sregs, es);
  OFF("sregs.fs", struct kvm_sregs, fs); OFF("sregs.gs", struct kvm_sregs, gs); OFF("sregs.ss", struct kvm_sregs, ss);
  OFF("sregs.tr", struct kvm_sregs, tr); OFF("sregs.ldt", struct kvm_sregs, ldt);
  OFF("sregs.gdt", struct kvm_sregs, gdt); OFF("sregs.idt", struct kvm_sregs, idt);
  OFF("sregs.cr0", struct kvm_sregs, cr0); OFF("sregs.cr2", struct kvm_sregs, cr2); OFF("sregs.cr3", struct kvm_sregs, cr3);
  OFF("sregs.cr4", struct kvm_sregs, cr4); OFF("sregs.cr8", struct kvm_sregs, cr8); OFF("sregs.efer", struct kvm_sregs, efer);
  OFF("sregs.apic_base", struct kvm_sregs, apic_base);
  SIZE("segment.size", struct kvm_segment);
  OFF("segment.base", struct kvm_segment, base); OFF("segment.limit", struct kvm_segment, limit);
  OFF("segment.selector", struct kvm_segment, selector); OFF("segment.type", struct kvm_segment, type);
  OFF("segment.present", struct kvm_segment, present); OFF("segment.dpl", struct kvm_segment, dpl);
  OFF("segment.db", struct kvm_segment, db); OFF("segment.s", struct kvm_segment, s); OFF("segment.l", struct kvm_segment, l);
  OFF("segment.g", struct kvm_segment, g); OFF("segment.avl", struct kvm_segment, avl); OFF("segment.unusable", struct kvm_segment, unusable);

  SIZE("IRQCHIP_SIZE", struct kvm_irqchip);
  OFF("irqchip.chip", struct kvm_irqchip, chip);
  OFF("ioapic.ioregsel", struct kvm_ioapic_state, ioregsel);

  SIZE("CPUID_ENTRY_SIZE", struct kvm_cpuid_entry2);
  OFF("cpuid2.entries", struct kvm_cpuid2, entries);

  /* Literal layouts used in vm.ts (memory region, coalesced zone), vcpu.ts (coalesced ring) and kvm-stats.ts. */
  SIZE("region.size", struct kvm_userspace_memory_region);
  OFF("region.slot", struct kvm_userspace_memory_region, slot); OFF("region.flags", struct kvm_userspace_memory_region, flags);
  OFF("region.guest_phys_addr", struct kvm_userspace_memory_region, guest_phys_addr);
  OFF("region.memory_size", struct kvm_userspace_memory_region, memory_size);
  OFF("region.userspace_addr", struct kvm_userspace_memory_region, userspace_addr);
  SIZE("zone.size", struct kvm_coalesced_mmio_zone);
  OFF("zone.addr", struct kvm_coalesced_mmio_zone, addr); OFF("zone.size_field", struct kvm_coalesced_mmio_zone, size);
  SIZE("coalesced.size", struct kvm_coalesced_mmio);
  OFF("coalesced.phys_addr", struct kvm_coalesced_mmio, phys_addr); OFF("coalesced.len", struct kvm_coalesced_mmio, len);
  OFF("coalesced.data", struct kvm_coalesced_mmio, data);
  OFF("ring.entries", struct kvm_coalesced_mmio_ring, coalesced_mmio);
  SIZE("stats_header.size", struct kvm_stats_header);
  OFF("stats_header.name_size", struct kvm_stats_header, name_size);
  OFF("stats_header.num_desc", struct kvm_stats_header, num_desc);
  OFF("stats_header.desc_offset", struct kvm_stats_header, desc_offset);
  OFF("stats_header.data_offset", struct kvm_stats_header, data_offset);
  OFF("stats_desc.flags", struct kvm_stats_desc, flags); OFF("stats_desc.size", struct kvm_stats_desc, size);
  OFF("stats_desc.offset", struct kvm_stats_desc, offset); OFF("stats_desc.name", struct kvm_stats_desc, name);
  return 0;
}
`;

/** Compiles and runs the C program; the values it printed, or a skip message. */
function headerValues(): Map<string, number> | string {
  const cc = spawnSync('cc', ['--version'], { encoding: 'utf8' });
  if (cc.error || cc.status !== 0) return 'cc not found: install a C compiler (apt-get install -y gcc) to check runner/vmm/kvm-abi.ts against <linux/kvm.h>';
  const dir = mkdtempSync(join(tmpdir(), 'kvm-abi-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const src = join(dir, 'abi.c');
  const exe = join(dir, 'abi');
  writeFileSync(src, C_SOURCE());
  const build = spawnSync('cc', ['-std=gnu11', '-I', PRIVATE_UAPI_DIR, '-o', exe, src], { encoding: 'utf8' });
  if (build.status !== 0) {
    if (/linux\/kvm\.h/.test(build.stderr) && /No such file/.test(build.stderr)) return '<linux/kvm.h> not found: install the kernel headers (apt-get install -y linux-libc-dev)';
    throw new Error(`the ABI probe did not compile:\n${build.stderr}`);
  }
  const out = spawnSync(exe, { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`the ABI probe failed: ${out.stderr}`);
  const m = new Map<string, number>();
  for (const line of out.stdout.trim().split('\n')) {
    const [k, v] = line.split(' ');
    m.set(k, Number(v));
  }
  return m;
}

const values = process.arch === 'x64' ? headerValues() : 'runner/vmm/kvm-abi.ts describes x86-64; this host is ' + process.arch;
const skip = typeof values === 'string' ? values : false;
const H = (name: string): number => {
  const m = values as Map<string, number>;
  assert.ok(m.has(name), `the C probe printed ${name}`);
  return m.get(name) as number;
};

describe('runner/vmm/kvm-abi.ts matches <linux/kvm.h> (and kernel/selftests/pcihole_uapi.h for the patched KVM)', { skip }, () => {
  test('the private constants come from pcihole_uapi.h, not from <linux/kvm.h>', () => {
    const names = privateMacroNames();
    for (const n of ['KVM_CAP_PCI_HOLE_MEM', 'KVM_MEM_PCI_HOLE', 'KVM_CAP_MMIO_FILL', 'KVM_REGISTER_MMIO_FILL', 'KVM_UNREGISTER_MMIO_FILL']) assert.ok(names.includes(n), `pcihole_uapi.h defines ${n}`);
    // A system header that had them would make this check compare the header with itself.
    for (const n of privateMacroNames(undefined, true))
      assert.ok(!(values as Map<string, number>).has(`system_has.${n}`), `<linux/kvm.h> of this host defines ${n}: a patched uapi header is installed`);
  });

  test('patched-KVM constants: capabilities 0x10001/0x10002, memslot flag bit 15, the fill ioctls and struct kvm_mmio_fill', () => {
    assert.equal(caps.KVM_CAP_PCI_HOLE_MEM, H('KVM_CAP_PCI_HOLE_MEM'));
    assert.equal(caps.KVM_CAP_MMIO_FILL, H('KVM_CAP_MMIO_FILL'));
    assert.equal(2 ** KVM_MEM_PCI_HOLE_BIT, H('KVM_MEM_PCI_HOLE'));
    assert.equal(KVM_MMIO_FILL_WRITE_EXIT, H('KVM_MMIO_FILL_WRITE_EXIT'));
    assert.equal(ioctls.KVM_REGISTER_MMIO_FILL, H('KVM_REGISTER_MMIO_FILL'));
    assert.equal(ioctls.KVM_UNREGISTER_MMIO_FILL, H('KVM_UNREGISTER_MMIO_FILL'));
    // vm.ts writes the struct as literals: 24 bytes, addr 0, size 8, fill 16, flags 20.
    assert.equal(H('sizeof_kvm_mmio_fill'), 24);
    assert.deepEqual(['addr', 'size', 'fill', 'flags'].map((f) => H(`mmio_fill.${f}`)), [0, 8, 16, 20]);
  });

  test('patched-KVM constants, part 2: single-HVA flags 14/13, prefetch flag 12, PCI-hole MMIO flag 11, batched prefetch flag 10, capabilities 0x10003-0x10006', () => {
    assert.equal(caps.KVM_CAP_SINGLE_HVA, H('KVM_CAP_SINGLE_HVA'));
    assert.equal(caps.KVM_CAP_PREFETCH_2M, H('KVM_CAP_PREFETCH_2M'));
    assert.equal(2 ** KVM_MEM_SINGLE_HVA_BIT, H('KVM_MEM_SINGLE_HVA'));
    assert.equal(2 ** KVM_MEM_SINGLE_HVA_2M_BIT, H('KVM_MEM_SINGLE_HVA_2M'));
    assert.equal(2 ** KVM_MEM_PREFETCH_2M_BIT, H('KVM_MEM_PREFETCH_2M'));
    assert.equal(caps.KVM_CAP_PCI_HOLE_MMIO, H('KVM_CAP_PCI_HOLE_MMIO'));
    assert.equal(2 ** KVM_MEM_PCI_HOLE_MMIO_BIT, H('KVM_MEM_PCI_HOLE_MMIO'));
    assert.equal(caps.KVM_CAP_PREFETCH_2M_BATCH, H('KVM_CAP_PREFETCH_2M_BATCH'));
    assert.equal(2 ** KVM_MEM_PREFETCH_2M_BATCH_BIT, H('KVM_MEM_PREFETCH_2M_BATCH'));
    const bits = [KVM_MEM_PCI_HOLE_BIT, KVM_MEM_SINGLE_HVA_BIT, KVM_MEM_SINGLE_HVA_2M_BIT, KVM_MEM_PREFETCH_2M_BIT, KVM_MEM_PCI_HOLE_MMIO_BIT, KVM_MEM_PREFETCH_2M_BATCH_BIT];
    assert.equal(new Set(bits).size, bits.length, 'private flag bits are distinct');
    for (const b of bits) assert.ok(b < 16 && 2 ** b !== KVM_MEM_READONLY, `bit ${b} is userspace-visible and not READONLY`);
  });

  test('ioctl numbers', () => {
    for (const [name, nr] of Object.entries(ioctls)) assert.equal(nr, H(name), `${name} = 0x${nr.toString(16)}, header 0x${H(name).toString(16)}`);
  });

  test('KVM_PRE_FAULT_MEMORY is _IOWR(KVMIO, 0xd5, 64-byte struct) whether or not the header has it', () => {
    assert.equal(H('sizeof_kvm_pre_fault_memory'), 64);
    assert.equal(ioctls.KVM_PRE_FAULT_MEMORY, H('KVM_PRE_FAULT_MEMORY'));
    // decoded by hand: dir = read|write (3), size 64, type 0xAE, nr 0xd5
    assert.equal(ioctls.KVM_PRE_FAULT_MEMORY >>> 30, 3);
    assert.equal((ioctls.KVM_PRE_FAULT_MEMORY >>> 16) & 0x3fff, 64);
    assert.equal((ioctls.KVM_PRE_FAULT_MEMORY >>> 8) & 0xff, 0xae);
    assert.equal(ioctls.KVM_PRE_FAULT_MEMORY & 0xff, 0xd5);
  });

  test('capability numbers (KVM_CAP_PRE_FAULT_MEMORY = 236 when the header predates it)', () => {
    for (const [name, nr] of Object.entries(caps)) assert.equal(nr, H(name), name);
    assert.equal(caps.KVM_CAP_PRE_FAULT_MEMORY, 236);
  });

  test('API version, memslot flag, exit reasons, I/O directions, IOAPIC chip id', () => {
    assert.equal(KVM_API_VERSION, H('KVM_API_VERSION'));
    assert.equal(KVM_MEM_READONLY, H('KVM_MEM_READONLY'));
    assert.equal(KVM_MP_STATE_RUNNABLE, H('KVM_MP_STATE_RUNNABLE'));
    for (const [name, nr] of Object.entries(exitReasons)) assert.equal(nr, H(name), name);
    assert.equal(KVM_EXIT_IO_IN, H('KVM_EXIT_IO_IN'));
    assert.equal(KVM_EXIT_IO_OUT, H('KVM_EXIT_IO_OUT'));
    assert.equal(KVM_IRQCHIP_IOAPIC, H('KVM_IRQCHIP_IOAPIC'));
    assert.equal(IOAPIC_IOWIN, 0x10, 'IOAPIC IOWIN (82093AA datasheet)');
  });

  // x86 puts the ring at page 2; page 1 (KVM_PIO_PAGE_OFFSET) is the port-I/O data page.
  test('coalesced-MMIO ring page in the vCPU mapping (asm/kvm.h)', () => {
    assert.equal(KVM_COALESCED_MMIO_PAGE_OFFSET, H('KVM_COALESCED_MMIO_PAGE_OFFSET'));
  });

  test('struct kvm_run offsets and size', () => {
    for (const [field, off] of Object.entries(run)) assert.equal(off, H(`run.${field}`), `run.${field}`);
  });

  test('struct kvm_regs: size and register order', () => {
    assert.equal(REGS_SIZE, H('REGS_SIZE'));
    REGS.forEach((name, i) => assert.equal(i * 8, H(`regs.${name}`), name));
  });

  test('struct kvm_sregs: size, segment order, control registers', () => {
    assert.equal(SREGS_SIZE, H('SREGS_SIZE'));
    assert.equal(H('segment.size'), 24);
    SEGMENTS.forEach((name, i) => assert.equal(i * 24, H(`sregs.${name}`), name));
    for (const [name, off] of Object.entries(sregs)) assert.equal(off, H(`sregs.${name}`), name);
  });

  test('struct kvm_segment field offsets used by vcpu.ts', () => {
    const used = { base: 0, limit: 8, selector: 12, type: 14, present: 15, dpl: 16, db: 17, s: 18, l: 19, g: 20, avl: 21, unusable: 22 };
    for (const [name, off] of Object.entries(used)) assert.equal(off, H(`segment.${name}`), name);
  });

  test('struct kvm_irqchip size and the IOAPIC IOREGSEL offset', () => {
    assert.equal(IRQCHIP_SIZE, H('IRQCHIP_SIZE'));
    assert.equal(IOAPIC_IOREGSEL_OFFSET, H('irqchip.chip') + H('ioapic.ioregsel'));
  });

  test('struct kvm_cpuid_entry2 size and the kvm_cpuid2 header', () => {
    assert.equal(CPUID_ENTRY_SIZE, H('CPUID_ENTRY_SIZE'));
    assert.equal(H('cpuid2.entries'), 8, 'kvm.ts/vcpu.ts put entries after an 8-byte header');
  });

  test('layouts written as literals in vm.ts, vcpu.ts and kvm-stats.ts', () => {
    assert.equal(H('region.size'), 32);
    assert.deepEqual(['slot', 'flags', 'guest_phys_addr', 'memory_size', 'userspace_addr'].map((f) => H(`region.${f}`)), [0, 4, 8, 16, 24]);
    assert.equal(H('zone.size'), 16);
    assert.deepEqual([H('zone.addr'), H('zone.size_field')], [0, 8]);
    assert.equal(H('coalesced.size'), 24);
    assert.deepEqual([H('coalesced.phys_addr'), H('coalesced.len'), H('coalesced.data')], [0, 8, 16]);
    assert.equal(H('ring.entries'), 8);
    assert.equal(H('stats_header.size'), 24);
    assert.deepEqual(['name_size', 'num_desc', 'desc_offset', 'data_offset'].map((f) => H(`stats_header.${f}`)), [4, 8, 16, 20]);
    assert.deepEqual(['flags', 'size', 'offset', 'name'].map((f) => H(`stats_desc.${f}`)), [0, 6, 8, 16]);
  });
});
