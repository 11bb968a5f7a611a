#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# tests/kernel/qemu-6.1.sh - `make check-kernel`: the BPF object loads and
# attaches on Debian 12's own Linux 6.1, booted under qemu.
#
#   tests/kernel/qemu-6.1.sh        (after `make`; root, to install what is missing)
#
# Downloads the newest linux-image-6.1.0-N-amd64 of bookworm and
# bookworm-security (`apt-get download`, unpacked with dpkg-deb into
# $OUTPUT/kernel/, kept there for the next run), builds an initramfs of
# busybox-static, .output/reqacct, bpftool and their shared libraries, and
# boots it (KVM if /dev/kvm works, TCG otherwise) with tests/kernel/init.sh as
# /init: the agent with its defaults, traffic, a scrape, SIGTERM. Exits 0 on
# the guest's PASS line, 1 otherwise (with the serial log's tail). Without
# what it needs it skips (exit 77), or fails under CI=true.
#
# Environment: OUTPUT (default .output), KERNEL_TEST_TIMEOUT (seconds the
# guest may run, default 300), KERNEL_TEST_ACCEL (auto, kvm or tcg).
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${OUTPUT:-$ROOT/.output}
case $OUT in /*) ;; *) OUT=$ROOT/$OUT ;; esac
CACHE=$OUT/kernel
WORK=$OUT/kernel/run
TIMEOUT=${KERNEL_TEST_TIMEOUT:-300}
ACCEL=${KERNEL_TEST_ACCEL:-auto}
VERDICT=REQACCT-KERNEL-TEST
start=$(date +%s)

say() { echo "check-kernel: $*"; }
skip() {
	if [ "${CI:-}" = true ]; then
		say "FAIL: $* (CI=true: a test that cannot run fails)"
		exit 1
	fi
	say "skip: $*"
	exit 77
}

[ -x "$OUT/reqacct" ] || skip "no $OUT/reqacct (run make first)"
BPFTOOL=$(command -v bpftool || echo /usr/sbin/bpftool)

# What the test needs from Debian, installed only if missing.
need=
dpkg-query -W -f='${Status}' qemu-system-x86 2>/dev/null | grep -q "ok installed" ||
	need="$need qemu-system-x86"
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q "ok installed" ||
	need="$need busybox-static"
[ -x "$BPFTOOL" ] || need="$need bpftool"
apt_updated=
if [ -n "$need" ]; then
	[ "$(id -u)" = 0 ] || skip "needs root to install:$need"
	say "installing:$need"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq || skip "apt-get update failed"
	apt_updated=1
	apt-get install -y -qq --no-install-recommends $need > /dev/null ||
		skip "apt-get install$need failed"
fi
BPFTOOL=$(command -v bpftool || echo /usr/sbin/bpftool)

# The kernel: the newest linux-image-6.1.0-N-amd64 the package lists know.
newest_kernel() {
	apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' 2>/dev/null |
		cut -d' ' -f1 | sort -V | tail -1
}
pkg=$(newest_kernel)
if [ -z "$pkg" ] && [ -z "$apt_updated" ] && [ "$(id -u)" = 0 ]; then
	apt-get update -qq || skip "apt-get update failed"
	apt_updated=1
	pkg=$(newest_kernel)
fi
[ -n "$pkg" ] || skip "no linux-image-6.1.0-N-amd64 in the package lists (apt-get update?)"
kdir=$CACHE/$pkg
if [ ! -e "$kdir/.done" ]; then
	say "downloading $pkg"
	rm -rf "$kdir" "$CACHE/dl"
	mkdir -p "$CACHE/dl"
	chmod 755 "$CACHE/dl"	# apt-get download runs as _apt when it can
	if ! (cd "$CACHE/dl" && apt-get download -qq "$pkg" 2> download.err); then
		if [ -z "$apt_updated" ] && [ "$(id -u)" = 0 ]; then
			apt-get update -qq || skip "apt-get update failed"
			(cd "$CACHE/dl" && apt-get download -qq "$pkg") || skip "apt-get download $pkg failed"
		else
			cat "$CACHE/dl/download.err" >&2
			skip "apt-get download $pkg failed"
		fi
	fi
	# Only /boot (the kernel and its config): BTF is in the image, and the
	# test needs no module (the modules are 390 MB unpacked).
	mkdir -p "$kdir"
	dpkg-deb --fsys-tarfile "$CACHE"/dl/"$pkg"_*.deb | tar -x -C "$kdir" ./boot
	rm -rf "$CACHE/dl"
	touch "$kdir/.done"
	# Older kernels' trees are not needed any more.
	for d in "$CACHE"/linux-image-*; do
		[ "$d" = "$kdir" ] || rm -rf "$d"
	done
fi
kver=${pkg#linux-image-}
vmlinuz=$kdir/boot/vmlinuz-$kver
kconfig=$kdir/boot/config-$kver
[ -f "$vmlinuz" ] || { say "FAIL: no $vmlinuz in $pkg"; exit 1; }
for opt in CONFIG_DEBUG_INFO_BTF CONFIG_BPF_SYSCALL CONFIG_CGROUP_BPF CONFIG_BPF_JIT \
	CONFIG_BLK_DEV_INITRD CONFIG_SERIAL_8250_CONSOLE; do
	grep -q "^$opt=y" "$kconfig" || { say "FAIL: $kconfig lacks $opt=y"; exit 1; }
done
say "kernel $kver ($pkg), $(sed -n 's/^CONFIG_DEBUG_INFO_BTF=//p' "$kconfig" |
	sed 's/y/BTF built in/')"

# The initramfs: busybox and its applets, reqacct, bpftool, their libraries.
rm -rf "$WORK"
mkdir -p "$WORK/root/bin" "$WORK/root/etc" "$WORK/root/proc" "$WORK/root/sys" \
	"$WORK/root/dev" "$WORK/root/tmp"
R=$WORK/root
cp /bin/busybox "$R/bin/busybox"
file -L /bin/busybox 2>/dev/null | grep -q dynamic && skip "/bin/busybox is not busybox-static"
for a in $(/bin/busybox --list); do
	[ -e "$R/bin/$a" ] || ln -s busybox "$R/bin/$a"
done
cp "$OUT/reqacct" "$R/bin/reqacct"
cp "$BPFTOOL" "$R/bin/bpftool"
for lib in $(ldd "$OUT/reqacct" "$BPFTOOL" | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) .*/\1/p' |
	sort -u); do
	mkdir -p "$R$(dirname "$lib")"
	cp -L "$lib" "$R$lib"
done
cp "$ROOT/tests/kernel/init.sh" "$R/init"
chmod 755 "$R/init"
echo "root:x:0:0:root:/:/bin/sh" > "$R/etc/passwd"
(cd "$R" && find . | /bin/busybox cpio -o -H newc 2> /dev/null) | gzip -1 > "$WORK/initrd.gz"
say "initramfs $(du -k "$WORK/initrd.gz" | cut -f1) KiB"

# Boot, under KVM if /dev/kvm is a device that opens and a guest reaches
# /init there within KVM_BOOT_S seconds (nested KVM can hang in early boot:
# then TCG, and $CACHE/kvm-hangs-<host kernel> remembers it; a qemu that
# cannot use KVM exits: then TCG too), else under TCG.
log=$WORK/serial.log
KVM_BOOT_S=30
kvm_hangs=$CACHE/kvm-hangs-$(uname -r)
if [ "$ACCEL" = auto ]; then
	ACCEL=tcg
	if [ -e "$kvm_hangs" ]; then
		say "KVM hung here before ($kvm_hangs): TCG"
	elif [ -c /dev/kvm ] && { : <> /dev/kvm; } 2> /dev/null; then	# <> creates a missing file
		ACCEL=kvm
		watch_kvm=1
	fi
fi
boot() {
	say "booting under qemu (accel $1, timeout ${TIMEOUT}s), serial log $log"
	: > "$log"
	timeout "$TIMEOUT" qemu-system-x86_64 -machine q35,accel="$1" -cpu max -smp 2 -m 1024 \
		-kernel "$vmlinuz" -initrd "$WORK/initrd.gz" \
		-append "console=ttyS0 panic=-1 loglevel=4 quiet" \
		-display none -monitor none -serial "file:$log" -no-reboot -nic none \
		> "$WORK/qemu.out" 2>&1 &
	qpid=$!
}
qpid=
trap '[ -z "$qpid" ] || kill -TERM $qpid 2> /dev/null || true' EXIT
trap 'exit 130' INT TERM
rc=0
boot "$ACCEL"
if [ -n "${watch_kvm:-}" ]; then
	i=0
	while [ $i -lt $KVM_BOOT_S ] && kill -0 $qpid 2> /dev/null && ! grep -q "^RKT " "$log"; do
		sleep 1
		i=$((i + 1))
	done
	if ! grep -q "^RKT " "$log"; then
		if kill -0 $qpid 2> /dev/null; then
			say "no /init under KVM after ${KVM_BOOT_S}s: stopping it, TCG instead"
			kill -TERM $qpid
			touch "$kvm_hangs"
		else
			say "qemu could not run under KVM: TCG instead"
			sed 's/^/check-kernel: qemu: /' "$WORK/qemu.out"
		fi
		wait $qpid || true
		ACCEL=tcg
		boot tcg
	fi
fi
wait $qpid || rc=$?
[ ! -s "$WORK/qemu.out" ] || sed 's/^/check-kernel: qemu: /' "$WORK/qemu.out"
elapsed=$(($(date +%s) - start))
[ "$rc" != 124 ] || say "qemu still running after ${TIMEOUT}s: stopped"
[ "$rc" = 0 ] || [ "$rc" = 124 ] || say "qemu exited with $rc"

tr -d '\r' < "$log" | sed -n 's/^RKT //p'
line=$(tr -d '\r' < "$log" | grep -a "^$VERDICT: " | tail -1 || true)
case $line in
"$VERDICT: PASS"*)
	say "${line#"$VERDICT: "} (${elapsed}s)"
	exit 0 ;;
*)
	say "the serial log's last 60 lines:"
	tr -d '\r' < "$log" | tail -60
	say "${line:-FAIL: no verdict from the guest (kernel $kver)} (${elapsed}s)"
	exit 1 ;;
esac
