#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `vmctl host reserve` in a temporary state dir, on the fake two-node host
# (256 GiB): set, show and default round trip through STATE_DIR/host.json,
# `vmctl host [--json]` plans with the setting, VMCTL_HOST_RESERVE wins
# over the file, bad settings are usage errors that change nothing, a
# malformed file is an error naming it, and parallel writers keep the file
# whole and its other keys.
TEST_NAME=host-reserve
. "$(dirname "$0")/lib.sh"
need python3 jq

TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-host-reserve.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export LC_ALL=C
unset XDG_DATA_HOME VMCTL_HOST_RESERVE
export VMCTL_STATE_DIR=$TMP/state
CONF=$VMCTL_STATE_DIR/host.json

python3 "$ROOT/scripts/gen-sysfs.py" "$ROOT/tests/fixtures/sysfs/numa-2node-gpu.json" \
	"$TMP/h" 2>/dev/null || fail "gen-sysfs.py failed"
export VMCTL_SYSFS_ROOT=$TMP/h/sys VMCTL_PROC_ROOT=$TMP/h/proc
export VMCTL_DEV_ROOT=$TMP/h/dev
TOTAL=274877906944   # 256 GiB: the fixture's two nodes
GiB=1073741824

failures=0
bad() { say "FAIL: $*"; failures=$((failures + 1)); }
rc() { local r=0; "$VMCTL" "$@" > "$TMP/out" 2> "$TMP/err" || r=$?; echo "$r"; }
shown() { "$VMCTL" host reserve --json | jq -c '[.setting, .source, .bytes, .total]'; }
memory() { "$VMCTL" host --json | jq -c '.memory | [.reserve, .reserve_setting, .reserve_source, .free]'; }

# the default, with no state dir at all
[ "$(shown)" = "[\"default\",\"default\",$((TOTAL / 10)),$TOTAL]" ] ||
	bad "default: $(shown)"
[ "$(memory)" = "[$((TOTAL / 10)),\"default\",\"default\",$((TOTAL - TOTAL / 10))]" ] ||
	bad "default: host memory $(memory)"
[ ! -e "$CONF" ] || bad "showing the reserve wrote $CONF"

# 4G
[ "$(rc host reserve 4G)" = 0 ] || bad "reserve 4G: $(cat "$TMP/err")"
grep -q '^host reserve: 4G (.*host.json): 4 GiB of 256 GiB' "$TMP/out" ||
	bad "reserve 4G says: $(cat "$TMP/out")"
[ "$(jq -c . "$CONF")" = '{"reserve":"4G"}' ] || bad "host.json: $(cat "$CONF")"
[ "$(shown)" = "[\"4G\",\"file\",$((4 * GiB)),$TOTAL]" ] || bad "4G: $(shown)"
[ "$(memory)" = "[$((4 * GiB)),\"4G\",\"file\",$((TOTAL - 4 * GiB))]" ] ||
	bad "4G: host memory $(memory)"
"$VMCTL" host | grep -q '^memory: 256 GiB, 4 GiB reserved for the host (4G), none held by running VMs, 252 GiB free$' ||
	bad "4G: host says $("$VMCTL" host | grep memory)"

# 15%
[ "$(rc host reserve 15%)" = 0 ] || bad "reserve 15%: $(cat "$TMP/err")"
[ "$(jq -c . "$CONF")" = '{"reserve":"15%"}' ] || bad "host.json: $(cat "$CONF")"
[ "$(shown)" = "[\"15%\",\"file\",$((TOTAL * 15 / 100)),$TOTAL]" ] || bad "15%: $(shown)"
[ "$(memory)" = "[$((TOTAL * 15 / 100)),\"15%\",\"file\",$((TOTAL - TOTAL * 15 / 100))]" ] ||
	bad "15%: host memory $(memory)"

# the environment wins over the file, and a write under it says so
[ "$(VMCTL_HOST_RESERVE=8G shown)" = "[\"8G\",\"env\",$((8 * GiB)),$TOTAL]" ] ||
	bad "env: $(VMCTL_HOST_RESERVE=8G shown)"
[ "$(VMCTL_HOST_RESERVE=8G memory)" = "[$((8 * GiB)),\"8G\",\"env\",$((TOTAL - 8 * GiB))]" ] ||
	bad "env: host memory $(VMCTL_HOST_RESERVE=8G memory)"
VMCTL_HOST_RESERVE=8G "$VMCTL" host | grep -q 'reserved for the host (8G, VMCTL_HOST_RESERVE)' ||
	bad "env: host does not say where the reserve comes from"
[ "$(VMCTL_HOST_RESERVE=8G rc host reserve 20%)" = 0 ] &&
	grep -q 'VMCTL_HOST_RESERVE=8G overrides' "$TMP/err" ||
	bad "a write under the env: $(cat "$TMP/err")"
[ "$(jq -c . "$CONF")" = '{"reserve":"20%"}' ] || bad "host.json: $(cat "$CONF")"
[ "$(VMCTL_HOST_RESERVE=default shown)" = "[\"default\",\"env\",$((TOTAL / 10)),$TOTAL]" ] ||
	bad "env default: $(VMCTL_HOST_RESERVE=default shown)"
[ "$(VMCTL_HOST_RESERVE=abc rc host)" = 64 ] &&
	grep -q 'VMCTL_HOST_RESERVE=abc' "$TMP/err" || bad "bad env: $(cat "$TMP/err")"

# --dry-run and bad settings change nothing
before=$(cat "$CONF")
[ "$(rc host reserve 2G --dry-run)" = 0 ] && grep -q 'would set' "$TMP/out" ||
	bad "--dry-run: $(cat "$TMP/out")"
for s in 95% abc 4X 91% 4; do
	[ "$(rc host reserve "$s")" = 64 ] || bad "reserve $s: exit $(rc host reserve "$s")"
done
[ "$(rc host reserve -- -1)" = 64 ] || bad "reserve -1: exit $(rc host reserve -- -1)"
[ "$(rc host reserve 1G 2G)" = 64 ] || bad "two settings accepted"
[ "$(cat "$CONF")" = "$before" ] || bad "a refused setting changed $CONF"

# default: back to max(10 %, 2 GiB)
[ "$(rc host reserve default)" = 0 ] || bad "reserve default: $(cat "$TMP/err")"
[ "$(jq -c . "$CONF")" = '{}' ] || bad "default left $(cat "$CONF")"
[ "$(shown)" = "[\"default\",\"default\",$((TOTAL / 10)),$TOTAL]" ] || bad "default again: $(shown)"

# a malformed file: an error naming it, for readers and writers
echo '{"reserve": "lots"}' > "$CONF"
[ "$(rc host)" = 1 ] && grep -q "$CONF: reserve: \"lots\"" "$TMP/err" ||
	bad "malformed reserve: $(cat "$TMP/err")"
echo 'not json' > "$CONF"
[ "$(rc host reserve)" = 1 ] && grep -q "$CONF: not a JSON object" "$TMP/err" ||
	bad "malformed file: $(cat "$TMP/err")"
[ "$(rc host reserve 4G)" = 1 ] && [ "$(cat "$CONF")" = 'not json' ] ||
	bad "a malformed file was overwritten"

# parallel writers under the state-wide lock: the file stays whole and
# keeps the keys vmctl does not know
echo '{"other": {"kept": true}}' > "$CONF"
pids=()
for i in 1 2 3 4 5 6 7 8; do
	"$VMCTL" host reserve "${i}G" > /dev/null 2>&1 & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || bad "a parallel writer failed"; done
jq -e '.other.kept == true and (.reserve | test("^[1-8]G$"))' "$CONF" > /dev/null ||
	bad "after parallel writers: $(cat "$CONF")"
[ -z "$(find "$VMCTL_STATE_DIR" -name '.host.json.*')" ] || bad "temporary files left"

[ "$failures" -eq 0 ] || fail "$failures check(s) failed"
say "ok"
