#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# vfio-real-kernel.sh - GPU passthrough on a real Linux kernel, under TCG.
#
# Boots Debian's kernel as a "GPU host" guest (scripts/build-vfio-host.sh):
# q35 with an emulated Intel IOMMU (interrupt remapping, caching mode) and
# a stand-in GPU in one multifunction slot behind a root port:
# virtio-gpu-pci (1af4:1050, driver virtio-pci) at function 0 and
# ich9-intel-hda (8086:293e, driver snd_hda_intel) at function 1.  vmctl,
# built in this tree, runs inside (tests/vfio/guest-main.sh is the guest's
# script; tests/vfio/rootfs/ its fake /etc and stand-ins for update-grub
# and update-initramfs).  Checked from the guest's serial console:
#
#  1. vmctl host-check sees the IOMMU and interrupt remapping;
#  2. vmctl gpu list --json: the GPU, both functions in one slot, one IOMMU
#     group, verdict "bindable";
#  3. vmctl host-setup 1af4:1050 --now --yes on a host where vfio-pci is
#     not loaded yet: both functions on vfio-pci, /dev/vfio/GROUP there,
#     GRUB's file, modprobe.d and initramfs-tools' modules edited, the
#     regeneration commands run; a second run changes nothing;
#  4. vmctl release: back on virtio-pci and snd_hda_intel;
#  5. vmctl create of a VM with the GPU (managed: true): a nested QEMU in
#     which both vfio-pci functions are realized (QMP query-pci), QEMU
#     holding /dev/vfio/GROUP; vmctl stop, and vmctl kill of a restarted
#     VM, give the functions back to their drivers; so does a start that
#     fails (QEMU refuses its command line) after vmctl bound them;
#  6. a second boot with the kernel command line GRUB would build from the
#     file host-setup wrote, loading the initramfs-tools modules first (as
#     the rebuilt initramfs would), then the native drivers: both functions
#     on vfio-pci from boot, verdict "ready";
#  7. a third boot without vfio-pci.ids but with the modprobe.d file
#     host-setup left: loading the native drivers (kmod, as udev would)
#     brings vfio-pci first with its ids: both functions on vfio-pci.
#
# The guest has Debian's kmod (modprobe reads the kernel command line,
# modprobe.d and softdeps, as on a real host); busybox runs the rest.
#
# Every check is reported (ok / not ok) and the test fails if any failed.
# Exit status: 0 pass, 1 fail, 77 skip (a prerequisite is missing).
#
# Environment:
#   VMCTL                the vmctl binary (default ./vmctl)
#   VMCTL_TEST_CACHE     cache directory for the guest parts
#   VFIO_BOOT_TIMEOUT    seconds for one boot of the GPU host (default 300)
#   VFIO_KEEP_LOGS=DIR   copy the serial logs there

TEST_NAME=vfio-real-kernel
# shellcheck source=tests/integration/lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

BOOT_TIMEOUT=${VFIO_BOOT_TIMEOUT:-300}
GPU_ID=1af4:1050
AUDIO_ID=8086:293e
BUILD=$ROOT/scripts/build-vfio-host.sh
FILES=$ROOT/tests/vfio

need qemu-system-x86_64 tmux jq base64 ldd apt-get dpkg-deb
[ -x "$VMCTL" ] || skip "$VMCTL not built (make)"
[ -x "$BUILD" ] || skip "$BUILD missing"
qemu-system-x86_64 -machine help 2>/dev/null | grep -q '^q35 ' ||
	skip "QEMU has no q35 machine"
qemu-system-x86_64 -device help 2>/dev/null | grep -q '"intel-iommu"' ||
	skip "QEMU has no intel-iommu device"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-vfio.XXXXXX")
QEMU_PIDFILE=$TMP/qemu.pid
WRAPPER=""

cleanup() {
	local rc=$? p
	set +e
	trap - EXIT
	if [ -n "$WRAPPER" ] && kill -0 "$WRAPPER" 2>/dev/null; then
		kill -TERM "$WRAPPER" 2>/dev/null
	fi
	if [ -s "$QEMU_PIDFILE" ]; then
		p=$(cat "$QEMU_PIDFILE")
		case $(cat "/proc/$p/comm" 2>/dev/null) in
		qemu*) kill -KILL "$p" 2>/dev/null ;;
		esac
	fi
	[ -z "$WRAPPER" ] || wait "$WRAPPER" 2>/dev/null
	if [ -n "${VFIO_KEEP_LOGS:-}" ]; then
		mkdir -p "$VFIO_KEEP_LOGS" && cp "$TMP"/serial*.log "$VFIO_KEEP_LOGS"/ 2>/dev/null
	fi
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# ---- build ---------------------------------------------------------------

t0=$(lc_ms)
PARTS=$("$BUILD" --vmctl "$VMCTL") || skip "cannot build the GPU-host guest"
mapfile -t PARTS <<<"$PARTS"
[ "${#PARTS[@]}" -eq 3 ] || fail "build-vfio-host.sh printed ${#PARTS[@]} paths, not 3"
KERNEL=${PARTS[0]}
CACHE=$(dirname -- "$KERNEL")
BUSYBOX=$CACHE/busybox
say "guest parts ready in $(( $(lc_ms) - t0 )) ms"

# make_cpio DIR OUT: a newc archive, padded for concatenation.
make_cpio() {
	(cd -- "$1" && find . -mindepth 1 | LC_ALL=C sort | sed 's|^\./||' |
		"$BUSYBOX" cpio -o -H newc -R 0:0 2>/dev/null) >"$2"
	local size
	size=$(stat -c %s -- "$2")
	[ $((size % 512)) -eq 0 ] || head -c $((512 - size % 512)) /dev/zero >>"$2"
}

# This build of vmctl and the test, in their own small archive.
mkdir -p "$TMP/part/usr/local/bin" "$TMP/part/test"
cp -a "$FILES/rootfs/." "$TMP/part/"
cp "$VMCTL" "$TMP/part/usr/local/bin/vmctl"
cp "$FILES/guest-main.sh" "$TMP/part/test/main"
# An option ROM for another vendor's card (NVIDIA 10de:1b80), well
# formed: gpuvm-badrom.yaml gives it to the stand-in GPU (1af4).
python3 - "$TMP/part/test/other.rom" <<'PY'
import struct, sys
rom = bytearray(512)
rom[0:3] = b"\x55\xaa\x01"
struct.pack_into("<H", rom, 0x18, 0x40)
rom[0x40:0x58] = (b"PCIR" + struct.pack("<HHHHB", 0x10de, 0x1b80, 0, 0x18, 3)
                  + bytes([0, 0, 3]) + struct.pack("<HHBB", 1, 0, 0, 0x80)
                  + struct.pack("<H", 0))
rom[511] = (-sum(rom[:511])) & 0xff
open(sys.argv[1], "wb").write(rom)
PY
chmod 755 "$TMP/part/test/main"
make_cpio "$TMP/part" "$TMP/test.cpio"

# ---- booting the GPU host ------------------------------------------------

# boot N CMDLINE [EXTRA-CPIO]: boot the GPU host, serial log in
# $TMP/serialN.log; waits until it powers off.
boot() {
	local n=$1 cmdline=$2 extra=${3:-} log=$TMP/serial$1.log rc t try
	cat "${PARTS[1]}" "${PARTS[2]}" "$TMP/test.cpio" ${extra:+"$extra"} >"$TMP/initrd$n"
	# Under heavy load TCG can be too slow for the kernel's early check
	# of the timer through the remapped IO-APIC (a panic before any of
	# the test ran): that boot, and only that, is tried once more.
	for try in 1 2; do
		rm -f "$QEMU_PIDFILE"
		t=$(lc_ms)
		timeout -k 5 "$BOOT_TIMEOUT" qemu-system-x86_64 \
			-machine q35,accel=tcg,kernel-irqchip=split \
			-cpu max,vendor=GenuineIntel -m 3G -smp 2 \
			-nodefaults -no-user-config -display none \
			-device intel-iommu,intremap=on,caching-mode=on \
			-device pcie-root-port,id=rp1,bus=pcie.0,chassis=1 \
			-device virtio-gpu-pci,bus=rp1,addr=00.0,multifunction=on \
			-device ich9-intel-hda,bus=rp1,addr=00.1 \
			-kernel "$KERNEL" -initrd "$TMP/initrd$n" -append "$cmdline" \
			-chardev file,id=ser0,path="$log" -serial chardev:ser0 \
			-pidfile "$QEMU_PIDFILE" -no-reboot </dev/null >"$TMP/qemu$n.out" 2>&1 &
		WRAPPER=$!
		rc=0
		wait "$WRAPPER" || rc=$?
		WRAPPER=""
		tr -d '\r' <"$log" >"$log.txt"
		say "boot $n: QEMU exited $rc after $(( $(lc_ms) - t )) ms"
		if [ "$try" = 1 ] && grep -q "timer doesn't work through Interrupt-remapped IO-APIC" "$log.txt"; then
			say "boot $n: the kernel's early timer check failed under load; booting again"
			continue
		fi
		break
	done
	if [ "$rc" -ne 0 ]; then
		sed 's/^/  qemu| /' "$TMP/qemu$n.out"
		tail -n 40 "$log.txt" | sed 's/^/  serial| /'
		fail "boot $n: QEMU exited $rc (124: timed out after $BOOT_TIMEOUT s)"
	fi
	grep -q "^VFIOTEST done boot=$n" "$log.txt" || {
		tail -n 60 "$log.txt" | sed 's/^/  serial| /'
		fail "boot $n: the guest did not finish its script"
	}
}

# ---- reading the serial log ----------------------------------------------

LOG=""
# block NAME: the output the guest printed for NAME.
block() {
	awk -v b="VFIOTEST begin=$1" -v e="VFIOTEST end=$1" '
		$0 == e { on = 0 } on { print } $0 == b { on = 1 }' "$LOG"
}
step_rc() {
	sed -n "s/^VFIOTEST step=$1 rc=\([0-9]*\)$/\1/p" "$LOG" | tail -n 1
}
# driver TAG FN: the driver of function FN (gpu|audio) at TAG.
driver() {
	sed -n "s/^VFIOTEST driver tag=$1 fn=$2 addr=[^ ]* driver=\([^ ]*\) .*/\1/p" "$LOG"
}
group_of() {
	sed -n "s/^VFIOTEST driver tag=$1 fn=$2 .* group=\([0-9]*\)$/\1/p" "$LOG"
}
vfio_nodes() {
	sed -n "s/^VFIOTEST vfio tag=$1 nodes=//p" "$LOG"
}
guest_file() {   # guest_file PATH [TAG]: a file the guest printed
	block "${2:-file}:$1" | base64 -d
}
show() {   # show NAME: print a block, indented
	block "$1" | sed "s/^/  $1| /"
	block "$1.err" | sed "s/^/  $1 (stderr)| /"
}

# timeline: when each step of the boot ended (seconds since its kernel
# started), e.g. "hostcheck@7.1 gpulist-json@7.9 ...".
timeline() {
	sed -n 's/^VFIOTEST time step=\([^ ]*\) end=\([0-9.]*\)$/\1@\2/p' "$LOG" |
		tr '\n' ' ' | fold -s -w 100 | sed 's/^/    /'
	echo
}

FAILED=0
check() {   # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then
		say "ok - $what"
	else
		say "not ok - $what"
		FAILED=$((FAILED + 1))
	fi
}
eq() { [ "$1" = "$2" ] || { say "    got '$1', want '$2'"; return 1; }; }
has() { grep -qE -- "$2" <<<"$1" || { say "    no /$2/ in:"; indent <<<"$1"; return 1; }; }
indent() { sed "s/^/    | /"; }
rc_nonzero() {
	local got
	got=$(step_rc "$1")
	case $got in
	""|0) say "    $1 exited '${got:-?}', want a failure"; show "$1"; return 1 ;;
	esac
}
rc_is() {
	local got
	got=$(step_rc "$1")
	[ "$got" = "$2" ] || { say "    $1 exited '${got:-?}', want $2:"; block "$1.err" | indent; return 1; }
}
drivers_are() {   # drivers_are TAG GPU-DRIVER AUDIO-DRIVER
	local g a
	g=$(driver "$1" gpu)
	a=$(driver "$1" audio)
	if [ "$g" != "$2" ] || [ "$a" != "$3" ]; then
		say "    at $1: gpu on '${g:-none}', audio on '${a:-none}'; want $2, $3"
		return 1
	fi
}

# gpulist_check NAME VERDICT: the stand-in GPU in `gpu list --json`, with
# both functions in one slot and one group.
gpulist_check() {
	local json want=$2
	json=$(block "$1")
	# -n + input: no output at all is a failure too
	jq -en --arg v "$want" '
		[input[] | select(.vendor_id == "1af4" and .device_id == "1050")] as $g
		| ($g | length) == 1
		and ($g[0].functions | length) == 2
		and ($g[0].functions[0].address | endswith(".0"))
		and ($g[0].functions[1].address | endswith(".1"))
		and ($g[0].functions[1].vendor_id == "8086")
		and ($g[0].functions[1].device_id == "293e")
		and ($g[0].functions[0].iommu_group != null)
		and ($g[0].functions[0].iommu_group == $g[0].functions[1].iommu_group)
		and ($g[0].verdict == $v)' <<<"$json" >/dev/null ||
		{ say "    $1:"; indent <<<"$json"; show "$1"; return 1; }
}

# ---- boot 1 ---------------------------------------------------------------

BOOT1_CMDLINE="console=ttyS0 intel_iommu=on iommu=pt panic=-1"
boot 1 "$BOOT1_CMDLINE"
LOG=$TMP/serial1.log.txt
say "boot 1 timeline:"
timeline

say "host-check (boot 1, vfio not loaded yet):"
show hostcheck
check "host-check: IOMMU on" has "$(block hostcheck)" '^ok +iommu '
check "host-check: interrupt remapping on" has "$(block hostcheck)" '^ok +interrupt-remapping '
check "host-check: reports the vfio modules" has "$(block hostcheck)" '^(ok|warn|fail) +vfio '
check "host-check: the GPU is bindable" has "$(block hostcheck)" '^ok +gpu .*bindable'

say "gpu list:"
show gpulist
check "boot 1 starts with gpu on virtio-pci, audio on snd_hda_intel" \
	drivers_are boot1-start virtio-pci snd_hda_intel
check "gpu list --json: both functions, one group, bindable" \
	gpulist_check gpulist-json bindable
check "gpu list --json: to_bind lists both functions" \
	eq "$(block gpulist-json | jq -c '[.[] | select(.device_id == "1050") | .to_bind | length][0]' 2>&1)" 2

say "host-setup $GPU_ID --now --yes:"
show hostsetup
GROUP=$(group_of boot1-start gpu)
check "host-setup --now exits 0" rc_is hostsetup 0
check "host-setup --now: both functions on vfio-pci" \
	drivers_are after-hostsetup vfio-pci vfio-pci
check "host-setup --now: /dev/vfio/$GROUP exists" \
	has "$(vfio_nodes after-hostsetup)" "(^| )$GROUP( |$)"
if grep -q '^VFIOTEST note recovering' "$LOG"; then
	say "  (the guest then loaded vfio-pci itself and ran vmctl bind, to go on)"
	show bind-recover
fi

GRUB=$(guest_file /etc/default/grub)
# --permanent (these boots are direct kernel boots, not GRUB's: the
# one-shot boot is hostsetup-reboot's): one line of vmctl's appended,
# adding what is missing to the effective GRUB_CMDLINE_LINUX_DEFAULT.
check "GRUB_CMDLINE_LINUX_DEFAULT gets intel_iommu=on iommu=pt vfio-pci.ids=$GPU_ID,$AUDIO_ID" \
	has "$GRUB" "^GRUB_CMDLINE_LINUX_DEFAULT=\"\\\$GRUB_CMDLINE_LINUX_DEFAULT intel_iommu=on iommu=pt vfio-pci.ids=$GPU_ID,$AUDIO_ID\"\$"
check "the rest of /etc/default/grub is kept byte for byte" \
	eq "$(grep -v '^GRUB_CMDLINE_LINUX_DEFAULT="\$\|^# vmctl host-setup' <<<"$GRUB")" \
	"$(cat "$FILES/rootfs/etc/default/grub")"
CONF=$(guest_file /etc/modprobe.d/vfio.conf)
check "modprobe.d/vfio.conf: options vfio-pci ids=$GPU_ID,$AUDIO_ID" \
	has "$CONF" "^options vfio-pci ids=$GPU_ID,$AUDIO_ID\$"
check "modprobe.d/vfio.conf: softdep virtio_pci pre: vfio-pci" \
	has "$CONF" '^softdep virtio_pci pre: vfio-pci$'
check "modprobe.d/vfio.conf: softdep snd_hda_intel pre: vfio-pci" \
	has "$CONF" '^softdep snd_hda_intel pre: vfio-pci$'
MODS=$(guest_file /etc/initramfs-tools/modules)
check "initramfs-tools/modules: vfio_pci vfio vfio_iommu_type1" \
	eq "$(grep -v '^#' <<<"$MODS" | awk '{print $1}' | tr '\n' ' ')" "vfio_pci vfio vfio_iommu_type1 "
REGEN=$(guest_file /var/log/vmctl-regen.log)
check "host-setup ran update-grub" has "$REGEN" '^update-grub$'
check "host-setup ran update-initramfs -u -k all" has "$REGEN" '^update-initramfs -u -k all$'
check "a second host-setup changes nothing" has "$(block hostsetup-again)" 'Already configured'
check "gpu list after binding: ready" gpulist_check gpulist-bound ready

show release
check "release exits 0" rc_is release 0
check "release: gpu back on virtio-pci, audio on snd_hda_intel" \
	drivers_are after-release virtio-pci snd_hda_intel
check "gpu list after release: bindable" gpulist_check gpulist-released bindable

say "create (managed GPU, vfio modules not loaded):"
show create
check "create exits 0 (vfio modules not loaded before)" rc_is create 0
if grep -q '^VFIOTEST note recovering: modprobe vfio-pci, create again' "$LOG"; then
	say "  (the guest then loaded vfio-pci itself and created the VM again, to go on)"
	show create-recover
fi
check "while the VM runs both functions are on vfio-pci" \
	drivers_are vm-running vfio-pci vfio-pci
check "the nested QEMU holds /dev/vfio/$GROUP" \
	has "$(block nested-fds)" "/dev/vfio/$GROUP( |$)"
# QEMU runs as vmctl-qemu, not root: real, effective, saved and fs uids.
creds_unprivileged() {
	local c uid
	c=$(block nested-creds)
	uid=$(awk -F: '/^vmctl-qemu:/ {print $3}' <<<"$c")
	[ -n "$uid" ] && [ "$uid" != 0 ] || { say "    no vmctl-qemu user:"; indent <<<"$c"; return 1; }
	has "$c" "^Uid:[[:space:]]+$uid[[:space:]]+$uid[[:space:]]+$uid[[:space:]]+$uid\$"
}
check "the nested QEMU runs as vmctl-qemu (Uid real/effective/saved/fs)" \
	creds_unprivileged
PCI=$(block query-pci)
# QMP gives ids in decimal: 0x1af4:0x1050 = 6900:4176, 0x8086:0x293e = 32902:10558
realized() {
	jq -en --argjson v "$1" --argjson d "$2" \
		'[input | .. | objects | select(.id? | type == "object") | .id
		  | select(.vendor == $v and .device == $d)] | length == 1' \
		<<<"$PCI" >/dev/null || { say "    query-pci:"; indent <<<"$PCI"; return 1; }
}
check "nested QEMU: vfio-pci $GPU_ID realized (query-pci)" realized 6900 4176
check "nested QEMU: vfio-pci $AUDIO_ID realized (query-pci)" realized 32902 10558
GPU_ADDR=$(sed -n 's/^VFIOTEST functions gpu=\([^ ]*\) .*/\1/p' "$LOG" | head -n 1)
show create-second
check "a second VM asking for the running VM's GPU is refused (exit 1)" \
	rc_is create-second 1
check "the refusal names the GPU and the VM holding it" \
	has "$(block create-second.err)" "^vmctl: GPU $GPU_ADDR is in use by VM \"gpuvm\"\$"
check "the first VM still runs" \
	has "$(block status-after-second)" '"state":[[:space:]]*"running"'
check "its functions are still on vfio-pci" \
	drivers_are after-create-second vfio-pci vfio-pci
check "its QEMU still holds /dev/vfio/$GROUP" \
	has "$(block nested-fds-after-second)" "/dev/vfio/$GROUP( |\$)"
show stop
check "stop exits 0" rc_is stop 0
check "stop gives the functions back (virtio-pci, snd_hda_intel)" \
	drivers_are after-stop virtio-pci snd_hda_intel
check "start exits 0" rc_is start 0
check "restarted VM: both functions on vfio-pci again" \
	drivers_are vm-restarted vfio-pci vfio-pci
check "kill exits 0" rc_is kill 0
check "kill gives the functions back (virtio-pci, snd_hda_intel)" \
	drivers_are after-kill virtio-pci snd_hda_intel
check "destroy exits 0" rc_is destroy 0
check "bind before a start exits 0" rc_is bind-prebound 0
show create-prebound
check "create over a card already on vfio-pci exits 0" rc_is create-prebound 0
check "it runs with both functions on vfio-pci" \
	drivers_are prebound-running vfio-pci vfio-pci
check "its stop exits 0" rc_is stop-prebound 0
check "a stop leaves a card that was on vfio-pci before the start there" \
	drivers_are after-stop-prebound vfio-pci vfio-pci
check "release then gives it back (virtio-pci, snd_hda_intel)" \
	drivers_are after-release-prebound virtio-pci snd_hda_intel
show create-badrom
check "a gpu.rom for another vendor's card is refused (exit 1)" \
	rc_is create-badrom 1
check "the refusal names the ROM's card" \
	has "$(block create-badrom.err)" "gpu\[0\]\.rom: /test/other.rom is for another card \(.*10de:1b80.*\), not 1af4:1050"
check "nothing was bound for it (virtio-pci, snd_hda_intel)" \
	drivers_are after-create-badrom virtio-pci snd_hda_intel
show create-bad
check "create of a VM whose QEMU cannot start fails" rc_nonzero create-bad
check "a failed start gives the functions back (virtio-pci, snd_hda_intel)" \
	drivers_are after-create-bad virtio-pci snd_hda_intel

# ---- boot 2: the kernel arguments host-setup planned ----------------------

KARGS=$(block grub-cmdline | tail -n 1)
say "boot 2 command line (from the GRUB file host-setup wrote): $KARGS"
check "planned kernel arguments" has "$KARGS" \
	"intel_iommu=on iommu=pt vfio-pci.ids=$GPU_ID,$AUDIO_ID"
# What host-setup left at the end of boot 1 goes into the next boots.
FINAL_GRUB=$(guest_file /etc/default/grub final)
FINAL_MODS=$(guest_file /etc/initramfs-tools/modules final)
FINAL_CONF=$(guest_file /etc/modprobe.d/vfio.conf final)
check "GRUB's file unchanged by the later steps" eq "$FINAL_GRUB" "$GRUB"
mkdir -p "$TMP/carry2/test" "$TMP/carry2/etc/default" "$TMP/carry2/etc/initramfs-tools"
: >"$TMP/carry2/test/boot2"
printf '%s\n' "$FINAL_GRUB" >"$TMP/carry2/etc/default/grub"
printf '%s\n' "$FINAL_MODS" >"$TMP/carry2/etc/initramfs-tools/modules"
# Not modprobe.d/vfio.conf: its ids would bind the functions whatever the
# kernel command line says, and that is what boot 2 tests (boot 3 tests
# the file).
make_cpio "$TMP/carry2" "$TMP/carry2.cpio"
boot 2 "$KARGS" "$TMP/carry2.cpio"
LOG=$TMP/serial2.log.txt
say "boot 2 timeline:"
timeline
check "boot 2 ran with exactly those arguments" eq "$(block cmdline)" "$KARGS"
check "boot 2: both functions on vfio-pci from boot" drivers_are boot2 vfio-pci vfio-pci
check "boot 2: gpu list says ready" gpulist_check gpulist2-json ready
show hostcheck2
check "boot 2: host-check: vfio modules loaded" has "$(block hostcheck2)" '^ok +vfio '
show release2
check "boot 2: release gives the functions to virtio-pci and snd_hda_intel" \
	drivers_are after-release2 virtio-pci snd_hda_intel

# ---- boot 3: host-setup's modprobe.d file alone ----------------------------

mkdir -p "$TMP/carry3/test" "$TMP/carry3/etc/modprobe.d"
: >"$TMP/carry3/test/boot3"
printf '%s\n' "$FINAL_CONF" >"$TMP/carry3/etc/modprobe.d/vfio.conf"
make_cpio "$TMP/carry3" "$TMP/carry3.cpio"
boot 3 "$BOOT1_CMDLINE" "$TMP/carry3.cpio"
LOG=$TMP/serial3.log.txt
say "boot 3 (modprobe.d/vfio.conf as boot 1 left it, no vfio-pci.ids):"
printf '%s\n' "$FINAL_CONF" | sed 's/^/  vfio.conf| /'
check "boot 3: loading the native drivers puts both functions on vfio-pci (softdep + options)" \
	drivers_are boot3 vfio-pci vfio-pci
check "boot 3: gpu list says ready" gpulist_check gpulist3-json ready

if [ "$FAILED" -gt 0 ]; then
	say "dmesg (boot 1):"
	LOG=$TMP/serial1.log.txt show dmesg
	fail "$FAILED check(s) failed"
fi
say "all checks passed"
