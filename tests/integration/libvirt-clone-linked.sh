#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# clone --linked with --connect qemu:///system under TCG, with
# snaptest-lib.sh's guest (a counter on the serial console, a shell reading
# it, a virtio disk).  Checked:
#   - refusals (status, one line, nothing made): SRC running, SRC with a
#     snapshot (the direct backend's refusals);
#   - a linked clone failing at DST's define, and one failing at its last
#     step (SRC's redefinition, after SRC's overlay was made again) leave
#     SRC exactly as it was (its domain's XML, its overlay's bytes) and no
#     layer, volume or keys;
#   - the linked clone: --json's shape (linked, the layer's path); the
#     layer volume stands on SRC's base and SRC's and DST's overlays on the
#     layer, as libvirt (vol-dumpxml) and qemu-img (--backing-chain) read
#     the files, and as both domains' <backingStore> chains say;
#   - both boot, at once, and read what SRC had written; what SRC writes
#     afterwards does not reach DST;
#   - destroying SRC leaves the layer (DST stands on it) and DST boots;
#     destroying DST, the last on it, removes the layer;
#   - a linked clone of a linked clone: a second layer over the first;
#     the first stays while the second's VMs stand on it.
TEST_NAME=libvirt-clone-linked
. "$(dirname "$0")/lib.sh"
need jq qemu-img cpio
unset VMCTL_SYSFS_ROOT VMCTL_PROC_ROOT VMCTL_DEV_ROOT VMCTL_CONNECT
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-lvlinked.XXXXXX")
export LC_ALL=C VMCTL_STATE_DIR=$TMP/state VMCTL_HOSTS_FILE=$TMP/hosts.yaml
URI=qemu:///system
S=lvlks$$ D=lvlkd$$ E=lvlke$$ EMU=
CUR=$S
digests=

. "$(dirname "$0")/lvtest-lib.sh"

# the pool's layers of this run's VMs (a layer is named after its SRC)
layers() { vsh vol-list vmctl | awk '{ print $1 }' | grep -E -- "^layer_($S|$D|$E)-" | sort | tr '\n' ' '; }
cleanup() {
	set +e
	lvt_remove_domains "$S" "$D" "$E"
	for v in $(layers); do vsh vol-delete --pool vmctl "$v" >/dev/null 2>&1; done
	lvt_remove_digests $digests
	rm -rf "$TMP" ${EMU:+"$EMU"}
}
trap cleanup EXIT

lvt_require
lvt_snaptest_vm "$S"

# ---- helpers (and lvt_snaptest_vm's, on the VM $CUR) -----------------------
vols() { vsh vol-list vmctl | awk '{ print $1 }' | grep -E -- "^($D|$E)[.-]" | sort | tr '\n' ' '; }
# a domain's disk chain as its definition says it, one file a line
chain() { vsh dumpxml --inactive "$1" | sed -n "/device='disk'/,/<\/disk>/s:.*<source file='\([^']*\)'.*:\1:p" | head -n "${2:-9}"; }
# qemu-img's reading of the files: every image of the chain, top first
qchain() { qemu-img info --backing-chain "$1" | sed -n 's/^image: //p'; }
src_fingerprint() {
	vsh dumpxml --inactive --security-info "$S"
	sha256sum < "$(volpath "$S.qcow2")"
}
nothing_made() {
	vsh dominfo "$D" >/dev/null 2>&1 && fail "$*: domain $D made"
	[ "$(vols)" = "" ] || fail "$*: volumes made: $(vols)"
	[ "$(layers)" = "" ] || fail "$*: layers made: $(layers)"
	[ "$(ls "$VMCTL_STATE_DIR/libvirt" | wc -l)" = 1 ] ||
		fail "$*: keys made: $(ls -a "$VMCTL_STATE_DIR/libvirt")"
	[ -z "$before" ] || [ "$(src_fingerprint)" = "$before" ] || fail "$*: SRC changed: $(diff <(echo "$before") <(src_fingerprint))"
}

# ---- 1. SRC boots and writes its disk; refusals --------------------------------
lv create "$TMP/$S.yaml" >/dev/null 2>"$TMP/err" || fail "create: $(cat "$TMP/err")"
wait_for 240 log_has '^snaptest: tick 2$' || fail "guest did not boot: $(log | tail -n 20)"
disk_write src-one
before=   # (a running SRC's file moves)
expect_refused 1 "VM $S is running: stop it first" lv clone "$S" "$D" --linked
nothing_made "a refused linked clone of a running SRC"
halt "$S"
lv snapshot create "$S" s1 >/dev/null || fail "snapshot failed"
before=$(src_fingerprint)
expect_refused 1 "VM $S has 1 snapshot: a linked clone freezes its disk" lv clone "$S" "$D" --linked
nothing_made "a refused linked clone of a SRC with snapshots"
lv snapshot delete "$S" s1 >/dev/null || fail "snapshot delete failed"
before=$(src_fingerprint)

# ---- 2. a failure midway leaves SRC as it was --------------------------------
# (libvirt refuses to define DST's domain when its emulator is missing: SRC's
# kept spec made to name one; the layer and DST's overlay are made by then)
sp=$VMCTL_STATE_DIR/libvirt/$(vsh domuuid "$S")/spec.json
cp "$sp" "$TMP/spec.json"
jq '.qemu.binary = "/nonexistent/qemu-system-x86_64"' "$TMP/spec.json" > "$sp" || fail "cannot edit $sp"
expect_refused 1 "defining the domain" lv clone "$S" "$D" --linked
nothing_made "a linked clone that failed at define"
cp "$TMP/spec.json" "$sp"
say "a failed linked clone left SRC's definition and overlay as they were"
# a failure at the last step, SRC's redefinition, after its overlay was made
# again over the layer: SRC's domain made to name an emulator that goes away
# (a link to QEMU, then removed: libvirt will not define it again), so the
# overlay must come back from the local copy, byte for byte
EMU=$(mktemp -d /tmp/vmctl-lvlinked-emu.XXXXXX); chmod 755 "$EMU"
vsh dumpxml --inactive --security-info "$S" > "$TMP/src.xml"
real=$(sed -n 's:.*<emulator>\(.*\)</emulator>.*:\1:p' "$TMP/src.xml")
ln -s "$real" "$EMU/qemu"
sed "s:<emulator>.*</emulator>:<emulator>$EMU/qemu</emulator>:" "$TMP/src.xml" > "$TMP/src-emu.xml"
vsh define "$TMP/src-emu.xml" >/dev/null || fail "cannot point $S at $EMU/qemu"
rm -f "$EMU/qemu"
before=$(src_fingerprint)
expect_refused 1 "redefining the source's domain" lv clone "$S" "$D" --linked
nothing_made "a linked clone that failed redefining SRC"
vsh define "$TMP/src.xml" >/dev/null || fail "cannot put $S's definition back"
rm -rf "$EMU"
before=$(src_fingerprint)
say "a linked clone failing at SRC's redefinition put SRC's overlay back"

# ---- 3. the linked clone ------------------------------------------------------
sbase=$(backing "$S.qcow2")
t0=$(date +%s%3N)
out=$(lv clone "$S" "$D" --linked --json 2>"$TMP/err") || fail "clone: $out $(cat "$TMP/err")"
say "linked clone (libvirt): $(($(date +%s%3N) - t0)) ms"
[ "$(jq -c '[.name, .state, .backend, .host, .clone.source, .clone.linked]' <<<"$out")" = \
	"[\"$D\",\"stopped\",\"libvirt\",\"$URI\",\"$S\",true]" ] || fail "clone --json: $out"
layer=$(jq -r .clone.layer <<<"$out")
[[ "$layer" =~ /layer_$S-[0-9a-f]{8}\.qcow2$ ]] || fail "layer: $layer"
[ "$(layers)" = "${layer##*/} " ] || fail "the pool's layers: $(layers)"
[ "$(volpath "${layer##*/}")" = "$layer" ] || fail "the layer is not the pool's volume"
[ "$(vols)" = "$D-seed.iso $D-serial.log $D.qcow2 " ] || fail "DST's volumes: $(vols)"
# the files, as libvirt and qemu-img read them
[ "$(backing "${layer##*/}")" = "$sbase" ] || fail "the layer stands on '$(backing "${layer##*/}")', not SRC's base $sbase"
[ "$(backing "$S.qcow2")" = "$layer" ] || fail "SRC's overlay stands on '$(backing "$S.qcow2")'"
[ "$(backing "$D.qcow2")" = "$layer" ] || fail "DST's overlay stands on '$(backing "$D.qcow2")'"
want="$(volpath "$D.qcow2")
$layer
$sbase"
[ "$(qchain "$(volpath "$D.qcow2")")" = "$want" ] || fail "DST's chain (qemu-img): $(qchain "$(volpath "$D.qcow2")")"
[ "$(qchain "$(volpath "$S.qcow2")")" = "$(volpath "$S.qcow2")
$layer
$sbase" ] || fail "SRC's chain (qemu-img): $(qchain "$(volpath "$S.qcow2")")"
qemu-img check -q "$layer" || fail "the layer does not check"
# the domains' definitions name the same chain
[ "$(chain "$D" 3)" = "$want" ] || fail "DST's domain chain: $(chain "$D")"
[ "$(chain "$S" 3)" = "$(volpath "$S.qcow2")
$layer
$sbase" ] || fail "SRC's domain chain: $(chain "$S")"
[ "$(vsh domuuid "$S")" != "$(vsh domuuid "$D")" ] || fail "DST has SRC's UUID"
vsh dumpxml "$D" | grep -c "<vmctl:name>$D</vmctl:name>" >/dev/null || fail "DST's metadata"
vsh dumpxml "$S" | grep -c "<vmctl:name>$S</vmctl:name>" >/dev/null || fail "SRC lost its metadata"

# ---- 4. both boot, at once, on the layer ---------------------------------------
boot "$D"
r=$(disk_read); [ "$r" = src-one ] || fail "DST reads '$r', not SRC's src-one"
boot "$S"
r=$(disk_read); [ "$r" = src-one ] || fail "SRC reads '$r' after the clone"
disk_write src-two
halt "$S"
CUR=$D; r=$(disk_read); [ "$r" = src-one ] || fail "SRC's write reached the running DST: '$r'"
halt "$D"
say "SRC and DST ran at once on the layer; SRC's later write stayed SRC's"

# ---- 5. a linked clone of the linked clone: a second layer -------------------
out=$(lv clone "$D" "$E" --linked --json 2>"$TMP/err") || fail "clone $D: $out $(cat "$TMP/err")"
layer2=$(jq -r .clone.layer <<<"$out")
[[ "$layer2" =~ /layer_$D-[0-9a-f]{8}\.qcow2$ ]] || fail "layer 2: $layer2"
[ "$(chain "$E" 4)" = "$(volpath "$E.qcow2")
$layer2
$layer
$sbase" ] || fail "E's domain chain: $(chain "$E")"
[ "$(qchain "$(volpath "$E.qcow2")")" = "$(chain "$E" 4)" ] || fail "E's chain (qemu-img): $(qchain "$(volpath "$E.qcow2")")"
boot "$E"
r=$(disk_read); [ "$r" = src-one ] || fail "E reads '$r'"
halt "$E"

# ---- 6. destroy: the last VM on a layer removes it ----------------------------
lv destroy "$S" >/dev/null || fail "destroy $S failed"
[ -e "$layer" ] || fail "destroying SRC removed the layer DST stands on"
lv destroy "$D" >/dev/null || fail "destroy $D failed"
[ -e "$layer" ] && [ -e "$layer2" ] || fail "destroying $D removed a layer $E stands on"
boot "$E"
r=$(disk_read); [ "$r" = src-one ] || fail "after $S and $D are gone, $E reads '$r'"
halt "$E"
lv destroy "$E" >/dev/null || fail "destroy $E failed"
[ "$(layers)" = "" ] || fail "layers left: $(layers)"
[ "$(vols)" = "" ] || fail "volumes left: $(vols)"
say "each layer went with the last VM on it"
say "PASS"
