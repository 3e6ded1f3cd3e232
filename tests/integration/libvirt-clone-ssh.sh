#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# clone with --connect qemu:///system of a Debian 12 cloud-image VM, one
# guest boot (DST's; SRC is created --no-start): DST answers `vmctl ssh`
# with its own pinned host key (not SRC's), its own client key, hostname
# DST (its seed, a new cloud-init instance), and its own VNC password.
TEST_NAME=libvirt-clone-ssh
. "$(dirname "$0")/lib.sh"
need jq qemu-img ssh ssh-keygen virsh
unset VMCTL_SYSFS_ROOT VMCTL_PROC_ROOT VMCTL_DEV_ROOT VMCTL_CONNECT
URI=qemu:///system
vsh() { virsh -q -c "$URI" "$@"; }
lv() { "$VMCTL" --connect "$URI" "$@"; }

[ "$(id -u)" -eq 0 ] || skip "qemu:///system needs root here"
vsh version >/dev/null 2>&1 ||
	skip "libvirtd is not running (as root: scripts/libvirtd.sh start)"
vsh net-info vmctl >/dev/null 2>&1 ||
	skip "no libvirt network vmctl (scripts/libvirtd.sh start)"
IMG_DIR=${VMCTL_TEST_CACHE:-/var/cache/vmctl-test}/cloud
"$ROOT/scripts/build-cloud-image.sh" "$IMG_DIR" >&2 || skip "cannot build the cloud image"
[ -f "$IMG_DIR/debian-12-test.qcow2" ] || skip "no cloud image"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-lvclssh.XXXXXX")
export LC_ALL=C VMCTL_STATE_DIR=$TMP/state VMCTL_HOSTS_FILE=$TMP/hosts.yaml
KEYS=$VMCTL_STATE_DIR/libvirt
id=$$-$RANDOM
src=lvclssh-s-$id dst=lvclssh-d-$id
uploaded=()
base_name=

cleanup() {
	local rc=$? d v p
	set +e
	for d in "$src" "$dst"; do
		vsh destroy "$d" >/dev/null 2>&1
		vsh undefine --nvram "$d" >/dev/null 2>&1 ||
			vsh undefine "$d" >/dev/null 2>&1
		for v in "$d.qcow2" "$d-seed.iso" "$d-serial.log"; do
			vsh vol-delete --pool vmctl "$v" >/dev/null 2>&1
		done
	done
	for p in ${base_name:+"$base_name"} "${uploaded[@]}"; do
		for v in $(vsh vol-list vmctl | awk '{ print $1 }' | grep -F -- "$p."); do
			vsh vol-delete --pool vmctl "$v" >/dev/null 2>&1
		done
	done
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT

# A base of this run's own (another digest); kernel and initrd deleted
# at the end only if this run sent them.
cp "$IMG_DIR/debian-12-test.qcow2" "$TMP/base.qcow2"
qemu-img resize -q "$TMP/base.qcow2" "+$(( $$ % 1000 + 1 ))M"
base_name=base-sha256-$(sha256sum "$TMP/base.qcow2" | cut -d' ' -f1).qcow2
cat > "$TMP/$src.yaml" <<YAML
name: $src
cpus: 2
memory: 1G
accel: tcg
disk:
  image: $TMP/base.qcow2
kernel:
  image: $IMG_DIR/vmlinuz
  initrd: $IMG_DIR/initrd.img
  cmdline: root=LABEL=root rw console=ttyS0 no_timer_check
cloud_init: {user: vmadmin}
vnc: {listen: 127.0.0.1, display: $(( 50 + RANDOM % 50 ))}
YAML

lv create --no-start "$TMP/$src.yaml" > /dev/null 2> "$TMP/create.err" ||
	fail "create: $(cat "$TMP/create.err")"
for f in "$IMG_DIR/vmlinuz" "$IMG_DIR/initrd.img"; do
	grep -qF "Uploaded $f to" "$TMP/create.err" &&
		uploaded+=("base-sha256-$(sha256sum "$f" | cut -d' ' -f1).raw")
done
lv clone "$src" "$dst" > "$TMP/clone.out" || fail "clone failed"
grep -q "^Cloned VM $src into $dst " "$TMP/clone.out" || fail "clone said: $(cat "$TMP/clone.out")"
su=$(vsh domuuid "$src") du=$(vsh domuuid "$dst")
[ -s "$KEYS/$du/known_hosts" ] || fail "no keys for $dst in $KEYS/$du"
cmp -s "$KEYS/$su/known_hosts" "$KEYS/$du/known_hosts" && fail "DST pins SRC's host key"
cmp -s "$KEYS/$su/id_ed25519.pub" "$KEYS/$du/id_ed25519.pub" && fail "DST has SRC's client key"
pw() { vsh dumpxml --inactive --security-info "$1" | sed -n "s/.*passwd='\([^']*\)'.*/\1/p"; }
[ "$(pw "$src")" != "$(pw "$dst")" ] || fail "DST has SRC's VNC password"

start=$SECONDS
lv start "$dst" > /dev/null || fail "start $dst failed"
lv wait "$dst" --timeout 900 > "$TMP/wait.out" 2>&1 || fail "wait: $(cat "$TMP/wait.out")"
name=$(lv ssh "$dst" -- cat /etc/hostname 2> "$TMP/ssh.err") ||
	fail "ssh $dst: $(cat "$TMP/ssh.err")"
[ "$name" = "$dst" ] || fail "ssh cat /etc/hostname: '$name', want $dst"
say "DST up in $((SECONDS - start)) s; ssh with its pinned key: hostname $name"
lv destroy "$dst" > /dev/null || fail "destroy $dst"
lv destroy "$src" > /dev/null || fail "destroy $src"
[ -z "$(ls -A "$KEYS")" ] || fail "keys left: $(ls -A "$KEYS")"
say "PASS"
