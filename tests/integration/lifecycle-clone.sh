#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# vmctl clone on the direct backend (issue 13).  Without a boot, on a
# small local qcow2 base (qemu-io writes the "guest's" data):
#   - a full clone holds SRC's disk, over the same base, and is
#     independent of it (SRC written afterwards: the clone unchanged),
#     even when SRC stands on layers; its own spec name, SSH keys, VNC
#     password, cloud-init seed;
#   - a linked clone: SRC's disk frozen as STATE_DIR/layers/SRC-HEX.qcow2,
#     SRC and DST both over it (vm.json `layers`), what SRC writes later
#     not seen by DST; image list shows the layer with its VMs;
#   - refusals (one line, exit status, nothing changed): DST exists, bad
#     name, DST == SRC, SRC missing, SRC running, --linked with
#     snapshots, --connect --linked of a SRC the host does not have; a
#     clone failing halfway (qemu-img made to fail on DST's overlay) leaves
#     no DST, no layer, SRC's disk as it was.
# Then, with the Debian cloud image (two boots under TCG): SRC boots and
# writes a file; a linked clone DST is made; SRC is destroyed (the layer
# stays, DST's chain passes `qemu-img check`); DST boots: cloud-init ran
# again (hostname DST), `vmctl ssh DST` works with DST's pinned host key,
# which differs from SRC's, SRC's file is there; destroying DST removes
# the layer, and prune may then take the base.
TEST_NAME=lifecycle-clone
. "$(dirname "$0")/lib.sh"
need qemu-img qemu-io
lc_setup clone

S=$VMCTL_STATE_DIR
snap_state() {   # what refusals must not change
	(cd "$S" && find . -type f ! -name lock -print0 | sort -z |
		xargs -0 -r stat -c '%n %s %Y %i' 2>/dev/null) | md5sum
}
# refuse WHAT WANT-STATUS WANT-TEXT ARGS...: one line, the status, no change
refuse() {
	local what=$1 want=$2 text=$3 before rc
	shift 3
	before=$(snap_state)
	set +e
	"$VMCTL" "$@" >"$LC_TMP/out" 2>"$LC_TMP/err"
	rc=$?
	set -e
	[ "$rc" = "$want" ] || fail "$what: exit $rc, want $want: $(cat "$LC_TMP/err")"
	[ "$(wc -l <"$LC_TMP/err")" = 1 ] || fail "$what: not one line: $(cat "$LC_TMP/err")"
	grep -q -- "$text" "$LC_TMP/err" || fail "$what: unclear: $(cat "$LC_TMP/err")"
	[ "$(snap_state)" = "$before" ] || fail "$what: the state dir changed"
	say "refused ($what): $(cat "$LC_TMP/err")"
}
pattern() {   # pattern DISK BYTE: the first MiB reads as BYTE
	local out
	out=$(qemu-io -r -c "read -P $2 0 1M" "$1" 2>&1)
	grep -q "read 1048576" <<<"$out" && ! grep -qi "verification failed" <<<"$out"
}
disk() { printf '%s/vms/%s/disk.qcow2\n' "$S" "$1"; }
backing() { qemu-img info --output=json "$1" | jq -r '."backing-filename" // empty'; }

qemu-img create -q -f qcow2 "$LC_TMP/base.qcow2" 64M
spec=$(lc_spec src "" "disk: {image: $LC_TMP/base.qcow2}")
vmc create --no-start "$spec" >/dev/null 2>&1 || fail "create src"
qemu-io -c "write -P 0x11 0 1M" "$(disk src)" >/dev/null

# ---- refusals ------------------------------------------------------------
vmc create --no-start "$(lc_spec other)" >/dev/null 2>&1 || fail "create other"
refuse "DST exists" 1 'a VM named "other" already exists' clone src other
refuse "bad name" 64 'invalid VM name' clone src 'bad/name'
refuse "DST is SRC" 64 'a name of its own' clone src src
refuse "SRC missing" 1 'no VM named "nosuch"' clone nosuch dst
# --linked with --connect goes to the host (libvirt-clone-linked.sh), whose
# domains are its own: SRC is not one of them
refuse "--connect --linked" 1 'no VM named "src"' clone --connect test:///default src dst --linked
vmc snapshot create src s1 >/dev/null || fail "snapshot create"
refuse "linked with snapshots" 1 'has 1 snapshot' clone --linked src dst
vmc snapshot delete src s1 >/dev/null || fail "snapshot delete"
vmc start src >/dev/null 2>&1 || fail "start src"
refuse "SRC running" 1 'src is running: stop it first' clone src dst
vmc kill src >/dev/null || fail "kill src"
vmc destroy other >/dev/null

# A clone failing halfway: qemu-img fails on DST's overlay, after the
# layer and SRC's next overlay were made.
mkdir -p "$LC_TMP/shim"
cat > "$LC_TMP/shim/qemu-img" <<EOF
#!/bin/sh
for a; do case \$a in */vms/half/*) echo "shim: refused" >&2; exit 1 ;; esac; done
exec $(command -v qemu-img) "\$@"
EOF
chmod +x "$LC_TMP/shim/qemu-img"
before=$(snap_state)
PATH=$LC_TMP/shim:$PATH vmc clone --linked src half 2>"$LC_TMP/err" &&
	fail "a clone whose qemu-img failed succeeded"
[ ! -e "$S/vms/half" ] || fail "a failed clone left its VM"
[ -z "$(ls -A "$S/layers" 2>/dev/null)" ] || fail "a failed clone left a layer: $(ls "$S/layers")"
[ ! -e "$S/vms/src/disk.qcow2.clone-new" ] || fail "a failed clone left SRC's next overlay"
[ "$(snap_state)" = "$before" ] || fail "a failed clone changed the state dir"
pattern "$(disk src)" 0x11 || fail "SRC's disk changed by a failed clone"
say "failed halfway, undone: $(cat "$LC_TMP/err")"

# ---- full clone ------------------------------------------------------------
vmc clone src full >/dev/null || fail "full clone"
[ "$(backing "$(disk full)")" = "$LC_TMP/base.qcow2" ] || fail "full clone not over the base"
pattern "$(disk full)" 0x11 || fail "full clone lacks SRC's data"
[ "$(jq -r .name "$S/vms/full/spec.json")" = full ] || fail "full clone's spec not named full"
for f in id_ed25519.pub ssh_host_ed25519_key.pub vnc-password seed.iso; do
	[ -s "$S/vms/full/$f" ] || fail "full clone has no $f"
	! cmp -s "$S/vms/src/$f" "$S/vms/full/$f" || fail "full clone shares SRC's $f"
done
grep -q '^vmctl-full ' "$S/vms/full/known_hosts" || fail "full clone's host key not pinned for full"
qemu-io -c "write -P 0x22 0 1M" "$(disk src)" >/dev/null
pattern "$(disk full)" 0x11 || fail "full clone changed with SRC"
say "full clone: SRC's data over the same base, its own identity, independent"

# ---- linked clone ------------------------------------------------------------
out=$(vmc clone --linked --json src linked) || fail "linked clone"
layer=$(jq -r .clone.layer <<<"$out")
[ "$(jq -r .clone.linked <<<"$out")" = true ] && [ -f "$layer" ] ||
	fail "no layer: $out"
case $layer in "$S/layers/src-"*.qcow2) ;; *) fail "layer not under STATE_DIR/layers: $layer" ;; esac
[ "$(backing "$(disk src)")" = "$layer" ] || fail "SRC not over the layer"
[ "$(backing "$(disk linked)")" = "$layer" ] || fail "DST not over the layer"
[ "$(backing "$layer")" = "$LC_TMP/base.qcow2" ] || fail "layer not over the base"
[ "$(jq -r '.layers[0]' "$S/vms/src/vm.json")" = "$layer" ] || fail "SRC's vm.json lacks the layer"
[ "$(jq -r '.layers[0]' "$S/vms/linked/vm.json")" = "$layer" ] || fail "DST's vm.json lacks the layer"
pattern "$(disk linked)" 0x22 || fail "linked clone lacks SRC's data"
qemu-io -c "write -P 0x33 0 1M" "$(disk src)" >/dev/null
pattern "$(disk linked)" 0x22 || fail "linked clone sees what SRC wrote later"
pattern "$(disk src)" 0x33 || fail "SRC lost its write"
vms=$(vmc image list --json | jq -r --arg l "$layer" '.[] | select(.path == $l) | .vms | join(",")')
[ "$vms" = "linked,src" ] || fail "image list: layer's VMs are '$vms'"
# A full clone of a VM on a layer stands on the base alone.
vmc clone linked full2 >/dev/null || fail "full clone of a linked clone"
[ "$(backing "$(disk full2)")" = "$LC_TMP/base.qcow2" ] || fail "full2 not over the base"
pattern "$(disk full2)" 0x22 || fail "full2 lacks the layer's data"
vmc destroy src >/dev/null || fail "destroy src"
[ -f "$layer" ] || fail "destroying SRC removed the layer DST needs"
qemu-img check -q "$(disk linked)" || fail "DST's chain broken after SRC went"
vmc image prune >/dev/null || fail "prune"
[ -f "$layer" ] || fail "prune removed a layer in use"
vmc destroy linked >/dev/null || fail "destroy linked"
[ ! -e "$layer" ] || fail "the last VM on the layer went, the layer stayed"
pattern "$(disk full2)" 0x22 || fail "full2 changed"
vmc destroy full >/dev/null; vmc destroy full2 >/dev/null
say "linked clone: layer shared, kept while a VM stands on it, removed with the last"

# ---- the cloud image: two boots --------------------------------------------
need ssh ssh-keygen python3
IMG_DIR=${VMCTL_TEST_CACHE:-/var/cache/vmctl-test}/cloud
[ -f "$IMG_DIR/debian-12-test.qcow2" ] || skip "no cloud image (scripts/build-cloud-image.sh)"
mkdir -p "$LC_TMP/www"
ln -s "$IMG_DIR/debian-12-test.qcow2" "$LC_TMP/www/debian-12-test.qcow2"
python3 "$ROOT/tests/integration/helpers/httpserver.py" "$LC_TMP/www" "$LC_TMP/port" \
	"$LC_TMP/http.log" &
wait_for 10 test -s "$LC_TMP/port" || fail "HTTP server did not start"
SUM=$(awk '$2 ~ /debian-12-test.qcow2$/ { print $1 }' "$IMG_DIR/SHA256SUMS")
cat > "$LC_TMP/csrc.yaml" <<YAML
name: csrc
cpus: 2
memory: 1G
accel: tcg
disk:
  image: http://127.0.0.1:$(cat "$LC_TMP/port")/debian-12-test.qcow2
  sha256: $SUM
kernel:
  image: $IMG_DIR/vmlinuz
  initrd: $IMG_DIR/initrd.img
  cmdline: root=LABEL=root rw console=ttyS0 no_timer_check
cloud_init: {user: vmadmin}
network: {ssh_listen: 127.0.0.1}
vnc: false
YAML
t=$SECONDS
vmc create --wait=900 "$LC_TMP/csrc.yaml" >/dev/null 2>"$LC_TMP/err" ||
	fail "create csrc: $(tail -n 3 "$LC_TMP/err")"
say "csrc booted in $((SECONDS - t)) s"
[ "$(vmc ssh csrc -- hostname)" = csrc ] || fail "csrc's hostname"
vmc ssh csrc -- sh -c 'echo from-csrc > marker && sync' || fail "writing in csrc"
src_key=$(vmc ssh csrc -- sudo cat /etc/ssh/ssh_host_ed25519_key.pub | cut -d' ' -f2)
vmc stop csrc >/dev/null || fail "stop csrc"

vmc clone --linked csrc cdst >/dev/null || fail "linked clone of csrc"
layer=$(jq -r '.layers[0]' "$S/vms/cdst/vm.json")
base=$(jq -r .base_image "$S/vms/cdst/vm.json")
vmc destroy csrc >/dev/null || fail "destroy csrc"
[ -f "$layer" ] || fail "destroying csrc removed cdst's layer"
qemu-img check -q "$(disk cdst)" || fail "cdst's chain broken after csrc went"
vmc image prune --dry-run | grep -qF -e "$(basename "$base")" -e "$(basename "$layer")" &&
	fail "prune would remove what cdst stands on"
t=$SECONDS
vmc start cdst >/dev/null 2>&1 || fail "start cdst"
vmc wait cdst --timeout 900 >/dev/null 2>"$LC_TMP/err" ||
	fail "cdst: no SSH: $(tail -n 3 "$LC_TMP/err")"
say "cdst booted in $((SECONDS - t)) s"
[ "$(vmc ssh cdst -- hostname)" = cdst ] || fail "cloud-init did not run again: hostname $(vmc ssh cdst -- hostname)"
dst_key=$(vmc ssh cdst -- sudo cat /etc/ssh/ssh_host_ed25519_key.pub | cut -d' ' -f2)
[ "$dst_key" = "$(cut -d' ' -f2 "$S/vms/cdst/ssh_host_ed25519_key.pub")" ] ||
	fail "cdst's host key is not the one vmctl made for it"
[ "$dst_key" != "$src_key" ] || fail "cdst kept csrc's host key"
[ "$(vmc ssh cdst -- cat marker)" = from-csrc ] || fail "csrc's file is not in cdst"
say "cdst: hostname cdst, its own pinned host key, csrc's data"
vmc destroy --force cdst >/dev/null || fail "destroy cdst"
[ ! -e "$layer" ] || fail "destroying cdst left the layer"
vmc image prune --dry-run | grep -qF "$(basename "$base")" ||
	fail "with no VM left the base is still held"
say "PASS"
