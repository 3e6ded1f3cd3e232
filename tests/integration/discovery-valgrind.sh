#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# No leaks and no memory errors in host discovery: valgrind on
# `gpu list --json` and `host-check --json` against the 8-GPU server tree
# (333 functions; libpci is pci_cleanup()ed, so nothing is left even
# "still reachable"; tests/valgrind.supp keeps out only what shared
# libraries' constructors allocate before main).  Skipped for sanitizer builds, which valgrind cannot
# run.
TEST_NAME=discovery-valgrind
. "$(dirname "$0")/lib.sh"
need valgrind python3
if ldd "$VMCTL" 2>/dev/null | grep -q -e libasan -e libubsan; then
	skip "vmctl is built with sanitizers"
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-valgrind.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
python3 "$ROOT/scripts/gen-sysfs.py" "$ROOT/tests/fixtures/sysfs/server-8gpu.json" \
	"$TMP/host" 2>/dev/null || fail "gen-sysfs.py failed"
export VMCTL_SYSFS_ROOT=$TMP/host/sys VMCTL_PROC_ROOT=$TMP/host/proc
export VMCTL_DEV_ROOT=$TMP/host/dev VMCTL_STATE_DIR=$TMP/state
for cmd in "gpu list --json" "host-check --json"; do
	rc=0
	# shellcheck disable=SC2086
	valgrind -q --leak-check=full --show-leak-kinds=all \
		--errors-for-leak-kinds=all --error-exitcode=99 \
		--num-callers=64 --suppressions="$ROOT/tests/valgrind.supp" \
		--log-file="$TMP/vg.log" "$VMCTL" $cmd > "$TMP/out" 2>&1 || rc=$?
	[ "$rc" -ne 99 ] || fail "valgrind on vmctl $cmd: $(cat "$TMP/vg.log")"
	[ ! -s "$TMP/vg.log" ] || fail "valgrind on vmctl $cmd: $(cat "$TMP/vg.log")"
done
say "ok: no leaks, no errors"
