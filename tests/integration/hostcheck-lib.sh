# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Shared by the tests of host-check after host-setup (sourced, not run):
# tests/integration/hostcheck-after-setup*.sh.  On top of hostsetup-lib.sh.
#
#   hc_setup CASE HOST ARGS  host-setup (HS_SELECTOR) on the fake root of
#                  tests/hostsetup/CASE for tests/hostsetup/hosts/HOST.json,
#                  its manifest dated an hour back; ARGS: the kernel
#                  arguments it sets (HC_ARGS)
#   hc_after NAME PATCH      HOST: that host after the reboot, booted a
#                  minute ago, HC_AFTER then PATCH applied (fixture_patch
#                  in lib.sh; args[0] is HC_ARGS)
#   hc_check       host-check --json on HOST into $HS_TMP/hc.json
#   hc_expect NAME STATUS TEXT [FIX]  the check NAME has STATUS, and its
#                  message (and fix) holds TEXT (and FIX); @ROOT@ stands
#                  for the fake root
. "$(dirname -- "${BASH_SOURCE[0]}")/hostsetup-lib.sh"
need jq

hc_setup() {
	hs_init "$1" "$2"
	HC_DESC=$HS_DATA/hosts/$2.json
	HC_ARGS=$3
	# The arguments written for good (--permanent): what a host looks
	# like after the one-shot boot was confirmed.
	HS_FLAGS=--permanent
	hs_fresh
	hs_apply
	[ "$HS_RC" = 0 ] || { hs_show; fail "host-setup failed"; }
	MANIFEST=$HS_STATE/host-setup/manifest.json
	[ -f "$MANIFEST" ] || fail "host-setup left no manifest"
	touch -d '-1 hour' "$MANIFEST"
}

hc_after() {
	HOST=$HS_TMP/after-$1
	fixture_patch "$HC_DESC" "$HOST.json" 'd["cmdline"] += " " + args[0]
d["uptime"] = 60
'"${HC_AFTER:-}
$2" "$HC_ARGS"
	rm -rf "$HOST"
	python3 "$ROOT/scripts/gen-sysfs.py" "$HOST.json" "$HOST" 2>/dev/null ||
		fail "gen-sysfs $1 failed"
}

hc_check() {
	hs_env env VMCTL_PROC_ROOT="$HOST/proc" VMCTL_DEV_ROOT="$HOST/dev" \
		"$VMCTL" --sysfs-root "$HOST/sys" host-check --json
	cp "$HS_OUT" "$HS_TMP/hc.json"
	jq -e .checks "$HS_TMP/hc.json" >/dev/null ||
		{ hs_show; fail "host-check --json: no JSON"; }
}

hc_field() {
	jq -r --arg n "$1" ".checks[] | select(.name == \$n) | $2" \
		"$HS_TMP/hc.json"
}

hc_expect() {
	local got msg fix text=${3//@ROOT@/$HS_ROOT} want=${4:-}

	want=${want//@ROOT@/$HS_ROOT}
	got=$(hc_field "$1" .status)
	msg=$(hc_field "$1" .message)
	fix=$(hc_field "$1" '.fix // ""')
	if [ "$got" != "$2" ]; then
		hs_fail "$CASE: $1 is '$got', not $2: $(hs_subst <<<"$msg")"
		return
	fi
	[[ $msg == *"$text"* ]] || hs_fail "$CASE: $1 says: $(hs_subst <<<"$msg")"
	[ -z "$want" ] || [[ $fix == *"$want"* ]] ||
		hs_fail "$CASE: $1 fix: $(hs_subst <<<"$fix")"
}
