#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `vmctl host ksm` against a fake tree (scripts/gen-sysfs.py with "ksm"):
# on, off and off --unmerge write the fake `run`, --dry-run writes
# nothing, status --json gives the files' numbers, `vmctl host` shows
# KSM; a tree without kernel/mm/ksm is "unavailable" (69), a user who may
# not write `run` gets 77.  Then `status` alone (it only reads) on this
# machine's own /sys/kernel/mm/ksm when there is one: nothing here ever
# writes the real sysfs.
TEST_NAME=host-ksm
. "$(dirname "$0")/lib.sh"
need python3 jq

TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-host-ksm.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export LC_ALL=C
unset XDG_DATA_HOME VMCTL_HOST_RESERVE
export VMCTL_STATE_DIR=$TMP/state

failures=0
bad() { say "FAIL: $*"; failures=$((failures + 1)); }

cat > "$TMP/host.json" <<'EOF'
{"comment": "a small host with KSM: stopped, 2560 pages merged away",
 "ksm": {"run": 0, "pages_shared": 10, "pages_sharing": 2560,
         "pages_unshared": 30, "pages_volatile": 4, "full_scans": 5,
         "sleep_millisecs": 200, "pages_to_scan": 1000},
 "devices": [{"addr": "00:00.0", "id": "8086:1237", "class": "060000"}]}
EOF
python3 "$ROOT/scripts/gen-sysfs.py" "$TMP/host.json" "$TMP/h" 2>/dev/null ||
	fail "gen-sysfs.py failed"
SYS=$TMP/h/sys
KSM=$SYS/kernel/mm/ksm
export VMCTL_SYSFS_ROOT=$SYS VMCTL_PROC_ROOT=$TMP/h/proc
export VMCTL_DEV_ROOT=$TMP/h/dev

# vmctl on the fake tree only: never on the real sysfs.
v() {
	case $VMCTL_SYSFS_ROOT in
	"$TMP"/*) "$VMCTL" "$@" ;;
	*) fail "VMCTL_SYSFS_ROOT is $VMCTL_SYSFS_ROOT" ;;
	esac
}
rc() { local r=0; v "$@" > "$TMP/out" 2> "$TMP/err" || r=$?; echo "$r"; }
run_file() { tr -d '\n' < "$KSM/run"; }
tree_sum() { (cd "$KSM" && cat ./*) | cksum; }

# status: the files' numbers, and the saving with this host's page size
page=$(getconf PAGESIZE)
s=$(v host ksm status --json) || bad "status --json failed"
for f in pages_shared pages_sharing pages_unshared pages_volatile \
	 full_scans sleep_millisecs pages_to_scan merge_across_nodes run; do
	[ "$(jq ".$f" <<< "$s")" = "$(cat "$KSM/$f")" ] ||
		bad "status: $f is $(jq ".$f" <<< "$s"), the file says $(cat "$KSM/$f")"
done
[ "$(jq -c '[.state, .page_size, .saved]' <<< "$s")" = \
  "[\"stopped\",$page,$((2560 * page))]" ] ||
	bad "status: state, page size, saved: $(jq -c . <<< "$s")"
v host ksm status > "$TMP/out" || bad "status failed"
grep -q '^KSM: stopped (run 0)$' "$TMP/out" || bad "status: $(cat "$TMP/out")"
grep -q '^  pages_sharing  *2560$' "$TMP/out" || bad "status: no pages_sharing"
[ "$(v host --json | jq -c .ksm)" = "{\"state\":\"stopped\",\"saved\":$((2560 * page))}" ] ||
	bad "host --json: ksm $(v host --json | jq -c .ksm)"
v host | grep -q '^KSM: stopped, 10 MiB saved$' ||
	[ "$page" != 4096 ] || bad "host: no KSM line: $(v host)"

# --dry-run: the plan, and not a byte written
before=$(tree_sum)
[ "$(rc host ksm on --dry-run)" = 0 ] || bad "on --dry-run: exit $(rc host ksm on --dry-run)"
grep -qx "  write 1 > $KSM/run" "$TMP/out" ||
	bad "on --dry-run prints: $(cat "$TMP/out")"
[ "$(rc host ksm off --unmerge --dry-run)" = 0 ] || bad "off --unmerge --dry-run failed"
grep -qx "  write 2 > $KSM/run" "$TMP/out" ||
	bad "off --unmerge --dry-run prints: $(cat "$TMP/out")"
grep -q 'warning: unmerging' "$TMP/err" || bad "no unmerge warning: $(cat "$TMP/err")"
[ "$(tree_sum)" = "$before" ] || bad "--dry-run changed the tree"

# on, again, off, off --unmerge
[ "$(rc host ksm on)" = 0 ] && [ "$(run_file)" = 1 ] ||
	bad "on: run is $(run_file): $(cat "$TMP/err")"
[ "$(v host ksm status --json | jq -r .state)" = running ] || bad "on: not running"
[ "$(rc host ksm on)" = 0 ] && grep -q 'already' "$TMP/out" && [ "$(run_file)" = 1 ] ||
	bad "on twice: $(cat "$TMP/out")"
[ "$(rc host ksm off)" = 0 ] && [ "$(run_file)" = 0 ] || bad "off: run is $(run_file)"
[ -z "$(cat "$TMP/err")" ] || bad "off warns: $(cat "$TMP/err")"
v host ksm on > /dev/null || bad "on failed"
[ "$(rc host ksm off --unmerge)" = 0 ] && [ "$(run_file)" = 2 ] ||
	bad "off --unmerge: run is $(run_file)"
grep -q 'warning: unmerging .* needs 10 MiB more memory' "$TMP/err" ||
	[ "$page" != 4096 ] || bad "off --unmerge: warning $(cat "$TMP/err")"
[ "$(v host ksm status --json | jq -r .state)" = unmerging ] || bad "not unmerging"
[ "$(rc host ksm off)" = 0 ] && [ "$(run_file)" = 0 ] || bad "off after unmerge"

# usage errors change nothing
for args in "ksm" "ksm sideways" "ksm on off" "ksm on --unmerge" \
	    "ksm status --dry-run" "--unmerge"; do
	# shellcheck disable=SC2086
	[ "$(rc host $args)" = 64 ] || bad "host $args: exit $(rc host $args), not 64"
done
[ "$(run_file)" = 0 ] || bad "a usage error changed run"

# a malformed attribute is an error naming it
cp "$KSM/pages_volatile" "$TMP/pv"
echo bogus > "$KSM/pages_volatile"
[ "$(rc host ksm status)" = 1 ] && grep -q "pages_volatile" "$TMP/err" ||
	bad "malformed pages_volatile: $(cat "$TMP/err")"
cp "$TMP/pv" "$KSM/pages_volatile"

# not allowed to write run: 77, nothing changed
if [ "$(id -u)" = 0 ]; then
	if command -v setpriv > /dev/null &&
	   setpriv --reuid=65534 --regid=65534 --clear-groups "$VMCTL" --version > /dev/null 2>&1; then
		chmod 755 "$TMP"
		r=0
		setpriv --reuid=65534 --regid=65534 --clear-groups \
			"$VMCTL" host ksm on > /dev/null 2> "$TMP/err" || r=$?
		[ "$r" = 77 ] && [ "$(run_file)" = 0 ] ||
			bad "not root: exit $r, run $(run_file): $(cat "$TMP/err")"
		grep -q 'needs root' "$TMP/err" || bad "not root: $(cat "$TMP/err")"
		chmod 700 "$TMP"
	else
		say "no setpriv to drop root: permission check skipped"
	fi
else
	chmod 0444 "$KSM/run"
	[ "$(rc host ksm on)" = 77 ] && [ "$(run_file)" = 0 ] ||
		bad "read-only run: exit $(rc host ksm on)"
	chmod 0644 "$KSM/run"
fi

# no kernel/mm/ksm: one line, 69; `vmctl host` still works
rm -rf "$KSM"
for args in "ksm status" "ksm status --json" "ksm on" "ksm off --unmerge --dry-run"; do
	# shellcheck disable=SC2086
	r=$(rc host $args)
	[ "$r" = 69 ] || bad "no KSM: host $args: exit $r"
	[ "$(wc -l < "$TMP/err")" = 1 ] && grep -q '^vmctl: host ksm: KSM is not available' "$TMP/err" ||
		bad "no KSM: host $args says: $(cat "$TMP/err")"
done
[ "$(v host --json | jq -c .ksm)" = null ] || bad "no KSM: host --json ksm not null"
v host | grep -q '^KSM: not available' || bad "no KSM: host has no KSM line"

# This machine's KSM, read only.
if [ -d /sys/kernel/mm/ksm ]; then
	s=$(VMCTL_SYSFS_ROOT=/sys "$VMCTL" host ksm status --json) ||
		bad "real /sys: status failed"
	[ "$(jq .run <<< "$s")" = "$(cat /sys/kernel/mm/ksm/run)" ] ||
		bad "real /sys: run $(jq .run <<< "$s")"
	[ "$(jq '[.pages_sharing, .saved, .page_size] | map(type) | unique' -c <<< "$s")" = '["number"]' ] ||
		bad "real /sys: $(jq -c . <<< "$s")"
	say "this host: KSM $(jq -r .state <<< "$s")"
else
	say "this host has no /sys/kernel/mm/ksm"
fi

[ "$failures" -eq 0 ] || fail "$failures check(s) failed"
say "ok"
