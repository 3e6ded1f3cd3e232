#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The libvirt backend's create against libvirt itself.  Reports, never
# asserts.
#
#   VMCTL=./vmctl tests/bench/libvirt.sh
#
# With the busybox test guest under TCG, BENCH_LIBVIRT_RUNS rounds (default
# 5), each timing, on the same machine in the same minute:
#   vmctl create     `vmctl --connect qemu:///system create SPEC` until it
#                    returns with the domain running (base already in the
#                    pool: the first, uploading create is not counted);
#                    it builds the overlay and the seed, uploads the seed
#                    and the boot files' digests are checked, defines and
#                    starts the domain
#   virsh create     `virsh create` of the domain XML that vmctl defined,
#                    on the same volumes (libvirt alone: the floor)
#   direct create    `vmctl create SPEC` on the direct backend (QEMU in
#                    tmux), until QMP says running
# and prints the median, minimum and maximum in milliseconds and the ratio
# of the medians, vmctl / virsh (the issue's target: 1.1 or less).  Needs
# root and a running libvirtd (scripts/libvirtd.sh start); otherwise it
# says so and exits 0.  Everything it made is removed at the end.
set -u
export LC_ALL=C
cd "$(dirname "$0")/../.." || exit 1

: "${VMCTL:=$PWD/vmctl}"
: "${BENCH_LIBVIRT_RUNS:=5}"
export VMCTL
TEST_NAME=bench-libvirt
# shellcheck source=../integration/lib.sh
. tests/integration/lib.sh
# shellcheck source=lib.sh
. tests/bench/lib.sh
set +e

URI=qemu:///system
vsh() { virsh -q -c "$URI" "$@"; }
if [ "$(id -u)" -ne 0 ] || ! vsh version >/dev/null 2>&1; then
	echo "libvirt bench: skipped (needs root and libvirtd: scripts/libvirtd.sh start)"
	exit 0
fi
case $BENCH_LIBVIRT_RUNS in
''|*[!0-9]*|0) echo "bench: BENCH_LIBVIRT_RUNS must be a count" >&2; exit 1 ;;
esac
GUEST=$(guest_dir 2>/dev/null) || { echo "libvirt bench: no test guest"; exit 0; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-bench-lv.XXXXXX")
vm=benchlv$$ base_name=
export VMCTL_STATE_DIR=$TMP/state VMCTL_TMUX_SOCKET=vmctl-bench-lv-$$
export VMCTL_HOSTS_FILE=$TMP/hosts.yaml
cleanup() {
	vsh destroy "$vm" >/dev/null 2>&1
	vsh undefine --nvram "$vm" >/dev/null 2>&1 || vsh undefine "$vm" >/dev/null 2>&1
	for v in "$vm.qcow2" "$vm-seed.iso"; do
		vsh vol-delete --pool vmctl "$v" >/dev/null 2>&1
	done
	if [ -n "$base_name" ]; then
		for v in $(vsh vol-list vmctl | awk '{ print $1 }' | grep -F -- "$base_name"); do
			vsh vol-delete --pool vmctl "$v" >/dev/null 2>&1
		done
	fi
	"$VMCTL" destroy --force "$vm" >/dev/null 2>&1
	tmux -L "$VMCTL_TMUX_SOCKET" kill-server >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT

# A base of its own, so that its volumes are this bench's to delete.
head -c 1M /dev/urandom > "$TMP/base.raw"
qemu-img convert -f raw -O qcow2 "$TMP/base.raw" "$TMP/base.qcow2"
base_name=base-sha256-$(sha256sum "$TMP/base.qcow2" | cut -d' ' -f1).qcow2
cat > "$TMP/spec.yaml" <<YAML
name: $vm
cpus: 1
memory: 128M
accel: tcg
disk: {image: $TMP/base.qcow2}
kernel:
  image: $GUEST/vmlinuz
  initrd: $GUEST/initrd.img
  cmdline: console=ttyS0 panic=-1 no_timer_check
network: {ssh_port: auto, ssh_listen: 127.0.0.1}
vnc: {listen: 127.0.0.1}
YAML

declare -A t
errors=()
ms_since() { local t1=$EPOCHREALTIME; echo $(( (10#${t1/./} - 10#${1/./}) / 1000 )); }
step() { # METRIC CMD...: run CMD and time it; 1 when it fails
	local m=$1 t0
	shift
	t0=$EPOCHREALTIME
	if ! "$@" >/dev/null 2>"$TMP/err"; then
		errors+=("$m: $(tail -n 1 "$TMP/err")")
		return 1
	fi
	t[$m]+="$(ms_since "$t0") "
}

# The uploading create, not counted.
"$VMCTL" --connect "$URI" create "$TMP/spec.yaml" >/dev/null 2>"$TMP/err" &&
	"$VMCTL" --connect "$URI" destroy --force "$vm" >/dev/null 2>&1 ||
	errors+=("first create: $(tail -n 1 "$TMP/err")")
for ((r = 1; r <= BENCH_LIBVIRT_RUNS && ${#errors[@]} == 0; r++)); do
	step vmctl "$VMCTL" --connect "$URI" create "$TMP/spec.yaml" || break
	# the same domain, by libvirt alone, on the same volumes
	vsh dumpxml --inactive --security-info "$vm" > "$TMP/domain.xml"
	vsh destroy "$vm" >/dev/null
	vsh undefine "$vm" >/dev/null
	step virsh vsh create "$TMP/domain.xml" || break
	vsh destroy "$vm" >/dev/null
	vsh define "$TMP/domain.xml" >/dev/null
	"$VMCTL" --connect "$URI" destroy --force "$vm" >/dev/null 2>&1
	step direct "$VMCTL" create "$TMP/spec.yaml" || break
	"$VMCTL" destroy --force "$vm" >/dev/null 2>&1
done

printf 'vmctl libvirt bench: %s, busybox guest under TCG, %d rounds (%s CPUs, load %s)\n' \
	"$VMCTL" "$BENCH_LIBVIRT_RUNS" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-16s %10s %10s %10s  %s\n' "create" "median ms" "min ms" "max ms" "what"
declare -A what=(
	[vmctl]="vmctl --connect $URI create (base in the pool)"
	[virsh]="virsh create of the same domain XML"
	[direct]="vmctl create, direct backend (QEMU in tmux)"
)
declare -A med
for m in vmctl virsh direct; do
	# shellcheck disable=SC2086
	read -r md mn mx < <(med_min_max ${t[$m]:-})
	med[$m]=$md
	printf '%-16s %10s %10s %10s  %s\n' "$m" "$md" "$mn" "$mx" "${what[$m]}"
done
if [ "${med[vmctl]}" != - ] && [ "${med[virsh]}" != - ]; then
	awk -v a="${med[vmctl]}" -v b="${med[virsh]}" \
		'BEGIN { printf "ratio vmctl/virsh: %.2f (target 1.10 or less)\n", a / b }'
fi
for e in "${errors[@]}"; do printf 'error: %s\n' "$e"; done
exit 0
