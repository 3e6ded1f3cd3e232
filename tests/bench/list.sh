#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `vmctl list --json` against the number of VMs, behind `make bench`.
# Reports, never asserts.
#
#   VMCTL=./vmctl tests/bench/list.sh
#
# Makes BENCH_LIST_VMS (50) busybox-guest VMs with `create --no-start` in a
# temporary state directory and starts BENCH_LIST_RUNNING (4) of them
# (TCG), then times `list --json` (BENCH_LIST_RUNS rounds, 20) when 10,
# 25 and all of them exist, and prints the median, minimum and maximum in
# milliseconds, the time per VM, and the instructions (callgrind) of one
# run at each size.  The issue's target: under 50 ms for 50 VMs, growing
# no faster than linearly.  Everything is destroyed at the end.
set -u
export LC_ALL=C
cd "$(dirname "$0")/../.." || exit 1

: "${VMCTL:=$PWD/vmctl}"
: "${BENCH_LIST_VMS:=50}"
: "${BENCH_LIST_RUNNING:=4}"
: "${BENCH_LIST_RUNS:=20}"
export VMCTL
TEST_NAME=bench-list
# shellcheck source=../integration/lib.sh
. tests/integration/lib.sh
# shellcheck source=lib.sh
. tests/bench/lib.sh
set +e

for v in BENCH_LIST_VMS BENCH_LIST_RUNNING BENCH_LIST_RUNS; do
	case ${!v} in
	''|*[!0-9]*|0) echo "bench: $v must be a count" >&2; exit 1 ;;
	esac
done
GUEST=$(guest_dir 2>/dev/null) || { echo "list bench: no test guest"; exit 0; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-bench-list.XXXXXX")
export VMCTL_STATE_DIR=$TMP/state VMCTL_TMUX_SOCKET=vmctl-bench-list-$$
cleanup() {
	for ((i = 1; i <= BENCH_LIST_VMS; i++)); do
		"$VMCTL" destroy --force "bl$i" >/dev/null 2>&1
	done
	tmux -L "$VMCTL_TMUX_SOCKET" kill-server >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

spec() {
	cat > "$TMP/bl$1.yaml" <<YAML
name: bl$1
cpus: 1
memory: 128M
accel: tcg
kernel:
  image: $GUEST/vmlinuz
  initrd: $GUEST/initrd.img
  cmdline: console=ttyS0 panic=-1 no_timer_check
network: {ssh_port: auto, ssh_listen: 127.0.0.1}
vnc: {listen: 127.0.0.1}
YAML
	printf '%s\n' "$TMP/bl$1.yaml"
}

# measure: "MEDIAN MIN MAX" ms of list --json, then its instructions.
measure() {
	local i t0 t1 times=()
	for ((i = 0; i < BENCH_LIST_RUNS; i++)); do
		t0=$EPOCHREALTIME
		"$VMCTL" list --json > /dev/null 2>&1
		t1=$EPOCHREALTIME
		times+=("$(( (10#${t1/./} - 10#${t0/./}) / 1000 ))")
	done
	printf '%s ' "$(med_min_max "${times[@]}")"
	if command -v valgrind >/dev/null; then
		valgrind --tool=callgrind --callgrind-out-file=/dev/null \
			"$VMCTL" list --json 2>&1 >/dev/null |
			awk '/Collected :/ { print $NF }'
	else
		echo -
	fi
}

printf 'list bench: %d VMs (%d running, TCG), %d rounds each (2 CPUs, load %s)\n' \
	"$BENCH_LIST_VMS" "$BENCH_LIST_RUNNING" "$BENCH_LIST_RUNS" \
	"$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %10s %8s %8s %10s %14s\n' "VMs" "median ms" "min ms" "max ms" "ms per VM" "instructions"
made=0
for size in 10 25 "$BENCH_LIST_VMS"; do
	[ "$size" -le "$BENCH_LIST_VMS" ] || continue
	[ "$size" -gt "$made" ] || continue
	for ((i = made + 1; i <= size; i++)); do
		"$VMCTL" create --no-start "$(spec "$i")" > /dev/null 2>&1 ||
			{ echo "list bench: create bl$i failed"; exit 0; }
		[ "$i" -gt "$BENCH_LIST_RUNNING" ] ||
			"$VMCTL" start "bl$i" > /dev/null 2>&1 ||
			{ echo "list bench: start bl$i failed"; exit 0; }
	done
	made=$size
	read -r med min max ins < <(measure)
	printf '%-6s %10s %8s %8s %10s %14s\n' "$size" "$med" "$min" "$max" \
		"$(awk -v m="$med" -v n="$size" 'BEGIN { printf "%.2f", m / n }')" "$ins"
done
