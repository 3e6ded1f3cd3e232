#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# clone with --connect qemu:///system under TCG, with snaptest-lib.sh's
# guest (a counter on the serial console, a shell reading it, a virtio
# disk).  Checked:
#   - refusals (status, one line, nothing made): SRC running or saved
#     (libvirt's managed save), an invalid
#     DST name, DST = SRC, DST a domain or one of DST's volumes already
#     there, a SRC with snapshots, a SRC whose spec is not kept
#     here (made from another machine);
#   - a clone failing at its last step (define) leaves nothing behind;
#   - a full clone of the stopped SRC: --json's shape; DST is stopped and
#     has its own UUID, MAC, seed volume, serial log volume and keys here,
#     and an overlay volume standing on SRC's base (vol-dumpxml);
#   - DST boots and reads what SRC had written to its disk; what SRC
#     writes afterwards does not reach DST;
#   - destroying SRC leaves DST's chain whole (qemu-img check) and DST
#     boots from it; destroying DST leaves no volume and no keys;
#   - a UEFI VM's clone has its own variables (<nvram> from the template,
#     DST_VARS.fd) and SRC's loader.
TEST_NAME=libvirt-clone
. "$(dirname "$0")/lib.sh"
need jq qemu-img cpio
unset VMCTL_SYSFS_ROOT VMCTL_PROC_ROOT VMCTL_DEV_ROOT VMCTL_CONNECT
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-lvclone.XXXXXX")
export LC_ALL=C VMCTL_STATE_DIR=$TMP/state VMCTL_HOSTS_FILE=$TMP/hosts.yaml
URI=qemu:///system
S=lvcls$$ D=lvcld$$ E=lvcle$$ G=lvclg$$ U=lvclu$$ V=lvclv$$
CUR=$S
digests=

. "$(dirname "$0")/lvtest-lib.sh"

cleanup() {
	set +e
	lvt_remove_domains "$S" "$D" "$E" "$G" "$U" "$V"
	lvt_remove_digests $digests
	rm -rf "$TMP"
}
trap cleanup EXIT

lvt_require
lvt_snaptest_vm "$S"

# ---- helpers (and lvt_snaptest_vm's, on the VM $CUR) -----------------------
vols() { vsh vol-list vmctl | awk '{ print $1 }' | grep -E -- "^($D|$E)[.-]" | sort | tr '\n' ' '; }
uuid() { vsh domuuid "$1"; }
mac() { vsh domiflist "$1" | awk '{ print $5 }'; }
nothing_made() {
	vsh dominfo "$D" >/dev/null 2>&1 && fail "$*: domain $D made"
	[ "$(vols)" = "" ] || fail "$*: volumes made: $(vols)"
	[ "$(ls "$VMCTL_STATE_DIR/libvirt" | wc -l)" = 1 ] ||
		fail "$*: keys made: $(ls -a "$VMCTL_STATE_DIR/libvirt")"
}

# ---- 1. SRC boots and writes its disk; refused while it runs ---------------
lv create "$TMP/$S.yaml" >/dev/null 2>"$TMP/err" || fail "create: $(cat "$TMP/err")"
wait_for 240 log_has '^snaptest: tick 2$' || fail "guest did not boot: $(log | tail -n 20)"
disk_write src-one
expect_refused 1 "VM $S is running: stop it first" lv clone "$S" "$D"
nothing_made "a refused clone of a running SRC"
lv save "$S" >/dev/null || fail "save failed"
expect_refused 1 "VM $S holds a saved state" lv clone "$S" "$D"
nothing_made "a refused clone of a saved SRC"
lv save --discard "$S" >/dev/null || fail "save --discard failed"

# ---- 2. refusals ---------------------------------------------------------------
expect_refused 64 'invalid VM name "Bad_x"' lv clone "$S" Bad_x
expect_refused 64 "a clone needs a name of its own" lv clone "$S" "$S"
printf "<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os></domain>" \
	"$G" > "$TMP/g.xml"
vsh define "$TMP/g.xml" >/dev/null || fail "cannot define $G"
expect_refused 1 "a VM named \"$G\" already exists" lv clone "$S" "$G"
vsh dumpxml "$G" | grep -c vmctl >/dev/null && fail "a refused clone changed $G"
vsh vol-create-as vmctl "$E.qcow2" 1M >/dev/null || fail "cannot make $E.qcow2"
expect_refused 1 "volume $E.qcow2 of the pool exists" lv clone "$S" "$E"
vsh dominfo "$E" >/dev/null 2>&1 && fail "a refused clone defined $E"
[ "$(vols)" = "$E.qcow2 " ] || fail "a refused clone made volumes: $(vols)"
vsh vol-delete --pool vmctl "$E.qcow2" >/dev/null || fail "cannot delete $E.qcow2"
nothing_made "refused clones"
expect_refused 1 "its spec is not kept on this machine" \
	env VMCTL_STATE_DIR="$TMP/elsewhere" "$VMCTL" --connect "$URI" clone "$S" "$D"
nothing_made "a clone from another machine"
lv snapshot create "$S" s1 >/dev/null || fail "snapshot failed"
expect_refused 1 "VM $S has 1 snapshot" lv clone "$S" "$D"
nothing_made "a refused clone of a SRC with snapshots"
lv snapshot delete "$S" s1 >/dev/null || fail "snapshot delete failed"
# a clone that fails at its last step (libvirt refuses to define a domain
# whose emulator is missing: SRC's kept spec made to name one) leaves
# nothing: no domain, no volume, no keys
sp=$VMCTL_STATE_DIR/libvirt/$(vsh domuuid "$S")/spec.json
cp "$sp" "$TMP/spec.json"
jq '.qemu.binary = "/nonexistent/qemu-system-x86_64"' "$TMP/spec.json" > "$sp" || fail "cannot edit $sp"
expect_refused 1 "defining the domain" lv clone "$S" "$D"
nothing_made "a clone that failed at define"
cp "$TMP/spec.json" "$sp"

# ---- 3. the clone ---------------------------------------------------------------
t0=$(date +%s%3N)
out=$(lv clone "$S" "$D" --json 2>"$TMP/err") || fail "clone: $out $(cat "$TMP/err")"
say "clone (1M base, libvirt): $(($(date +%s%3N) - t0)) ms"
[ "$(jq -c '[.name, .state, .backend, .host, .clone.source, .clone.linked, .clone.layer]' <<<"$out")" = \
	"[\"$D\",\"stopped\",\"libvirt\",\"$URI\",\"$S\",false,null]" ] || fail "clone --json: $out"
[ "$(vsh domstate "$D")" = "shut off" ] || fail "DST is $(vsh domstate "$D")"
[ "$(uuid "$S")" != "$(uuid "$D")" ] || fail "DST has SRC's UUID"
[ -n "$(mac "$D")" ] && [ "$(mac "$S")" != "$(mac "$D")" ] || fail "MACs: $(mac "$S") $(mac "$D")"
[ "$(vols)" = "$D-seed.iso $D-serial.log $D.qcow2 " ] || fail "DST's volumes: $(vols)"
vsh domblklist "$D" | grep -c -- "$(volpath "$D-seed.iso")" >/dev/null || fail "DST's seed is not its own"
vsh dumpxml "$D" | grep -c -- "$(volpath "$D-serial.log")" >/dev/null || fail "DST's log is not its own"
b=$(backing "$D.qcow2")
[ -n "$b" ] && [ "$b" = "$(backing "$S.qcow2")" ] || fail "DST's overlay stands on '$b', SRC's on '$(backing "$S.qcow2")'"
kd=$VMCTL_STATE_DIR/libvirt/$(uuid "$D")
grep -q "^vmctl-$D " "$kd/known_hosts" || fail "no pinned host key for $D in $kd"
cmp -s "$kd/known_hosts" "$VMCTL_STATE_DIR/libvirt/$(uuid "$S")/known_hosts" && fail "DST has SRC's host key"
cmp -s "$kd/id_ed25519" "$VMCTL_STATE_DIR/libvirt/$(uuid "$S")/id_ed25519" 2>/dev/null && fail "DST has SRC's client key"
vsh dumpxml "$D" | grep -c "<vmctl:name>$D</vmctl:name>" >/dev/null || fail "DST's metadata: $(vsh dumpxml "$D" | grep vmctl:)"
lv list --json | jq -e --arg n "$D" '.[] | select(.name == $n)' >/dev/null || fail "list does not show $D"
expect_refused 1 "a VM named \"$D\" already exists" lv clone "$S" "$D"

# ---- 4. DST boots with SRC's disk; SRC's later writes stay SRC's --------------
boot "$D"
r=$(disk_read); [ "$r" = src-one ] || fail "DST reads '$r', not SRC's src-one"
log | grep -c '^snaptest: booted$' >/dev/null || fail "DST's serial log shows no boot"
halt "$D"
boot "$S"
disk_write src-two
halt "$S"
boot "$D"
r=$(disk_read); [ "$r" = src-one ] || fail "SRC's write reached DST: '$r'"
halt "$D"
say "DST booted on its copy; SRC's later write did not reach it"

# ---- 5. destroy SRC: DST's chain stays whole -----------------------------------
lv destroy "$S" >/dev/null || fail "destroy $S failed"
dp=$(volpath "$D.qcow2")
qemu-img check -q "$dp" || fail "DST's overlay does not check"
qemu-img info --backing-chain "$dp" >/dev/null || fail "DST's chain is broken: $(qemu-img info --backing-chain "$dp" 2>&1)"
boot "$D"
r=$(disk_read); [ "$r" = src-one ] || fail "after SRC's destroy DST reads '$r'"
lv destroy "$D" >/dev/null || fail "destroy $D failed"
vsh dominfo "$D" >/dev/null 2>&1 && fail "DST still defined"
[ "$(vols)" = "" ] || fail "volumes left: $(vols)"
[ -e "$kd" ] && fail "DST's keys stay in $kd"

# ---- 6. a UEFI VM: DST's variables are its own, from the template -------------
sed -e "s/^name: .*/name: $U/" -e '$a firmware: uefi' "$TMP/$S.yaml" > "$TMP/$U.yaml"
lv create --no-start "$TMP/$U.yaml" >/dev/null 2>"$TMP/err" || fail "create $U: $(cat "$TMP/err")"
lv clone "$U" "$V" >/dev/null 2>"$TMP/err" || fail "clone $U: $(cat "$TMP/err")"
nv() { vsh dumpxml --inactive "$1" | grep '<nvram'; }
lo() { vsh dumpxml --inactive "$1" | grep '<loader'; }
nv "$V" | grep -c "template='[^']*'>[^<]*/${V}_VARS.fd</nvram>" >/dev/null || fail "DST's nvram: $(nv "$V")"
[ "$(nv "$U" | sed "s/$U/X/")" = "$(nv "$V" | sed "s/$V/X/")" ] || fail "nvram: $(nv "$U") vs $(nv "$V")"
[ -n "$(lo "$V")" ] && [ "$(lo "$U")" = "$(lo "$V")" ] || fail "loader: $(lo "$U") vs $(lo "$V")"
lv destroy "$V" >/dev/null && lv destroy "$U" >/dev/null || fail "destroy $U, $V failed"
say "UEFI: $(nv "$V" | sed 's/^ *//')"
say "PASS"
