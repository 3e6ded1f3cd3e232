#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `vmctl gpu rom ADDRESS FILE` against fake sysfs trees (never this
# machine's /sys) whose `rom` is a plain file holding a synthesized ROM
# (scripts/gen-sysfs.py "rom"): the dump is checked and written whole
# (temp, fsync, rename: a new inode, no temporary left), its summary
# printed; a ROM for other ids is written with a warning; a broken one is
# not written and leaves FILE as it was; what is no GPU, the host's boot
# display, a card on a host driver, a card a running VM holds and a card
# without a ROM are refused.  Nothing is ever written into the tree: its
# `rom` reads without being turned on, as one left on does.
TEST_NAME=gpu-rom
. "$(dirname "$0")/lib.sh"
need python3 jq cmp stat

TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-gpu-rom.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export LC_ALL=C VMCTL_STATE_DIR=$TMP/state
unset VMCTL_SYSFS_ROOT
mkdir -p "$TMP/out"
failures=0
bad() { say "FAIL: $*"; failures=$((failures + 1)); }

# host NAME PATCH: the desktop-intel-nvidia fixture, its GTX 1080
# (01:00.0, on vfio-pci) and the iGPU (00:02.0, the boot display) with a
# 128 KiB ROM, then PATCH (fixture_patch in lib.sh).
host() {
	fixture_patch "$ROOT/tests/fixtures/sysfs/desktop-intel-nvidia.json" \
		"$TMP/$1.json" 'fn["01:00.0"]["rom"] = fn["00:02.0"]["rom"] = "128K"
'"$2"
	python3 "$ROOT/scripts/gen-sysfs.py" "$TMP/$1.json" "$TMP/$1" \
		2>/dev/null || fail "gen-sysfs $1 failed"
	SYS=$TMP/$1/sys
	export VMCTL_PROC_ROOT=$TMP/$1/proc VMCTL_DEV_ROOT=$TMP/$1/dev
}

# rom ARGS...: vmctl gpu rom against $SYS; RC, $TMP/stdout, $TMP/stderr.
rom() {
	RC=0
	"$VMCTL" --sysfs-root "$SYS" gpu rom "$@" >"$TMP/stdout" \
		2>"$TMP/stderr" || RC=$?
}

# refused ADDRESS STATUS TEXT: refused with STATUS, TEXT on stderr, no FILE.
refused() {
	rom "$1" "$TMP/out/refused.rom"
	[ "$RC" = "$2" ] || bad "$1: exit $RC, not $2: $(cat "$TMP/stderr")"
	grep -qF -- "$3" "$TMP/stderr" ||
		bad "$1: refusal says: $(cat "$TMP/stderr")"
	[ ! -e "$TMP/out/refused.rom" ] || bad "$1: refused, yet written"
}

host good 'pass'
touch "$TMP/stamp"
sleep 0.01
dev=$SYS/bus/pci/devices/0000:01:00.0

# 1. The dump: the card's bytes, checked, summary printed, written whole.
echo old > "$TMP/out/gtx.rom"
ino=$(stat -c %i "$TMP/out/gtx.rom")
rom 0000:01:00.0 "$TMP/out/gtx.rom"
[ "$RC" = 0 ] || bad "dump: exit $RC: $(cat "$TMP/stderr")"
cmp -s "$dev/rom" "$TMP/out/gtx.rom" || bad "dump: FILE differs from the rom"
[ "$(cat "$TMP/stdout")" = "0000:01:00.0: ROM written to $TMP/out/gtx.rom: 2 images, 128 KiB: x86 10de:1b80 (64 KiB), efi 10de:1b80 (64 KiB, last)" ] ||
	bad "dump: summary: $(cat "$TMP/stdout")"
[ ! -s "$TMP/stderr" ] || bad "dump: stderr: $(cat "$TMP/stderr")"
[ "$(stat -c %a "$TMP/out/gtx.rom")" = 644 ] || bad "dump: mode $(stat -c %a "$TMP/out/gtx.rom")"
[ "$(stat -c %i "$TMP/out/gtx.rom")" != "$ino" ] ||
	bad "dump: FILE rewritten in place, not replaced by a rename"
[ -z "$(find "$TMP/out" -name '.gtx.rom.*')" ] || bad "dump: a temporary file is left"
say "dumped, checked and written atomically"

# 2. --json, and the short address form.
rom 01:00.0 "$TMP/out/gtx2.rom" --json
[ "$RC" = 0 ] || bad "--json: exit $RC: $(cat "$TMP/stderr")"
jq -e '.address == "0000:01:00.0" and .matches == true and
	(.rom.images | length) == 2 and .rom.images[1].last == true and
	.rom.images[0].code_type == "x86" and .rom.images[1].code_type == "efi" and
	.rom.size == 131072 and .rom.notes == []' "$TMP/stdout" >/dev/null ||
	bad "--json: $(cat "$TMP/stdout")"

# 3. Refusals.
refused 0000:00:1f.3 1 "refusing: 0000:00:1f.3 is no display controller (class 0403)"
refused 0000:01:00.1 1 "is no display controller (class 0403)"
refused 0000:00:02.0 1 "refusing: 0000:00:02.0 is the host's boot display"
refused 0000:09:00.0 69 "no PCI device at 0000:09:00.0"
rom nonsense "$TMP/out/x.rom"
[ "$RC" = 64 ] || bad "a bad address: exit $RC"
rom 01:00.0 "$TMP/out/"
[ "$RC" = 64 ] || bad "FILE a directory name: exit $RC"

# A running VM holds the card (its QEMU, pid 4242, in the fake proc).
mkdir -p "$VMCTL_STATE_DIR/vms/gpu-a" "$TMP/good/proc/4242"
echo '4242 (qemu-system-x86) S 1 4242 4242 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 3 0 777 0 0' \
	>"$TMP/good/proc/4242/stat"
python3 - "$VMCTL_STATE_DIR/vms/gpu-a/vm.json" <<'PY'
import json, sys
json.dump({"ssh_port": 2222, "vnc_display": -1, "created": 1, "pid": 4242,
           "starttime": 777, "started": 1,
           "claim": {"memory": 1 << 30, "bound": [],
                     "gpu_functions": ["0000:01:00.0", "0000:01:00.1"]}},
          open(sys.argv[1], "w"))
PY
refused 0000:01:00.0 1 'refusing: 0000:01:00.0 is in use by VM "gpu-a"'
rm -rf "$VMCTL_STATE_DIR/vms/gpu-a"
[ -z "$(find "$TMP/good" -newer "$TMP/stamp" ! -path "$TMP/good/proc" \
	! -path '*/proc/4242*' -print -quit)" ] ||
	bad "vmctl wrote into the fake tree: $(find "$TMP/good" -newer "$TMP/stamp")"
say "refused: no GPU, the boot display, a held card; nothing written"

# 4. A card on its host driver, and one without a ROM BAR.
host hostdrv 'fn["01:00.0"]["driver"] = "nouveau"'
refused 0000:01:00.0 1 "refusing: 0000:01:00.0 is on nouveau: turning its ROM on can disturb a card a host driver uses; move it to vfio-pci first (vmctl bind 0000:01:00.0)"
host norom 'del fn["01:00.0"]["rom"]'
refused 0000:01:00.0 69 "0000:01:00.0 has no expansion ROM"

# 5. A ROM for another card: written, with a warning.
host otherids 'fn["01:00.0"]["rom_ids"] = "10de:1b81"'
rom 0000:01:00.0 "$TMP/out/other.rom"
[ "$RC" = 0 ] || bad "other ids: exit $RC: $(cat "$TMP/stderr")"
grep -qx "vmctl: warning: the ROM names no image for 10de:1b80, the card's own ids" \
	"$TMP/stderr" || bad "other ids: no warning: $(cat "$TMP/stderr")"
cmp -s "$SYS/bus/pci/devices/0000:01:00.0/rom" "$TMP/out/other.rom" ||
	bad "other ids: not written"

# 6. A broken ROM (a truncated read): not written, FILE left as it was.
host broken 'pass'
truncate -s 100000 "$SYS/bus/pci/devices/0000:01:00.0/rom"
echo keep > "$TMP/out/keep.rom"
rom 0000:01:00.0 "$TMP/out/keep.rom"
[ "$RC" = 1 ] || bad "broken: exit $RC"
grep -qF "vmctl: the ROM of 0000:01:00.0 is not usable, not written: image 1 at offset 0x10000 is 65536 bytes long, but the file ends 34464 bytes after its start (a truncated dump?)" \
	"$TMP/stderr" || bad "broken: $(cat "$TMP/stderr")"
[ "$(cat "$TMP/out/keep.rom")" = keep ] || bad "broken: FILE changed"
[ -z "$(find "$TMP/out" -name '.keep.rom.*')" ] || bad "broken: a temporary file is left"
say "other ids written with a warning; a broken ROM not written"

[ "$failures" -eq 0 ] || fail "$failures check(s) failed"
say "ok"
