#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Base images of either format, read from their header and never probed:
# the overlay names an absolute backing file with its format, honours
# disk.size, and a VM that runs never writes to the base.
TEST_NAME=image-formats
. "$(dirname "$0")/lib.sh"
need qemu-system-x86_64 qemu-img tmux python3

GUEST=$(guest_dir) || skip "cannot build the test guest"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-images.XXXXXX")
export VMCTL_STATE_DIR="$TMP/state" VMCTL_TMUX_SOCKET="vmctl-test-img-$$"
cleanup() {
	local rc=$?
	set +e
	tmux -L "$VMCTL_TMUX_SOCKET" kill-server 2>/dev/null
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT

qemu-img create -q -f raw "$TMP/base.raw" 64M
qemu-img create -q -f qcow2 "$TMP/base.qcow2" 64M
for fmt in raw qcow2; do
	cat > "$TMP/$fmt.yaml" <<YAML
name: img-$fmt
memory: 256M
accel: tcg
disk: {image: $TMP/base.$fmt, size: 96M}
cloud_init: false
kernel: {image: $GUEST/vmlinuz, initrd: $GUEST/initrd.img,
         cmdline: console=ttyS0 panic=-1 no_timer_check}
network: {ssh_listen: 127.0.0.1}
vnc: {listen: 127.0.0.1}
YAML
	before=$(sha256sum < "$TMP/base.$fmt")
	"$VMCTL" create "$TMP/$fmt.yaml" >/dev/null || fail "create over a $fmt base"
	"$VMCTL" kill "img-$fmt" >/dev/null
	info=$(qemu-img info --output=json "$VMCTL_STATE_DIR/vms/img-$fmt/disk.qcow2")
	python3 - "$info" "$TMP/base.$fmt" "$fmt" <<'PY' || fail "overlay over $fmt: $info"
import json, sys
info, base, fmt = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
assert info["format"] == "qcow2", info["format"]
assert info["backing-filename"] == base, info["backing-filename"]
assert info["backing-filename-format"] == fmt, info.get("backing-filename-format")
assert info["virtual-size"] == 96 << 20, info["virtual-size"]
PY
	[ "$(sha256sum < "$TMP/base.$fmt")" = "$before" ] || fail "the $fmt base was written"
	say "$fmt base: overlay with absolute backing file, format $fmt, 96M; base untouched"
	"$VMCTL" destroy "img-$fmt" >/dev/null
done

# A disk.size smaller than the image is refused before anything is made.
sed -i 's/size: 96M/size: 32M/' "$TMP/raw.yaml"
if "$VMCTL" create "$TMP/raw.yaml" 2>"$TMP/err"; then
	fail "an overlay smaller than its image was accepted"
fi
grep -q "smaller than the image" "$TMP/err" || fail "unclear error: $(cat "$TMP/err")"
[ ! -d "$VMCTL_STATE_DIR/vms/img-raw" ] || fail "the refused create left a VM dir"
say "disk.size below the image's size refused"
