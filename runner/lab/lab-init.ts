// /init of the lab VM (busybox sh). It loads the modules listed in /modules/order (with their
// parameters), mounts the
// host's root read-only over 9p (cache=loose: without it node starts ~10x slower), gives it a
// fresh /proc, /sys, /dev, /tmp, mounts the shares (writable results, read-only folders the
// fresh /tmp would hide) and the job share, runs the
// job's run.sh in a chroot, writes its exit status to the job share, and powers off.
// Lines starting "pcihole-lab:" are read by the host side (runner/lab/lab-vm.ts).
export const LAB_INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
say() { echo "pcihole-lab: $*"; }
fail() { say "error: $*"; sync; poweroff -f; }
# /modules/order: one module per line, then its parameters (e.g. "kvm_amd npt=0").
while read -r m params; do
  case "$m" in
    kvm_amd) grep -qw svm /proc/cpuinfo || continue ;;
    kvm_intel) grep -qw vmx /proc/cpuinfo || continue ;;
  esac
  insmod /modules/$m.ko $params 2>/tmp.err || say "insmod $m failed: $(cat /tmp.err)"
done < /modules/order
[ -e /dev/kvm ] || say "warning: no /dev/kvm in the lab VM (the virtual CPU has neither svm nor vmx)"
o=trans=virtio,version=9p2000.L,msize=512000
mount -t 9p -o $o,cache=loose,ro hostroot /host || fail "cannot mount the host root over 9p"
mount -t proc proc /host/proc
mount -t sysfs sys /host/sys
mount -t devtmpfs dev /host/dev
mkdir -p /host/dev/shm /host/dev/pts
mount -t tmpfs shm /host/dev/shm
mount -t tmpfs tmp /host/tmp
# The job share is mounted outside the chroot first and bound into its /tmp last, so no share
# (a checkout or an --out folder under the host's /tmp) can hide it.
mkdir -p /job
mount -t 9p -o $o job /job || fail "cannot mount the job share"
while IFS="$(printf '\\t')" read -r tag path opts; do
  # Shares come parents first; one under /tmp needs its folder made in the guest's own tmpfs.
  # Read-only ones (a checkout under /tmp) are cached like the root: node starts ~10x faster.
  [ -n "$tag" ] || continue
  mkdir -p "/host$path" 2>/dev/null
  mount -t 9p -o $o,\${opts:-rw} "$tag" "/host$path" || fail "cannot mount $path"
done < /job/mounts
mkdir -p /host/tmp/.pcihole-lab
mount -o bind /job /host/tmp/.pcihole-lab || fail "cannot bind the job share"
tdp=$(cat /sys/module/kvm_amd/parameters/npt /sys/module/kvm_intel/parameters/ept 2>/dev/null)
say "ready $(uname -r) kvm=$(ls /sys/module | grep -E '^kvm_(amd|intel)$' | tr '\\n' ' ')tdp=\${tdp:-none}"
chroot /host /bin/sh /tmp/.pcihole-lab/run.sh
echo $? > /job/status
sync
poweroff -f
`;
