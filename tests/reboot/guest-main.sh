#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2317  # the checks are called through check()
# The test of tests/integration/hostsetup-reboot.sh, inside the GPU host
# (the image of scripts/build-test-host-image.sh).  Its agent runs this at
# every boot, after multi-user.target, as `main DIR` (DIR: the test disk,
# read-only, with vmctl, config and gpuvm.yaml).  A state file on the root
# disk says which stage this boot runs; each stage ends by rebooting into
# the next one (a real reboot: QEMU resets, SeaBIOS, GRUB, the kernel and
# initramfs update-grub and update-initramfs wrote) or by powering off.
#
#   boot 1  setup       the host as installed: native drivers, no IOMMU
#                       arguments; vmctl host-setup GPU --yes (the safety
#                       net as a user gets it: the arguments armed for
#                       one boot, through ${vmctl_once} and 01_vmctl);
#                       reboot
#   boot 2  tried       the one-shot boot: the arguments on /proc/cmdline,
#                       GRUB cleared vmctl_try, both functions on vfio-pci,
#                       /dev/vfio/GROUP, host-check (ok, and a warning:
#                       confirm), gpu list "ready"; vmctl create of a VM
#                       with the GPU: both functions realized in the nested
#                       QEMU; stop, destroy; reboot WITHOUT --confirm
#   boot 3  fellback    the safety net: the old command line again, the
#                       functions on their own drivers, host-check says
#                       why, --confirm refused; vmctl host-setup GPU --yes
#                       again only arms one more trial; reboot
#   boot 4  retried     the arguments again; vmctl host-setup --confirm
#                       writes them for good (grub.cfg, no 01_vmctl, no
#                       vmctl_try); reboot
#   boot 5  confirmed   the arguments from grub.cfg itself, vfio-pci,
#                       host-check ok; vmctl host-setup --undo; reboot
#   boot 6  undone      no IOMMU arguments, the functions back on their
#                       drivers; power off
#
# A stage is a function stage_NAME; the host lists the stages in boot
# order (STAGES in tests/integration/hostsetup-reboot.sh).
#
# Results go to the second serial port (/dev/ttyS1, the console is
# ttyS0), one line each, read by the host:
#   HSTEST boot N stage NAME       a stage begins (boot N since the test began)
#   HSTEST ok - WHAT | HSTEST not ok - WHAT
#   HSTEST | ...                   details (command output, files)
#   HSTEST time WHAT SECONDS       how long a step took
#   HSTEST stage NAME done         the stage ended; a reboot or power-off follows
#   HSTEST abort WHY               nothing more can be tested; power-off follows
#   HSTEST finished                the last stage ended

set -u
DISK=${1:?usage: main TEST-DISK-DIR}
STATE=/var/lib/vmctl-test
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LC_ALL=C.UTF-8
# shellcheck source=/dev/null
. "$DISK/config"        # GPU_ID AUDIO_ID VMCTL_SHA256 QMP_PORT VM
export QMP_PORT
mkdir -p "$STATE"

exec 3>/dev/ttyS1
# A script that ends without next/finish/abort (a bug, a signal): say so
# and power off, so the host fails at once instead of at its timeout.
ENDED=""
# shellcheck disable=SC2154  # rc is the trap's own
trap 'rc=$?; if [ -z "$ENDED" ]; then ENDED=1; out "abort the test script ended early (exit $rc)"; systemctl poweroff; fi' EXIT
stty -F /dev/ttyS1 115200 -opost 2>/dev/null
out() { printf 'HSTEST %s\n' "$*" >&3; }
detail() { sed 's/^/HSTEST | /' >&3; }
FAILED=0
ok() { out "ok - $*"; }
notok() { out "not ok - $*"; FAILED=$((FAILED + 1)); }
# check WHAT CMD...: one assertion.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else notok "$what"; fi
}

# run NAME TIMEOUT CMD...: run a command (or one of our functions),
# bounded; its output as details while it runs (a slow step shows its
# progress), and in /tmp/NAME.out; RC its exit status.
run() {
	local name=$1 secs=$2 t0=$SECONDS
	shift 2
	out "| \$ $*"
	if [ "$(type -t "$1")" = function ]; then
		export -f "${1?}"
		set -- bash -c '"$@"' "$1" "$@"
	fi
	timeout -k 10 "$secs" "$@" 2>&1 | tee "/tmp/$name.out" | detail
	RC=${PIPESTATUS[0]}
	out "| (exit $RC, $((SECONDS - t0)) s)"
	out "time $name $((SECONDS - t0))"
	return "$RC"
}
# quiet NAME TIMEOUT CMD...: the same, output only in /tmp/NAME.out.
quiet() {
	local name=$1 secs=$2
	shift 2
	timeout -k 10 "$secs" "$@" >"/tmp/$name.out" 2>&1
	RC=$?
	return "$RC"
}
# hostcheck: `vmctl host-check --json` in /tmp/hostcheck.out, shown
# one line a check.
hostcheck() {
	quiet hostcheck 120 vmctl host-check --json
	out "| \$ vmctl host-check --json (exit $RC)"
	jq -r '.checks[] | "\(.status) \(.name): \(.message)"' /tmp/hostcheck.out 2>&1 | detail
}

# next BOOT-STAGE: this stage is done; the next boot runs BOOT-STAGE.
next() {
	ENDED=1
	out "stage $STAGE done"
	echo "$1" >"$STATE/stage.new" && mv "$STATE/stage.new" "$STATE/stage"
	sync
	systemctl reboot
	exit 0
}
finish() {
	ENDED=1
	out "stage $STAGE done"
	out "finished failed=$FAILED"
	echo finished >"$STATE/stage"
	sync
	systemctl poweroff
	exit 0
}
abort() {
	ENDED=1
	out "abort $*"
	echo aborted >"$STATE/stage"
	sync
	systemctl poweroff
	exit 1
}

# ---- facts -----------------------------------------------------------------

# The stand-in GPU's functions, by id: GPU (function 0) and AUDIO.
find_functions() {
	local d
	GPU="" AUDIO=""
	for d in /sys/bus/pci/devices/*; do
		case "$(cat "$d/vendor"):$(cat "$d/device")" in
		"0x${GPU_ID%:*}:0x${GPU_ID#*:}") GPU=${d##*/} ;;
		"0x${AUDIO_ID%:*}:0x${AUDIO_ID#*:}") AUDIO=${d##*/} ;;
		esac
	done
	[ -n "$GPU" ] && [ -n "$AUDIO" ] && [ "${GPU%.*}" = "${AUDIO%.*}" ]
}
driver_of() {
	local l
	l=$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null) || { echo none; return; }
	echo "${l##*/}"
}
group_of() {
	local l
	l=$(readlink "/sys/bus/pci/devices/$1/iommu_group" 2>/dev/null) || return 1
	echo "${l##*/}"
}
# drivers_are GPU-DRIVER AUDIO-DRIVER [SECONDS]: wait (udev may still be
# loading drivers) until both functions are on those drivers.
drivers_are() {
	local deadline=$((SECONDS + ${3:-60})) g a
	udevadm settle --timeout=60 2>/dev/null
	while :; do
		g=$(driver_of "$GPU") a=$(driver_of "$AUDIO")
		[ "$g" = "$1" ] && [ "$a" = "$2" ] && return 0
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "$GPU on $g, $AUDIO on $a; want $1, $2" | detail
			return 1
		fi
		sleep 1
	done
}
# "on" when the kernel made IOMMU groups, else "off".
iommu_state() {
	if [ -n "$(ls /sys/kernel/iommu_groups 2>/dev/null)" ]; then echo on; else echo off; fi
}
vfio_node() { [ -n "$1" ] && [ -c "/dev/vfio/$1" ]; }
cmdline_has() { grep -qw -- "$1" /proc/cmdline; }
cmdline_lacks() { ! grep -q -- "$1" /proc/cmdline; }
# The kernel arguments host-setup adds.
IOMMU_ARGS=(intel_iommu=on iommu=pt "vfio-pci.ids=$GPU_ID,$AUDIO_ID")
# The `linux` lines of grub.cfg; the first is the default entry's (the
# recovery entries have GRUB_CMDLINE_LINUX only, as they should).
grubcfg_linux() { grep -E '^[[:space:]]*linux[[:space:]]' /boot/grub/grub.cfg; }
default_entry_has() {
	local l
	l=$(grubcfg_linux | head -n 1)
	case " $l " in *" $1 "*) ;; *) echo "no $1 in: $l" | detail; return 1 ;; esac
}
no_linux_line_has() {
	! grubcfg_linux | grep -q -- "$1" || { grubcfg_linux | detail; return 1; }
}
# hostcheck_is NAME STATUS: that line of `vmctl host-check --json`.
hostcheck_is() {
	local got
	got=$(jq -r --arg n "$1" '.checks[] | select(.name == $n) | .status' \
		/tmp/hostcheck.out 2>/dev/null | head -n 1)
	[ "$got" = "$2" ] || { echo "host-check $1: '${got:-missing}', want $2" | detail; return 1; }
}
# Under TCG there is no KVM and no VT-x: host-check fails those two and
# must fail nothing else.
hostcheck_only_kvm_fails() {
	local bad
	bad=$(jq -r '.checks[] | select(.status == "fail") | .name' /tmp/hostcheck.out |
		grep -vx -e kvm -e cpu | tr '\n' ' ')
	[ -z "$bad" ] || { echo "host-check fails: $bad" | detail; return 1; }
}
gpu_verdict() {
	vmctl gpu list --json | jq -r --arg v "${GPU_ID%:*}" --arg d "${GPU_ID#*:}" \
		'.[] | select(.vendor_id == $v and .device_id == $d) | .verdict'
}
same_file() {   # same_file SAVED PATH: byte for byte, or both absent
	if [ -e "$1" ] || [ -e "$2" ]; then
		cmp -s -- "$1" "$2" || { diff -u -- "$1" "$2" | head -n 40 | detail; return 1; }
	fi
}
initrd_has() { lsinitramfs "/boot/initrd.img-$(uname -r)" | grep -q -- "$1"; }

# qmp_query CMD: CMD's reply on the nested QEMU's TCP monitor (bash
# /dev/tcp; QMP greets, then answers one JSON object a line).
qmp_query() {
	local line
	exec 4<>"/dev/tcp/127.0.0.1/$QMP_PORT" || return 1
	read -r -t 30 line <&4 || return 1
	printf '{"execute":"qmp_capabilities"}\n' >&4
	read -r -t 30 line <&4 || return 1
	printf '{"execute":"%s"}\n' "$1" >&4
	while read -r -t 60 line <&4; do
		case $line in *'"return"'*|*'"error"'*) printf '%s\n' "$line"; break ;; esac
	done
	exec 4<&-
}
# query-pci of the nested QEMU once its firmware has numbered the bus
# behind the GPU's root port: query-pci follows the buses the guest set
# up, so right after the start the functions behind a bridge whose
# secondary bus is still 0 are not listed (up to 120 s).
query_pci_behind_port() {
	local _
	for _ in $(seq 60); do
		qmp_query query-pci >/tmp/query-pci.try || return 1
		if jq -e '[.. | objects | select(.pci_bridge? != null)
			  | .pci_bridge.bus.secondary] | all(. > 0)' \
			/tmp/query-pci.try >/dev/null 2>&1; then
			cat /tmp/query-pci.try
			return 0
		fi
		sleep 2
	done
	cat /tmp/query-pci.try
	echo "the bridges were not numbered within 120 s"
	return 1
}

# realized VENDOR DEVICE (decimal, as QMP gives them): one such function
# in query-pci.
realized() {
	jq -e --argjson v "$1" --argjson d "$2" \
		'[.. | objects | select(.id? | type == "object") | .id
		  | select(.vendor == $v and .device == $d)] | length == 1' \
		/tmp/query-pci.out >/dev/null
}
nested_pid() {
	vmctl status "$VM" --json | jq -r '.pid // empty'
}
nested_holds() {   # nested_holds PATH
	local pid fd
	pid=$(nested_pid)
	[ -n "$pid" ] || return 1
	for fd in /proc/"$pid"/fd/*; do readlink "$fd"; done | grep -qx -- "$1"
}
nested_argv_has() {   # nested_argv_has ADDR: a vfio-pci device for it
	local pid
	pid=$(nested_pid)
	[ -n "$pid" ] || return 1
	tr '\0' '\n' <"/proc/$pid/cmdline" | grep -q -- "vfio-pci.*host=$1"
}

# ---- stages ------------------------------------------------------------------

stage_setup() {
	# vmctl as a user installs it: the binary under test, checked.
	install -m 0755 "$DISK/vmctl" /usr/local/bin/vmctl
	check "the vmctl under test is installed (sha256)" \
		[ "$(sha256sum /usr/local/bin/vmctl | cut -d' ' -f1)" = "$VMCTL_SHA256" ]
	check "vmctl finds all its libraries" eval '! ldd /usr/local/bin/vmctl | grep -q "not found"'
	check "booted by GRUB (BOOT_IMAGE on /proc/cmdline)" cmdline_has "BOOT_IMAGE=/boot/vmlinuz-$(uname -r)"
	local a
	for a in intel_iommu= iommu= vfio-pci.ids; do
		check "no $a on the first boot's command line" cmdline_lacks "$a"
	done
	check "both functions start on their own drivers (virtio-pci, snd_hda_intel)" \
		drivers_are virtio-pci snd_hda_intel
	# Whether this kernel turns the IOMMU on by itself (Debian's does for
	# VT-d): the fallback boot must be the same.
	iommu_state >"$STATE/iommu-at-install"
	out "| IOMMU without arguments: $(cat "$STATE/iommu-at-install")"
	run gpulist 120 vmctl gpu list
	check "gpu list: the GPU is bindable" [ "$(gpu_verdict)" = bindable ]
	hostcheck
	# What host-setup will change, to compare with what --undo leaves.
	mkdir -p "$STATE/orig"
	cp -p /etc/default/grub /etc/initramfs-tools/modules "$STATE/orig/"
	[ ! -e /etc/modprobe.d/vfio.conf ] || cp -p /etc/modprobe.d/vfio.conf "$STATE/orig/"

	run hostsetup 1200 vmctl host-setup "$GPU_ID" --yes
	check "vmctl host-setup $GPU_ID --yes exits 0" [ "$RC" = 0 ]
	[ "$RC" = 0 ] || abort "host-setup failed"
	grep -E '^GRUB_CMDLINE' /etc/default/grub | detail
	check "update-grub rebuilt grub.cfg (10_linux entries)" \
		grep -q '^### BEGIN /etc/grub.d/10_linux ###' /boot/grub/grub.cfg
	check "host-setup says the next boot only tries them, and how to keep them" \
		grep -q -- 'host-setup --confirm' /tmp/hostsetup.out
	check_armed
	# shellcheck disable=SC2016  # GRUB's variable, literally
	check "grub.cfg: the default entry carries \${vmctl_once}" default_entry_has '${vmctl_once}'
	check "grub.cfg: 01_vmctl's part is in it" grep -q 'save_env vmctl_try' /boot/grub/grub.cfg
	check "grub.cfg: no linux line has the arguments themselves" no_linux_line_has intel_iommu=
	check "the rebuilt initramfs has vfio-pci" initrd_has '/vfio-pci\.ko'
	check "the rebuilt initramfs has /etc/modprobe.d/vfio.conf" initrd_has 'etc/modprobe.d/vfio.conf$'
	next tried
}

# grubenv: vmctl_try, GRUB's one-shot variable, holds the arguments.
grubenv_try() { grub-editenv /boot/grub/grubenv list | sed -n 's/^vmctl_try=//p'; }
armed() {
	[ "$(grubenv_try)" = "${IOMMU_ARGS[*]}" ] ||
		{ grub-editenv /boot/grub/grubenv list | detail; return 1; }
}
check_armed() { check "grubenv: vmctl_try=${IOMMU_ARGS[*]} (the next boot tries them)" armed; }
check_disarmed() {
	check "grubenv: no vmctl_try (GRUB cleared it: one boot only)" [ -z "$(grubenv_try)" ]
}

# grub.cfg's default entry boots with the IOMMU arguments themselves.
check_grubcfg_args() {
	local a
	for a in "${IOMMU_ARGS[@]}"; do
		check "grub.cfg: the default entry boots with $a" default_entry_has "$a"
	done
	check "grub.cfg: no \${vmctl_once} left" no_linux_line_has 'vmctl_once'
	check "grub.cfg: no 01_vmctl part left" eval '! grep -q vmctl_try /boot/grub/grub.cfg'
	check "/etc/grub.d/01_vmctl is gone" [ ! -e /etc/grub.d/01_vmctl ]
}

# host-check's setup-args line says MESSAGE-PATTERN (grep -E).
hostcheck_says() {
	jq -r --arg n "$1" '.checks[] | select(.name == $n) | "\(.message) \(.fix // "")"' \
		/tmp/hostcheck.out | grep -qE -- "$2"
}

# The one-shot boot after host-setup.
stage_tried() {
	check_args_on_cmdline
	check_disarmed
	check_bound_from_boot
	check "host-check: setup-args warns that the arguments are only tried" \
		hostcheck_is setup-args warn
	check "host-check: ... and says how to keep them (--confirm)" \
		hostcheck_says setup-args 'only for this boot.*host-setup --confirm'
	check_vm_with_gpu
	# No --confirm: the next boot must come back without them.
	next fellback
}

# The boot after an unconfirmed trial: what a user gets after a trial
# boot that hung and was power-cycled.
stage_fellback() {
	local a
	check "booted by GRUB (BOOT_IMAGE on /proc/cmdline)" cmdline_has "BOOT_IMAGE=/boot/vmlinuz-$(uname -r)"
	for a in intel_iommu= iommu= vfio-pci.ids; do
		check "no $a on /proc/cmdline: the old command line is back" cmdline_lacks "$a"
	done
	check "the IOMMU is as before host-setup ($(cat "$STATE/iommu-at-install"))" \
		[ "$(iommu_state)" = "$(cat "$STATE/iommu-at-install")" ]
	if [ "$(iommu_state)" = on ]; then
		# modprobe.d binds them for good (only the arguments are tried).
		check "both functions on vfio-pci (the IOMMU is on without arguments)" \
			drivers_are vfio-pci vfio-pci
	else
		check "both functions on their own drivers (vfio-pci cannot take them without an IOMMU)" \
			drivers_are virtio-pci snd_hda_intel
	fi
	hostcheck
	check "host-check: setup-args warns (a trial that passed)" hostcheck_is setup-args warn
	check "host-check: ... and says to try again" hostcheck_says setup-args 'try them once more'
	run confirm-refused 120 vmctl host-setup --confirm --yes
	check "host-setup --confirm is refused (exit 1) without the arguments in effect" [ "$RC" = 1 ]
	check "... saying why" grep -q 'not in effect on this boot' /tmp/confirm-refused.out
	run rearm 600 vmctl host-setup "$GPU_ID" --yes
	check "vmctl host-setup $GPU_ID --yes again exits 0" [ "$RC" = 0 ]
	check "... and only arms one more trial (no update-grub, no update-initramfs)" \
		eval '! grep -qE "update-grub|update-initramfs" /tmp/rearm.out'
	check_armed
	next retried
}

# The second trial: confirm it.
stage_retried() {
	check_args_on_cmdline
	check_disarmed
	check "both functions on vfio-pci from boot" drivers_are vfio-pci vfio-pci
	run confirm 1200 vmctl host-setup --confirm --yes
	check "vmctl host-setup --confirm exits 0" [ "$RC" = 0 ]
	grep -E '^GRUB_CMDLINE' /etc/default/grub | detail
	check_grubcfg_args
	next confirmed
}

# The arguments for good.
stage_confirmed() {
	check_args_on_cmdline
	check_disarmed
	check_bound_from_boot
	check "host-check: setup-args ok (no trial now)" hostcheck_is setup-args ok
	undo_and_reboot
}

# The IOMMU arguments, through GRUB.
check_args_on_cmdline() {
	local a
	check "booted by GRUB (BOOT_IMAGE on /proc/cmdline)" cmdline_has "BOOT_IMAGE=/boot/vmlinuz-$(uname -r)"
	for a in "${IOMMU_ARGS[@]}"; do
		check "/proc/cmdline has $a" cmdline_has "$a"
	done
}

# Both functions on vfio-pci from boot; G: their IOMMU group.
check_bound_from_boot() {
	check "both functions on vfio-pci from boot" drivers_are vfio-pci vfio-pci
	G=$(group_of "$GPU")
	check "the GPU has an IOMMU group ($G)" [ -n "$G" ]
	check "both functions share it" [ "$(group_of "$AUDIO")" = "$G" ]
	check "/dev/vfio/$G exists" vfio_node "$G"
	hostcheck
	check "host-check: iommu ok" hostcheck_is iommu ok
	check "host-check: interrupt-remapping ok" hostcheck_is interrupt-remapping ok
	check "host-check: vfio ok" hostcheck_is vfio ok
	check "host-check: cmdline ok" hostcheck_is cmdline ok
	check "host-check fails nothing but kvm and cpu (TCG)" hostcheck_only_kvm_fails
	check "gpu list: the GPU is ready" [ "$(gpu_verdict)" = ready ]
}

# A VM with the GPU (not managed: it is on vfio-pci since boot).
check_vm_with_gpu() {
	run create 600 vmctl create "$DISK/gpuvm.yaml"
	check "vmctl create of a VM with the GPU exits 0" [ "$RC" = 0 ]
	if [ "$RC" = 0 ]; then
		export -f qmp_query   # run's bash -c sees exported functions only
		run query-pci 180 query_pci_behind_port
		# QMP's ids are decimal: 0x1af4:0x1050 = 6900:4176, 0x8086:0x293e = 32902:10558
		check "nested QEMU: $GPU_ID realized (query-pci)" realized $((0x${GPU_ID%:*})) $((0x${GPU_ID#*:}))
		check "nested QEMU: $AUDIO_ID realized (query-pci)" realized $((0x${AUDIO_ID%:*})) $((0x${AUDIO_ID#*:}))
		check "nested QEMU has vfio-pci for $GPU" nested_argv_has "$GPU"
		check "nested QEMU has vfio-pci for $AUDIO" nested_argv_has "$AUDIO"
		check "nested QEMU holds /dev/vfio/$G" nested_holds "/dev/vfio/$G"
		run stop 120 vmctl stop "$VM" --timeout 5
		check "vmctl stop exits 0" [ "$RC" = 0 ]
		check "after the stop both functions stay on vfio-pci (bound at boot)" \
			drivers_are vfio-pci vfio-pci 5
	fi
	run destroy 120 vmctl destroy "$VM" --force
	check "vmctl destroy exits 0" [ "$RC" = 0 ]
}

# host-setup --undo: every file as before host-setup, boot files rebuilt;
# then reboot into stage undone.
undo_and_reboot() {
	local a
	run undo 1200 vmctl host-setup --undo
	check "vmctl host-setup --undo exits 0" [ "$RC" = 0 ]
	check "/etc/default/grub restored byte for byte" same_file "$STATE/orig/grub" /etc/default/grub
	check "/etc/initramfs-tools/modules restored byte for byte" \
		same_file "$STATE/orig/modules" /etc/initramfs-tools/modules
	check "/etc/modprobe.d/vfio.conf as before (absent)" same_file "$STATE/orig/vfio.conf" /etc/modprobe.d/vfio.conf
	for a in intel_iommu= "vfio-pci.ids="; do
		check "no grub.cfg linux line has $a" no_linux_line_has "$a"
	done
	check "the rebuilt initramfs has no vfio.conf" eval '! initrd_has etc/modprobe.d/vfio.conf$'
	check "/etc/grub.d/01_vmctl is gone" [ ! -e /etc/grub.d/01_vmctl ]
	check "grubenv: no vmctl_try" [ -z "$(grubenv_try)" ]
	next undone
}

stage_undone() {
	local a
	check "booted by GRUB (BOOT_IMAGE on /proc/cmdline)" cmdline_has "BOOT_IMAGE=/boot/vmlinuz-$(uname -r)"
	for a in intel_iommu= iommu= vfio-pci.ids; do
		check "no $a on /proc/cmdline after --undo" cmdline_lacks "$a"
	done
	check "both functions back on their drivers (virtio-pci, snd_hda_intel)" \
		drivers_are virtio-pci snd_hda_intel
	check "vfio-pci is not loaded" [ ! -e /sys/module/vfio_pci ]
	check "gpu list: the GPU is bindable again" [ "$(gpu_verdict)" = bindable ]
	finish
}

# ---- main --------------------------------------------------------------------

STAGE=$(cat "$STATE/stage" 2>/dev/null) || STAGE=setup
BOOT=$(( $(cat "$STATE/boots" 2>/dev/null || echo 0) + 1 ))
echo "$BOOT" >"$STATE/boots"
case $STAGE in
finished|aborted) ENDED=1; echo "vmctl test: already $STAGE"; exit 0 ;;
esac
out "boot $BOOT stage $STAGE"
out "| kernel $(uname -r), up $(cut -d' ' -f1 /proc/uptime) s, systemd: $(systemd-analyze 2>/dev/null | head -n 1)"
out "| cmdline $(cat /proc/cmdline)"
find_functions || abort "no $GPU_ID + $AUDIO_ID in one slot: $(cd /sys/bus/pci/devices && echo *)"
out "| functions $GPU $AUDIO"
declare -F "stage_$STAGE" >/dev/null || abort "unknown stage '$STAGE'"
"stage_$STAGE"
