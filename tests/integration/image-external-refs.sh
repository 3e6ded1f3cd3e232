#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 9: a base image that names another file (a qcow2 backing file, an
# external data file) is refused before anything but its header is read:
# neither vmctl nor the qemu-img it runs ever opens the file it names (a
# downloaded image could otherwise point root's QEMU at /dev/nvme0n1).
# Local bases and downloads alike.
TEST_NAME=image-external-refs
. "$(dirname "$0")/lib.sh"
need qemu-img strace python3 jq
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-extref.XXXXXX")
export VMCTL_STATE_DIR="$TMP/state" VMCTL_TMUX_SOCKET="vmctl-test-extref-$$"
SERVER=
cleanup() {
	local rc=$?
	set +e
	[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT

# The files the crafted images name: whoever opens one shows in strace.
qemu-img create -q -f raw "$TMP/secret-backing" 16M
qemu-img create -q -f raw "$TMP/secret-data" 16M
qemu-img create -q -f qcow2 -F raw -b "$TMP/secret-backing" "$TMP/backed.qcow2"
qemu-img create -q -f qcow2 -o data_file="$TMP/secret-data" "$TMP/datafile.qcow2" 16M
qemu-img create -q -f qcow2 -o data_file="$TMP/secret-data",data_file_raw=on \
	"$TMP/datafile-raw.qcow2" 16M
# Only the header extension, with the incompatible-feature bit cleared.
cp "$TMP/datafile.qcow2" "$TMP/dataext-only.qcow2"
printf '\0\0\0\0\0\0\0\0' | dd of="$TMP/dataext-only.qcow2" bs=1 seek=72 \
	conv=notrunc status=none

spec() {   # spec NAME IMAGE [MORE-DISK-YAML]
	cat > "$TMP/$1.yaml" <<YAML
name: $1
memory: 128M
accel: tcg
disk: {image: $2 ${3:-}}
cloud_init: false
vnc: false
YAML
}

# refused NAME WHY: create --no-start fails with WHY and opens no secret
refused() {
	if ASAN_OPTIONS=detect_leaks=0 strace -f -e trace=open,openat,openat2 -o "$TMP/$1.strace" \
		"$VMCTL" create --no-start "$TMP/$1.yaml" >/dev/null 2>"$TMP/$1.err"; then
		fail "$1: a base naming another file was accepted"
	fi
	grep -q "refused: $2" "$TMP/$1.err" || fail "$1: unclear error: $(cat "$TMP/$1.err")"
	! grep -q 'secret-' "$TMP/$1.strace" ||
		fail "$1: the named file was opened: $(grep 'secret-' "$TMP/$1.strace")"
	[ ! -d "$VMCTL_STATE_DIR/vms/$1" ] || fail "$1: the refused create left a VM dir"
	say "$1: $(tail -n 1 "$TMP/$1.err")"
}

spec backed "$TMP/backed.qcow2"
refused backed "it has a backing file of its own"
spec datafile "$TMP/datafile.qcow2"
refused datafile "it keeps its data in an external data file"
spec datafile-raw "$TMP/datafile-raw.qcow2"
refused datafile-raw "it keeps its data in an external data file"
spec dataext-only "$TMP/dataext-only.qcow2"
refused dataext-only "it names an external data file"

# The same image downloaded: verified, then refused the same way.
mkdir -p "$TMP/www"
cp "$TMP/backed.qcow2" "$TMP/www/"
python3 "$ROOT/tests/integration/helpers/httpserver.py" "$TMP/www" "$TMP/port" \
	"$TMP/http.log" &
SERVER=$!
wait_for 10 test -s "$TMP/port" || fail "HTTP server did not start"
spec downloaded "http://127.0.0.1:$(cat "$TMP/port")/backed.qcow2" \
	", sha256: $(sha256sum < "$TMP/backed.qcow2" | cut -d' ' -f1)"
refused downloaded "it has a backing file of its own"

# A qcow2 that stands alone is still taken.
qemu-img create -q -f qcow2 "$TMP/plain.qcow2" 16M
spec plain "$TMP/plain.qcow2"
"$VMCTL" create --no-start "$TMP/plain.yaml" >/dev/null || fail "a plain qcow2 base was refused"
say "a standalone qcow2 base is taken"
