/* A minimal C KVM_RUN loop: the yardstick for the TypeScript VMM's own cost per exit.
 * It loads the exact guest RAM image the harness built (page tables, boot info, scan
 * program), enters the same CPL3 long-mode state, and answers every MMIO read with
 * all-ones (every port read too) until the guest writes the done port. It then prints the
 * guest's phase marks as JSON. Build: cc -O2 -o kvm-loop kvm-loop.c
 * Usage: kvm-loop IMAGE RAM_SIZE CODE INFO STACK MARKS RECORDS DONE_PORT [MODE WINDOW SIZE]
 * MODE: exit (no slot), ro4k / rothp (KVM_MEM_READONLY slot of 0xff over the window, 4 KiB
 * or THP-backed), ioapic (in-kernel IOAPIC with IOREGSEL 0xff; the image maps hole pages to it). */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) { fprintf(stderr, "kvm-loop: %s: %s\n", what, strerror(errno)); exit(1); }

int main(int argc, char **argv) {
  if (argc != 9 && argc != 12) { fprintf(stderr, "usage: kvm-loop IMAGE RAM_SIZE CODE INFO STACK MARKS RECORDS DONE_PORT [MODE WINDOW SIZE]\n"); return 2; }
  const char *mode = argc == 12 ? argv[9] : "exit";
  uint64_t window = argc == 12 ? strtoull(argv[10], 0, 0) : 0, window_size = argc == 12 ? strtoull(argv[11], 0, 0) : 0;
  size_t ram_size = strtoull(argv[2], 0, 0);
  uint64_t code = strtoull(argv[3], 0, 0), info = strtoull(argv[4], 0, 0), stack = strtoull(argv[5], 0, 0);
  uint64_t marks = strtoull(argv[6], 0, 0), records = strtoull(argv[7], 0, 0);
  unsigned done_port = strtoul(argv[8], 0, 0);

  int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) die("open /dev/kvm");
  int vm = ioctl(kvm, KVM_CREATE_VM, 0);
  if (vm < 0) die("KVM_CREATE_VM");
  uint8_t *ram = mmap(0, ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (ram == MAP_FAILED) die("mmap");
  /* As the harness does (runner/vmm/host-memory.ts guestRam): with THP "always" guest RAM would get
   * 2 MiB pages, KVM would map it with 2 MiB SPTEs, and RAM would not be 4 KiB as in the harness. */
  if (madvise(ram, ram_size, MADV_NOHUGEPAGE) < 0) die("madvise(MADV_NOHUGEPAGE) guest RAM");
  FILE *f = fopen(argv[1], "rb");
  if (!f) die("open image");
  if (fread(ram, 1, ram_size, f) != ram_size) die("read image");
  fclose(f);
  struct kvm_userspace_memory_region region = { .slot = 0, .guest_phys_addr = 0, .memory_size = ram_size, .userspace_addr = (uint64_t)ram };
  if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) die("KVM_SET_USER_MEMORY_REGION");
  if (!strcmp(mode, "ro4k") || !strcmp(mode, "rothp")) {
    uint8_t *w = mmap(0, window_size + (2u << 20), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (w == MAP_FAILED) die("mmap window");
    w = (uint8_t *)(((uintptr_t)w + (2u << 20) - 1) & ~(uintptr_t)((2u << 20) - 1));
    madvise(w, window_size, !strcmp(mode, "rothp") ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    memset(w, 0xff, window_size);
    struct kvm_userspace_memory_region ro = { .slot = 1, .flags = KVM_MEM_READONLY, .guest_phys_addr = window, .memory_size = window_size, .userspace_addr = (uint64_t)w };
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &ro) < 0) die("KVM_SET_USER_MEMORY_REGION (window)");
  } else if (!strcmp(mode, "ioapic")) {
    if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0) die("KVM_CREATE_IRQCHIP");
    struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_IOAPIC };
    if (ioctl(vm, KVM_GET_IRQCHIP, &chip) < 0) die("KVM_GET_IRQCHIP");
    chip.chip.ioapic.ioregsel = 0xff; /* IOWIN reads of a redirection entry past the last pin: ~0 */
    if (ioctl(vm, KVM_SET_IRQCHIP, &chip) < 0) die("KVM_SET_IRQCHIP");
  } else if (strcmp(mode, "exit")) { fprintf(stderr, "kvm-loop: unknown mode %s\n", mode); return 2; }
  int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
  if (vcpu < 0) die("KVM_CREATE_VCPU");
  int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  struct kvm_run *run = mmap(0, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
  if (run == MAP_FAILED) die("mmap kvm_run");

  int nent = 256;
  struct kvm_cpuid2 *cpuid = calloc(1, sizeof(*cpuid) + nent * sizeof(struct kvm_cpuid_entry2));
  cpuid->nent = nent;
  if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid) < 0) die("KVM_GET_SUPPORTED_CPUID");
  if (ioctl(vcpu, KVM_SET_CPUID2, cpuid) < 0) die("KVM_SET_CPUID2");

  struct kvm_sregs s;
  if (ioctl(vcpu, KVM_GET_SREGS, &s) < 0) die("KVM_GET_SREGS");
  struct kvm_segment cs = { .base = 0, .limit = 0xffffffff, .selector = 0x1b, .type = 11, .present = 1, .dpl = 3, .db = 0, .s = 1, .l = 1, .g = 1 };
  struct kvm_segment ds = { .base = 0, .limit = 0xffffffff, .selector = 0x23, .type = 3, .present = 1, .dpl = 3, .db = 1, .s = 1, .l = 0, .g = 1 };
  s.cs = cs; s.ds = s.es = s.fs = s.gs = s.ss = ds;
  s.cr0 = 0x80000031; s.cr3 = 0x1000; s.cr4 = 0x620; s.efer = 0x500;
  if (ioctl(vcpu, KVM_SET_SREGS, &s) < 0) die("KVM_SET_SREGS");
  struct kvm_regs r;
  memset(&r, 0, sizeof r);
  r.rip = code; r.rflags = 0x3002; r.rsp = stack; r.rsi = info; r.rdi = 0; r.r10 = info; r.r11 = records; r.r14 = marks;
  if (ioctl(vcpu, KVM_SET_REGS, &r) < 0) die("KVM_SET_REGS");

  unsigned long exits = 0;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    if (ioctl(vcpu, KVM_RUN, 0) < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      die("KVM_RUN");
    }
    if (run->exit_reason == KVM_EXIT_MMIO) {
      exits++;
      if (!run->mmio.is_write) memset(run->mmio.data, 0xff, run->mmio.len); /* as kvmtool and QEMU do */
      continue;
    }
    if (run->exit_reason == KVM_EXIT_IO) {
      if (run->io.port == done_port) break;
      exits++;
      if (run->io.direction == KVM_EXIT_IO_IN) memset((uint8_t *)run + run->io.data_offset, 0xff, run->io.size * run->io.count);
      continue;
    }
    fprintf(stderr, "kvm-loop: unexpected exit %u\n", run->exit_reason);
    return 1;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  long khz = ioctl(vcpu, KVM_GET_TSC_KHZ, 0);
  uint64_t *m = (uint64_t *)(ram + marks);
  uint64_t n = (m[0] - (marks + 8)) / 24;
  printf("{\"tscKhz\":%ld,\"exits\":%lu,\"hostRunNs\":%.0f,\"marks\":[", khz, exits, (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec));
  for (uint64_t i = 0; i < n; i++) {
    uint64_t *e = m + 1 + 3 * i;
    printf("%s[\"%llu\",%llu,%llu]", i ? "," : "", (unsigned long long)e[0], (unsigned long long)e[1], (unsigned long long)e[2]);
  }
  printf("]}\n");
  return 0;
}
