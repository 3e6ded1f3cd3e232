#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The test runner behind `make test`.
#
#   tests/run.sh [unit|golden|integration]...   (default: all suites)
#
# Unit tests are TAP programs in $UNIT_DIR; tests/golden/run.sh speaks TAP
# too; each tests/integration/*.sh but the libraries (lib.sh, *-lib.sh) is
# one test: exit 0 passes, 77 skips,
# anything else fails.  Every test is counted once and the run ends with a
# single line "N passed, N failed, N skipped"; the exit status is 1 if any
# test failed.
set -u
cd "$(dirname "$0")/.."

: "${VMCTL:=$PWD/vmctl}"
: "${UNIT_DIR:=$PWD/build/default/tests}"
export VMCTL

passed=0 failed=0 skipped=0
failures=()

# Count the ok / not ok lines of a TAP stream, echoing failures in full.
tap() {
	local suite=$1 line
	while IFS= read -r line; do
		case $line in
		"ok "*"# SKIP"*|"ok "*"# skip"*) skipped=$((skipped + 1)) ;;
		"ok "*) passed=$((passed + 1)) ;;
		"not ok "*) failed=$((failed + 1)); failures+=("$suite: ${line#not ok }")
			printf '%s\n' "$line" ;;
		"#"*) [ "${VERBOSE:-0}" = 1 ] || [ "$failed" -gt 0 ] && printf '%s\n' "$line" ;;
		esac
	done
}

run_unit() {
	local t rc
	for t in "$UNIT_DIR"/test-*; do
		[ -x "$t" ] || continue
		echo "== unit: ${t##*/}"
		"$t" > "$t.log" 2>&1
		rc=$?
		tap "${t##*/}" < "$t.log"
		if [ "$rc" -ne 0 ] && ! grep -q '^not ok' "$t.log"; then
			failed=$((failed + 1)); failures+=("${t##*/}: exited $rc")
			tail -n 20 "$t.log"
		fi
	done
}

run_golden() {
	local log
	echo "== golden"
	log=$(mktemp)
	tests/golden/run.sh > "$log" 2>&1
	local rc=$?
	tap golden < "$log"
	if [ "$rc" -ne 0 ] && ! grep -q '^not ok' "$log"; then
		failed=$((failed + 1)); failures+=("golden: runner exited $rc")
		tail -n 20 "$log"
	fi
	rm -f "$log"
}

# One integration test's result, counted: NAME RC SECONDS LOG.
integration_result() {
	local name=$1 rc=$2 took="$3 s" log=$4
	case $rc in
	0) passed=$((passed + 1)); echo "ok - $name ($took)" ;;
	77) skipped=$((skipped + 1)); echo "ok - $name # SKIP $(tail -n 1 "$log")" ;;
	*) failed=$((failed + 1)); failures+=("$name: exit $rc")
	   echo "not ok - $name (exit $rc, $took)"; tail -n 40 "$log" ;;
	esac
	rm -f "$log"
}

# Every tests/integration/*.sh is a test but the libraries the tests
# source (lib.sh, NAME-lib.sh), executable or not: a test that lost its
# x bit is still run (four were left out once that way).
is_test() { case ${1##*/} in lib.sh|*-lib.sh) return 1 ;; esac; }

# A test with the line "# run.sh: beside" runs beside the others, started
# first and counted last: one that keeps one core busy for long and
# shares nothing with the rest (hostsetup-reboot.sh: one QEMU with one
# TCG vCPU through six GRUB reboots, a quarter of the suite), so the
# second core does the rest of the suite meanwhile instead of idling.
beside() { grep -qx '# run.sh: beside' "$1"; }

BESIDE_NAME=() BESIDE_PID=() BESIDE_LOG=()
start_beside() {
	local t name log
	for t in tests/integration/*.sh; do
		is_test "$t" && beside "$t" || continue
		name=${t##*/}
		echo "== integration: $name (beside the others)"
		log=$(mktemp)
		# its exit status and how long it took, on the log's last line
		( s=$SECONDS; bash "$t" > "$log" 2>&1; rc=$?
		  echo "run.sh: $rc $((SECONDS - s))" >> "$log" ) &
		BESIDE_NAME+=("$name") BESIDE_PID+=("$!") BESIDE_LOG+=("$log")
	done
}

run_integration() {
	local t rc log name started took
	for t in tests/integration/*.sh; do
		is_test "$t" || continue
		! beside "$t" || continue
		name=${t##*/}
		echo "== integration: $name"
		log=$(mktemp)
		started=$SECONDS
		bash "$t" > "$log" 2>&1
		rc=$?
		integration_result "$name" "$rc" "$((SECONDS - started))" "$log"
	done
	for i in "${!BESIDE_PID[@]}"; do
		echo "== integration: ${BESIDE_NAME[$i]} (waiting for it)"
		wait "${BESIDE_PID[$i]}"
		read -r _ rc took < <(tail -n 1 "${BESIDE_LOG[$i]}")
		sed -i '$d' "${BESIDE_LOG[$i]}"
		integration_result "${BESIDE_NAME[$i]}" "${rc:-1}" "${took:-0}" \
			"${BESIDE_LOG[$i]}"
	done
}

# The libvirt tests (--connect) need a libvirtd: as root, start one for
# the integration suite when none answers (scripts/libvirtd.sh) and stop
# it at the end; a libvirtd already running (CI's, the system's) is left
# alone.  Without root or libvirt the tests skip.
LIBVIRTD_STARTED=""
libvirtd_up() {
	[ "$(id -u)" -eq 0 ] && command -v libvirtd >/dev/null 2>&1 || return 0
	sh scripts/libvirtd.sh status >/dev/null 2>&1 && return 0
	echo "== starting libvirtd for the --connect tests (scripts/libvirtd.sh)"
	if sh scripts/libvirtd.sh start >/dev/null 2>&1; then
		LIBVIRTD_STARTED=1
	else
		echo "   could not start it: the libvirt tests will skip"
	fi
}
libvirtd_down() {
	[ -z "$LIBVIRTD_STARTED" ] || sh scripts/libvirtd.sh stop >/dev/null 2>&1
}
trap libvirtd_down EXIT

suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(unit golden integration)
# the tests that run beside the others start before the first suite
for s in "${suites[@]}"; do
	[ "$s" != integration ] || start_beside
done
for s in "${suites[@]}"; do
	case $s in
	unit) run_unit ;;
	golden) run_golden ;;
	integration) libvirtd_up; run_integration ;;
	*) echo "unknown suite: $s" >&2; exit 64 ;;
	esac
done

if [ ${#failures[@]} -gt 0 ]; then
	echo "Failed:"
	printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
