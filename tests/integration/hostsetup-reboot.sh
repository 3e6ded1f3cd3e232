#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# run.sh: beside
# (one QEMU with one vCPU for 15 minutes, nothing shared: it runs beside the
# rest of the suite, see tests/run.sh)
#
# hostsetup-reboot.sh - host-setup, a real reboot through GRUB, then create:
# GPU passthrough prepared as a user does it, under TCG.
#
# The GPU host is a Debian 12 disk image booted by SeaBIOS and GRUB
# (scripts/build-test-host-image.sh: grub-pc, initramfs-tools, systemd,
# udev, Debian's kernel, QEMU and tmux; built once, cached in
# /var/cache/vmctl-test/host-image), on q35 with an emulated Intel IOMMU
# (interrupt remapping) and a stand-in GPU in one multifunction slot behind
# a root port: virtio-gpu-pci (1af4:1050, driver virtio-pci) at function 0
# and ich9-intel-hda (8086:293e, driver snd_hda_intel) at function 1, one
# IOMMU group.  The image runs, at every boot, the `main` of a small second
# disk this test writes (tests/reboot/guest-main.sh, with the vmctl built
# in this tree, checked by sha256, and tests/reboot/gpuvm.yaml), which
# reports on a second serial port.  One QEMU process for the whole test;
# the guest reboots itself:
#
#   boot 1  vmctl host-setup 1af4:1050 --yes on the host as installed
#           (native drivers, no IOMMU arguments), the safety net as a
#           user gets it: /etc/default/grub (${vmctl_once}), grub.d/01_vmctl,
#           modprobe.d and initramfs-tools edited, update-grub and
#           update-initramfs run for real, vmctl_try armed in grubenv;
#           then `systemctl reboot`;
#   boot 2  the trial (SeaBIOS, GRUB running 01_vmctl from the grub.cfg
#           update-grub wrote): the IOMMU arguments on /proc/cmdline,
#           vmctl_try cleared by GRUB, both functions on vfio-pci from
#           boot, /dev/vfio/GROUP, host-check (and its "confirm" warning),
#           gpu list "ready"; vmctl create of a VM with the GPU (not
#           managed): both functions realized in the nested QEMU (QMP
#           query-pci), which holds /dev/vfio/GROUP; stop, destroy; a
#           reboot without --confirm;
#   boot 3  the fallback: the old command line, the functions on their
#           own drivers, --confirm refused; host-setup again arms one more
#           trial (nothing rebuilt); reboot;
#   boot 4  the arguments again; host-setup --confirm writes them into
#           grub.cfg for good; reboot;
#   boot 5  the arguments from grub.cfg itself; vmctl host-setup --undo
#           (files back byte for byte); reboot;
#   boot 6  no IOMMU arguments, both functions back on virtio-pci and
#           snd_hda_intel; power off.
#
# Every check is one "ok"/"not ok" line; the test fails if any failed, if
# a stage did not begin or end in time, or if a boot did not come through
# GRUB.  On failure: the tail of the serial console.  QEMU is killed on
# any exit.  Exit status: 0 pass, 1 fail, 77 skip (not root, a tool or
# the image cannot be had).
#
# Time, on 2 cores shared with other work, under TCG: the image builds in
# 2 to 6 minutes the first time (debootstrap and the packages: the
# mirror's speed and the load), then it is cached; each boot takes about a
# minute, update-grub plus update-initramfs 2 to 3 minutes for host-setup
# and again for --undo (thousands of short processes: TCG's slowest case),
# update-grub alone for --confirm; the whole test (6 boots) about 15 minutes.
#
# A new stage (one boot more): a stage_NAME in tests/reboot/guest-main.sh
# and its name in STAGES below, in boot order.
#
# Environment:
#   VMCTL                  the vmctl binary (default ./vmctl)
#   VMCTL_TEST_CACHE       cache directory (default /var/cache/vmctl-test)
#   REBOOT_BOOT_TIMEOUT    seconds from a stage's reboot to its start (default 420)
#   REBOOT_STAGE_TIMEOUT   seconds for one stage inside the guest (default 900)
#   REBOOT_KEEP_LOGS=DIR   copy the serial logs there

TEST_NAME=hostsetup-reboot
# shellcheck source=tests/integration/lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

BOOT_TIMEOUT=${REBOOT_BOOT_TIMEOUT:-420}
STAGE_TIMEOUT=${REBOOT_STAGE_TIMEOUT:-900}
GPU_ID=1af4:1050
AUDIO_ID=8086:293e
FILES=$ROOT/tests/reboot
# The guest's stages, one boot each, in order (tests/reboot/guest-main.sh).
STAGES=(setup tried fellback retried confirmed undone)

[ "$(id -u)" -eq 0 ] || skip "needs root (the image is built with debootstrap and chroot)"
need qemu-system-x86_64 qemu-img mke2fs timeout
[ -x "$VMCTL" ] || fail "$VMCTL: not built"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-reboot.XXXXXX")
QEMU_PID=""
cleanup() {
	local rc=$?
	set +e
	trap - EXIT
	if [ -n "$QEMU_PID" ] && kill -0 "$QEMU_PID" 2>/dev/null; then
		kill -KILL "$QEMU_PID" 2>/dev/null
		wait "$QEMU_PID" 2>/dev/null
	fi
	if [ -n "${REBOOT_KEEP_LOGS:-}" ]; then
		mkdir -p "$REBOOT_KEEP_LOGS" &&
			cp "$TMP"/serial.log "$TMP"/results.log "$TMP"/qemu.out "$REBOOT_KEEP_LOGS"/ 2>/dev/null
	fi
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# ---- the image ------------------------------------------------------------

t0=$SECONDS
rc=0
IMAGE=$("$ROOT/scripts/build-test-host-image.sh" --vmctl "$VMCTL" 2>"$TMP/build.log") || rc=$?
case $rc in
0) ;;
77) skip "cannot build the host image: $(tail -n 1 "$TMP/build.log")" ;;
*) sed 's/^/  build| /' "$TMP/build.log" | tail -n 40
   fail "scripts/build-test-host-image.sh exited $rc" ;;
esac
say "host image ready in $((SECONDS - t0)) s: $IMAGE"

# ---- the test disk ----------------------------------------------------------

mkdir -p "$TMP/disk"
cp "$VMCTL" "$TMP/disk/vmctl"
cp "$FILES/guest-main.sh" "$TMP/disk/main"
cp "$FILES/gpuvm.yaml" "$TMP/disk/gpuvm.yaml"
chmod 0755 "$TMP/disk/main" "$TMP/disk/vmctl"
cat >"$TMP/disk/config" <<EOF
GPU_ID=$GPU_ID
AUDIO_ID=$AUDIO_ID
VMCTL_SHA256=$(sha256sum "$VMCTL" | cut -d' ' -f1)
QMP_PORT=4444
VM=rebootvm
EOF
mke2fs -q -F -t ext4 -L VMCTLTEST -d "$TMP/disk" "$TMP/test.img" 64M >/dev/null ||
	fail "cannot make the test disk"
qemu-img create -q -f qcow2 -F qcow2 -b "$IMAGE" "$TMP/root.qcow2" ||
	fail "cannot make an overlay of $IMAGE"

# ---- the GPU host ------------------------------------------------------------

SERIAL=$TMP/serial.log
RESULTS=$TMP/results.log
: >"$SERIAL"
: >"$RESULTS"
T_START=$SECONDS
# No -no-reboot: a reboot of the guest resets the machine, QEMU goes on.
# One vCPU: on a busy host two vCPU threads wait for each other (TLB
# shootdowns at every exit of a process), and update-initramfs starts
# thousands of processes; one is about twice as fast here.
qemu-system-x86_64 \
	-machine q35,accel=tcg,kernel-irqchip=split \
	-cpu max,vendor=GenuineIntel -m 3G -smp 1 \
	-nodefaults -no-user-config -display none \
	-device intel-iommu,intremap=on,caching-mode=on \
	-device pcie-root-port,id=rp1,bus=pcie.0,chassis=1 \
	-device virtio-gpu-pci,bus=rp1,addr=00.0,multifunction=on \
	-device ich9-intel-hda,bus=rp1,addr=00.1 \
	-drive file="$TMP/root.qcow2",if=none,id=root,format=qcow2,cache=unsafe \
	-device virtio-blk-pci,drive=root,bootindex=0 \
	-drive file="$TMP/test.img",if=none,id=test,format=raw,readonly=on \
	-device virtio-blk-pci,drive=test \
	-chardev file,id=ser0,path="$SERIAL" -serial chardev:ser0 \
	-chardev file,id=ser1,path="$RESULTS" -serial chardev:ser1 \
	</dev/null >"$TMP/qemu.out" 2>&1 &
QEMU_PID=$!

# The results, \r removed (the guest's tty adds none, but be sure).
results() { tr -d '\r' <"$RESULTS"; }
# The serial console without GRUB's and the kernel's control sequences.
console() { tr -d '\r' <"$SERIAL" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1b[()][0-9A-Za-z]//g'; }

SHOWN=0
# pump: print the result lines not printed yet.
pump() {
	local n
	n=$(results | wc -l)
	[ "$n" -gt "$SHOWN" ] || return 0
	results | sed -n "$((SHOWN + 1)),${n}p" | sed 's/^HSTEST /  guest: /'
	SHOWN=$n
}

diagnose() {
	pump
	say "serial console (last 60 lines):"
	console | tail -n 60 | sed 's/^/  serial| /'
	[ ! -s "$TMP/qemu.out" ] || sed 's/^/  qemu| /' "$TMP/qemu.out"
}

# wait_line REGEX SECONDS WHAT: until a result line matches; fails on
# timeout, on an abort from the guest, or when QEMU is gone.
wait_line() {
	local deadline=$((SECONDS + $2))
	while ! results | grep -qE -- "$1"; do
		pump
		if results | grep -q '^HSTEST abort'; then
			diagnose
			fail "$3: the guest gave up: $(results | sed -n 's/^HSTEST abort //p')"
		fi
		if ! kill -0 "$QEMU_PID" 2>/dev/null; then
			diagnose
			fail "$3: QEMU exited"
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			diagnose
			fail "$3: not within $2 s"
		fi
		sleep 2
	done
	pump
}

boot=0
for stage in "${STAGES[@]}"; do
	boot=$((boot + 1))
	t=$SECONDS
	wait_line "^HSTEST boot $boot stage $stage\$" "$BOOT_TIMEOUT" "boot $boot (stage $stage)"
	say "boot $boot: stage $stage began after $((SECONDS - t)) s"
	t=$SECONDS
	wait_line "^HSTEST stage $stage done\$" "$STAGE_TIMEOUT" "stage $stage"
	say "stage $stage took $((SECONDS - t)) s"
done
wait_line '^HSTEST finished' 30 "the end of the test"
t=$SECONDS
qemu_gone() { ! kill -0 "$QEMU_PID" 2>/dev/null; }
wait_for 120 qemu_gone || {
	diagnose
	fail "the guest did not power off within 120 s"
}
rc=0
wait "$QEMU_PID" || rc=$?
QEMU_PID=""
say "the guest powered off after $((SECONDS - t)) s; QEMU exited $rc; $((SECONDS - T_START)) s in all"

# ---- verdict -----------------------------------------------------------------

FAILED=0
host_check() {   # host_check WHAT CMD...: a check on the host's side
	local what=$1
	shift
	if "$@"; then say "ok - $what"; else say "not ok - $what"; FAILED=$((FAILED + 1)); fi
}
host_check "QEMU exited 0 (the guest powered off)" [ "$rc" -eq 0 ]
# GRUB prints "Loading Linux" on the serial line at every boot: the
# image's first grub.cfg, then those update-grub wrote in the guest.
grub_boots=$(console | grep -c "Loading Linux ") || true
host_check "every boot came through GRUB ($grub_boots of ${#STAGES[@]})" \
	[ "$grub_boots" -eq "${#STAGES[@]}" ]
updategrub_boots=$(console | grep "Loading Linux " | grep -vc "image builder") || true
host_check "the later boots used grub.cfg from update-grub" \
	[ "$updategrub_boots" -eq $((${#STAGES[@]} - 1)) ]
n_ok=$(results | grep -c '^HSTEST ok - ') || true
n_bad=$(results | grep -c '^HSTEST not ok - ') || true
host_check "the guest's checks: $n_ok ok, $n_bad not ok" [ "$n_bad" -eq 0 -a "$n_ok" -gt 0 ]
if [ "$n_bad" -gt 0 ]; then
	say "failed in the guest:"
	results | sed -n 's/^HSTEST not ok - /  /p'
fi
if [ "$FAILED" -gt 0 ]; then
	diagnose
	fail "$FAILED check(s) failed"
fi
say "all checks passed"
