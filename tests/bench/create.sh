#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `vmctl create` side by side with the floor under it and with libvirt,
# behind `make bench`.  Reports, never asserts.
#
#   VMCTL=./vmctl tests/bench/create.sh
#
# With the busybox test guest on a 1M qcow2 base under TCG, BENCH_CREATE_RUNS
# rounds (default 7), each timing in turn, on the same machine in the same
# minute (the order interleaved, so the load falls on all alike):
#   floor          what any launcher of this VM must do (floor.py): qemu-img
#                  create of the overlay, QEMU started with the exact argv
#                  `vmctl cmdline --json` prints, QMP asked until it says
#                  running; its own start-up not counted
#   direct         `vmctl create SPEC` (QEMU in tmux) until it returns with
#                  QMP saying running
# and, as root with a libvirtd answering on qemu:///system
# (scripts/libvirtd.sh start):
#   libvirt        `vmctl --connect qemu:///system create SPEC` until it
#                  returns with the domain running (base already in the
#                  pool: the first, uploading create is not counted)
#   virsh          `virsh create` of the domain XML vmctl defined, on the
#                  same volumes (libvirt alone)
# It prints the median, minimum and maximum in milliseconds and the ratios
# of the medians the issues set targets for: direct/floor (1.25 or less),
# direct/virsh (0.3 or less), libvirt/virsh (1.10 or less).  To reproduce
# the floor by hand, see tests/bench/README.  Everything it made is
# removed at the end.
set -u
export LC_ALL=C
cd "$(dirname "$0")/../.." || exit 1

: "${VMCTL:=$PWD/vmctl}"
: "${BENCH_CREATE_RUNS:=7}"
export VMCTL
TEST_NAME=bench-create
# shellcheck source=../integration/lib.sh
. tests/integration/lib.sh
# shellcheck source=lib.sh
. tests/bench/lib.sh
set +e

case $BENCH_CREATE_RUNS in
''|*[!0-9]*|0) echo "bench: BENCH_CREATE_RUNS must be a count" >&2; exit 1 ;;
esac
GUEST=$(guest_dir 2>/dev/null) || { echo "create bench: no test guest"; exit 0; }
URI=qemu:///system
vsh() { virsh -q -c "$URI" "$@"; }
libvirt=false
if [ "$(id -u)" -eq 0 ] && command -v virsh >/dev/null &&
   vsh version >/dev/null 2>&1; then
	libvirt=true
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-bench-create.XXXXXX")
vm=benchcr$$ floorvm=benchfl$$ base_name=
export VMCTL_STATE_DIR=$TMP/state VMCTL_TMUX_SOCKET=vmctl-bench-create-$$
export VMCTL_HOSTS_FILE=$TMP/hosts.yaml
cleanup() {
	if $libvirt; then
		vsh destroy "$vm" >/dev/null 2>&1
		vsh undefine --nvram "$vm" >/dev/null 2>&1 ||
			vsh undefine "$vm" >/dev/null 2>&1
		for v in "$vm.qcow2" "$vm-seed.iso" "$vm-serial.log"; do
			vsh vol-delete --pool vmctl "$v" >/dev/null 2>&1
		done
		if [ -n "$base_name" ]; then
			for v in $(vsh vol-list vmctl | awk '{ print $1 }' |
				   grep -F -- "$base_name"); do
				vsh vol-delete --pool vmctl "$v" >/dev/null 2>&1
			done
		fi
	fi
	"$VMCTL" destroy --force "$vm" >/dev/null 2>&1
	"$VMCTL" destroy --force "$floorvm" >/dev/null 2>&1
	tmux -L "$VMCTL_TMUX_SOCKET" kill-server >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# A base of its own, so that its volumes are this bench's to delete.
head -c 1M /dev/urandom > "$TMP/base.raw"
qemu-img convert -f raw -O qcow2 "$TMP/base.raw" "$TMP/base.qcow2"
base_name=base-sha256-$(sha256sum "$TMP/base.qcow2" | cut -d' ' -f1).qcow2
spec() {
	cat <<YAML
name: $1
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
}
spec "$vm" > "$TMP/spec.yaml"
spec "$floorvm" > "$TMP/floor.yaml"

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

# The floor's VM: its directory, made by vmctl (as QEMU's user can use it),
# and QEMU's argv for it.
"$VMCTL" create --no-start "$TMP/floor.yaml" >/dev/null 2>"$TMP/err" ||
	errors+=("floor VM: $(tail -n 1 "$TMP/err")")
"$VMCTL" cmdline --json "$TMP/floor.yaml" > "$TMP/floor-argv.json" 2>"$TMP/err" ||
	errors+=("floor argv: $(tail -n 1 "$TMP/err")")
floor() {
	local ms
	ms=$(python3 tests/bench/floor.py "$TMP/floor-argv.json" \
		"$VMCTL_STATE_DIR/vms/$floorvm" "$TMP/base.qcow2" 2>"$TMP/err") ||
		{ errors+=("floor: $(tail -n 1 "$TMP/err")"); return 1; }
	t[floor]+="$ms "
}

if $libvirt; then
	# The uploading create, not counted.
	"$VMCTL" --connect "$URI" create "$TMP/spec.yaml" >/dev/null 2>"$TMP/err" &&
		"$VMCTL" --connect "$URI" destroy --force "$vm" >/dev/null 2>&1 ||
		errors+=("first libvirt create: $(tail -n 1 "$TMP/err")")
fi
for ((r = 1; r <= BENCH_CREATE_RUNS && ${#errors[@]} == 0; r++)); do
	floor || break
	step direct "$VMCTL" create "$TMP/spec.yaml" || break
	"$VMCTL" destroy --force "$vm" >/dev/null 2>&1
	$libvirt || continue
	step libvirt "$VMCTL" --connect "$URI" create "$TMP/spec.yaml" || break
	# the same domain, by libvirt alone, on the same volumes
	vsh dumpxml --inactive --security-info "$vm" > "$TMP/domain.xml"
	vsh destroy "$vm" >/dev/null
	vsh undefine "$vm" >/dev/null
	step virsh vsh create "$TMP/domain.xml" || break
	vsh destroy "$vm" >/dev/null
	vsh define "$TMP/domain.xml" >/dev/null
	"$VMCTL" --connect "$URI" destroy --force "$vm" >/dev/null 2>&1
done

printf 'create bench: %s, busybox guest on a 1M qcow2 base under TCG, %d rounds (%s CPUs, load %s)\n' \
	"$VMCTL" "$BENCH_CREATE_RUNS" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-10s %10s %10s %10s  %s\n' "create" "median ms" "min ms" "max ms" "what"
declare -A what=(
	[floor]="qemu-img create + QEMU with vmctl's argv, until QMP says running"
	[direct]="vmctl create (QEMU in tmux), until it returns"
	[libvirt]="vmctl --connect $URI create (base in the pool)"
	[virsh]="virsh create of the same domain XML"
)
declare -A med
for m in floor direct libvirt virsh; do
	[ -n "${t[$m]:-}" ] || { med[$m]=-; continue; }
	# shellcheck disable=SC2086
	read -r md mn mx < <(med_min_max ${t[$m]})
	med[$m]=$md
	printf '%-10s %10s %10s %10s  %s\n' "$m" "$md" "$mn" "$mx" "${what[$m]}"
done
ratio() { # A B TARGET
	[ "${med[$1]}" != - ] && [ "${med[$2]}" != - ] || return 0
	awk -v a="${med[$1]}" -v b="${med[$2]}" -v n="$1/$2" -v g="$3" \
		'BEGIN { printf "ratio %s: %.2f (target %s or less)\n", n, a / b, g }'
}
ratio direct floor 1.25
ratio direct virsh 0.30
ratio libvirt virsh 1.10
$libvirt || echo "libvirt: skipped (needs root and libvirtd: scripts/libvirtd.sh start)"
for e in "${errors[@]}"; do printf 'error: %s\n' "$e"; done
exit 0
