#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# libvirt, libxml2, libcurl, libcrypto and libisofs are opened only by the
# commands that use them (src/lazylib.c): vmctl is not linked against them, a command that
# does not need them never loads them (LD_DEBUG=files lists what the
# loader opened), one with --connect does, and every call of those
# libraries in src/ goes through lazylib.h (scripts/lazylib-calls.py
# --check); and no command with --connect, run in a process of its own,
# reaches one of them before it is opened (a NULL function pointer).
TEST_NAME=lazylib
. "$(dirname "$0")/lib.sh"
need readelf python3
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-lazylib.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

python3 "$ROOT/scripts/lazylib-calls.py" --check ||
	fail "a call of a lazily opened library bypasses lazylib.h"

readelf -d "$VMCTL" > "$TMP/dyn" || fail "readelf -d $VMCTL"
if grep -E 'NEEDED.*(libvirt|libcurl|libxml2|libcrypto|libisofs)' "$TMP/dyn"; then
	fail "vmctl is linked against a library it should open lazily"
fi

# loaded LIB CMD...: whether running CMD made the loader open LIB.
loaded() {
	local lib=$1
	shift
	LD_DEBUG=files LD_DEBUG_OUTPUT="$TMP/ld" "$@" > /dev/null 2>&1
	cat "$TMP"/ld.* > "$TMP/ld-all" 2>/dev/null
	rm -f "$TMP"/ld.*
	grep -q "file=$lib " "$TMP/ld-all"
}

export VMCTL_STATE_DIR=$TMP/state VMCTL_HOSTS_FILE=$TMP/hosts.yaml
for cmd in "--version" "list --json" "validate $ROOT/configs/default.yaml" \
	   "cmdline $ROOT/configs/default.yaml"; do
	# shellcheck disable=SC2086
	for lib in libvirt.so.0 libcurl.so.4 libxml2.so.2 libcrypto.so.3 \
		   libisofs.so.6; do
		! loaded "$lib" "$VMCTL" $cmd ||
			fail "vmctl $cmd loaded $lib"
	done
done
loaded libpci.so.3 "$VMCTL" --version ||
	fail "LD_DEBUG shows no linked library either: the check is blind"

# libvirt's test driver: the connection opens libvirt (and libxml2 with it)
loaded libvirt.so.0 "$VMCTL" --connect test:///default list --json ||
	fail "list --connect did not open libvirt"
"$VMCTL" --connect test:///default list --json > "$TMP/out" ||
	fail "list --connect test:///default: $(cat "$TMP/out")"

# Every command that goes to libvirt, run first thing in a process (no
# earlier command has opened libvirt for it): none may reach a library
# function before lazylib has opened it.  libvirt's test driver, a VM it
# does not have: each ends in an error of its own, never a signal.
sweep=(
	"list" "list --json" "status nosuch" "start nosuch" "stop nosuch"
	"restart nosuch" "kill nosuch" "destroy nosuch" "logs nosuch"
	"console nosuch" "attach nosuch" "ssh nosuch" "ssh-config nosuch"
	"wait nosuch" "vnc nosuch" "cp nosuch:a $TMP/b" "snapshot list nosuch"
	"snapshot create nosuch s" "save nosuch" "restore nosuch"
	"cdrom nosuch eject" "disk resize nosuch +1M" "clone nosuch other"
	"migrate nosuch --to elsewhere" "move nosuch --to elsewhere"
	"gpu list" "host" "export --libvirt $ROOT/configs/default.yaml"
)
for cmd in "${sweep[@]}"; do
	rc=0
	# shellcheck disable=SC2086
	"$VMCTL" --connect test:///default $cmd < /dev/null > "$TMP/out" 2>&1 || rc=$?
	[ "$rc" -lt 128 ] ||
		fail "vmctl --connect test:///default $cmd died of signal $((rc - 128)): $(cat "$TMP/out")"
done
say "ok: libvirt, libxml2, libcurl, libcrypto and libisofs opened only when used; ${#sweep[@]} --connect commands end without a signal"
