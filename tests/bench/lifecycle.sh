#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Lifecycle timings with the busybox test guest (TCG).  Reports, never
# asserts.
#
#   VMCTL=./vmctl tests/bench/lifecycle.sh
#
# Each of BENCH_LIFECYCLE_RUNS rounds (default 5) times, on one VM:
#   create          `vmctl create` until it returns (QEMU up, QMP "running";
#                   the guest has not booted yet)
#   create->ready   from the start of `vmctl create` until the guest prints
#                   "vmctl-test-guest: ready" on its serial log (boot included)
#   stop            `vmctl stop` of a booted guest (ACPI power button; the
#                   guest powers off)
#   start           `vmctl start` of the stopped VM
#   stop -t 0       `vmctl stop --timeout 0` (QMP quit, no guest shutdown)
#   kill            `vmctl kill` (SIGKILL)
#   destroy         `vmctl destroy` of the stopped VM
# and prints the median, minimum and maximum of each in milliseconds.  It
# runs in a temporary state dir with a private tmux server, and leaves no
# process behind.  Environment: VMCTL, BENCH_LIFECYCLE_RUNS.
set -u
export LC_ALL=C
cd "$(dirname "$0")/../.."

: "${VMCTL:=$PWD/vmctl}"
: "${BENCH_LIFECYCLE_RUNS:=5}"
export VMCTL
TEST_NAME=bench-lifecycle
# shellcheck source=../integration/lib.sh
. tests/integration/lib.sh
# shellcheck source=lib.sh
. tests/bench/lib.sh
set +e   # a bench reports what it saw; a failed step is shown, not fatal

[ -x "$VMCTL" ] || { echo "bench: $VMCTL is not an executable" >&2; exit 1; }
case $BENCH_LIFECYCLE_RUNS in
''|*[!0-9]*|0) echo "bench: BENCH_LIFECYCLE_RUNS must be a count" >&2; exit 1 ;;
esac
(
	lc_setup bench 2>/dev/null
	set +e
	spec=$(lc_spec bench)
	log=$(lc_vmdir bench)/serial.log
	declare -A t
	metrics=(create ready stop start quit kill destroy)
	errors=()

	# timed METRIC CMD...: run CMD, add its wall time (ms) to METRIC.
	timed() {
		local m=$1 t0 t1
		shift
		t0=$EPOCHREALTIME
		if ! "$@" >/dev/null 2>"$LC_TMP/err"; then
			errors+=("$m: $* failed: $(head -n 1 "$LC_TMP/err")")
			return 1
		fi
		t1=$EPOCHREALTIME
		t[$m]+="$(( (10#${t1/./} - 10#${t0/./}) / 1000 )) "
	}
	# ready_after N T0: wait for the Nth ready line; add now - T0 to "ready".
	ready_after() {
		local n=$1 t0=$2 deadline=$((SECONDS + 180)) t1
		until [ "$(lc_ready_count bench)" -ge "$n" ]; do
			[ $SECONDS -lt $deadline ] ||
				{ errors+=("guest not ready in 180 s"); return 1; }
			sleep 0.01
		done
		t1=$EPOCHREALTIME
		[ -z "$t0" ] || t[ready]+="$(( (10#${t1/./} - 10#${t0/./}) / 1000 )) "
	}

	boots=0
	for ((r = 1; r <= BENCH_LIFECYCLE_RUNS; r++)); do
		t0=$EPOCHREALTIME
		timed create "$VMCTL" create "$spec" || break
		boots=$((boots + 1))
		ready_after $boots "$t0" || break
		timed stop "$VMCTL" stop bench || break
		timed start "$VMCTL" start bench || break
		boots=$((boots + 1))
		ready_after $boots "" || break
		timed quit "$VMCTL" stop --timeout 0 bench || break
		"$VMCTL" start bench >/dev/null 2>&1 || break
		boots=$((boots + 1))
		timed kill "$VMCTL" kill bench || break
		timed destroy "$VMCTL" destroy bench || break
		boots=0
	done

	printf 'vmctl lifecycle bench: %s, busybox guest under TCG, %d rounds (%s CPUs, load %s)\n' \
		"$VMCTL" "$BENCH_LIFECYCLE_RUNS" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
	printf '%-16s %10s %10s %10s  %s\n' "step" "median ms" "min ms" "max ms" "what"
	printf '%-16s %10s %10s %10s  %s\n' "----" "---------" "------" "------" "----"
	declare -A what=(
		[create]="vmctl create, until QMP says running"
		[ready]="create start -> guest prints ready (boot)"
		[stop]="vmctl stop (ACPI powerdown, guest powers off)"
		[start]="vmctl start of the stopped VM"
		[quit]="vmctl stop --timeout 0 (QMP quit)"
		[kill]="vmctl kill (SIGKILL)"
		[destroy]="vmctl destroy of a stopped VM"
	)
	declare -A label=([ready]="create->ready" [quit]="stop -t 0")
	for m in "${metrics[@]}"; do
		# shellcheck disable=SC2086
		read -r med min max < <(med_min_max ${t[$m]:-})
		printf '%-16s %10s %10s %10s  %s\n' "${label[$m]:-$m}" "$med" "$min" "$max" "${what[$m]}"
	done
	for e in "${errors[@]}"; do printf 'error: %s\n' "$e"; done
	exit 0
)
