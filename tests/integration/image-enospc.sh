#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 9: a full disk (a small tmpfs as the state dir) during a download
# and during overlay creation gives a clear error and leaves nothing
# half-made: no .part (it could never complete, and would hold the space
# others need), no VM dir; the cache stays intact: the entry verified
# before still verifies and is still used without a download.
TEST_NAME=image-enospc
. "$(dirname "$0")/lib.sh"
need qemu-img python3 jq mount umount
[ "$(id -u)" = 0 ] || skip "needs root to mount a tmpfs"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-enospc.XXXXXX")
export VMCTL_STATE_DIR="$TMP/state" VMCTL_TMUX_SOCKET="vmctl-test-enospc-$$"
SERVER=
MOUNTED=
cleanup() {
	local rc=$?
	set +e
	[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null
	[ -n "$MOUNTED" ] && umount -l "$VMCTL_STATE_DIR"
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

mkdir "$TMP/www" "$VMCTL_STATE_DIR"
mount -t tmpfs -o size=12M,mode=0755 vmctl-test-enospc "$VMCTL_STATE_DIR" ||
	skip "cannot mount a tmpfs"
MOUNTED=1
python3 -c 'import sys; open(sys.argv[1], "wb").write(b"small".ljust(2 << 20, b"\0"))' "$TMP/www/small.raw"
python3 -c 'import sys; open(sys.argv[1], "wb").write(b"large".ljust(32 << 20, b"\1"))' "$TMP/www/large.raw"
python3 "$ROOT/tests/integration/helpers/httpserver.py" "$TMP/www" "$TMP/port" \
	"$TMP/http.log" 2>"$TMP/http.err" &
SERVER=$!
wait_for 10 test -s "$TMP/port" || fail "HTTP server did not start"
URL="http://127.0.0.1:$(cat "$TMP/port")"
SMALL=$(sha256sum < "$TMP/www/small.raw" | cut -d' ' -f1)

spec() {   # spec NAME FILE
	cat > "$TMP/$1.yaml" <<YAML
name: $1
memory: 128M
accel: tcg
disk: {image: $URL/$2, sha256: $(sha256sum < "$TMP/www/$2" | cut -d' ' -f1)}
cloud_init: false
vnc: false
YAML
}
gets() { grep -c "GET /$1" "$TMP/http.log" || true; }

spec vm1 small.raw
"$VMCTL" create --no-start "$TMP/vm1.yaml" >/dev/null 2>&1 || fail "create vm1"
ENTRY=$(jq -r .base_image "$VMCTL_STATE_DIR/vms/vm1/vm.json")
[ -f "$ENTRY" ] || fail "no cache entry for the small image"

# 1. The download does not fit.
spec vm2 large.raw
if "$VMCTL" create --no-start "$TMP/vm2.yaml" 2>"$TMP/err2"; then
	fail "a download larger than the disk succeeded"
fi
grep -q "No space left on device" "$TMP/err2" || fail "unclear error: $(cat "$TMP/err2")"
! ls "$VMCTL_STATE_DIR"/images/*.part >/dev/null 2>&1 ||
	fail "a .part that can never complete was kept: $(ls -l "$VMCTL_STATE_DIR/images")"
[ ! -e "$VMCTL_STATE_DIR/vms/vm2" ] || fail "the failed create left a VM dir"
say "download: $(tail -n 1 "$TMP/err2")"

# 2. The overlay does not fit (the spec file still does).
avail=$(df --output=avail -B1 "$VMCTL_STATE_DIR" | tail -n 1)
fallocate -l $((avail - 32768)) "$VMCTL_STATE_DIR/filler" 2>/dev/null ||
	head -c $((avail - 32768)) /dev/zero > "$VMCTL_STATE_DIR/filler"
spec vm3 small.raw
n=$(gets small.raw)
if "$VMCTL" create --no-start "$TMP/vm3.yaml" 2>"$TMP/err3"; then
	fail "a create on a full disk succeeded"
fi
grep -q "No space left on device" "$TMP/err3" || fail "unclear error: $(cat "$TMP/err3")"
[ ! -e "$VMCTL_STATE_DIR/vms/vm3" ] || fail "the failed create left a VM dir"
[ "$(gets small.raw)" = "$n" ] || fail "the cached image was downloaded again"
say "overlay: $(tail -n 1 "$TMP/err3")"

# 3. The cache is intact and still used.
rm -f "$VMCTL_STATE_DIR/filler"
[ "$(sha256sum < "$ENTRY" | cut -d' ' -f1)" = "$SMALL" ] || fail "the cache entry was damaged"
jq -e --arg d "sha256:$SMALL" '.digest == $d' "$ENTRY.verified" >/dev/null ||
	fail "the entry's stamp was damaged: $(cat "$ENTRY.verified")"
"$VMCTL" create --no-start "$TMP/vm3.yaml" >/dev/null 2>&1 || fail "create vm3 after freeing space"
[ "$(gets small.raw)" = "$n" ] || fail "the cached image was not reused"
[ "$(jq -r .base_image "$VMCTL_STATE_DIR/vms/vm3/vm.json")" = "$ENTRY" ] ||
	fail "vm3 is not over the cached entry"
say "cache intact and reused"
