#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A base image on a libvirt host is whole or not used.  A dir pool's raw
# volume has its full size the moment it is created, so "same size as the
# local file" says nothing about how much of it an upload wrote.  Two
# ways to get a half-written base, both against the real libvirtd:
#   - a create killed (SIGKILL) while it uploads the base: the next create
#     must upload it again, not stand on the part;
#   - two creates of the same base at once: the second, started while the
#     first is still sending, must not stand on the first's part either.
# Each overlay's backing file is compared byte for byte with the source
# as soon as its create returns.  And a local base given without a digest
# is named by its bytes: rewritten in place (its mtime set back), it is
# hashed and sent again, not taken for the file the digest memo knew.
TEST_NAME=libvirt-base-upload
. "$(dirname "$0")/lib.sh"
need jq qemu-img virsh
unset VMCTL_SYSFS_ROOT VMCTL_PROC_ROOT VMCTL_DEV_ROOT VMCTL_CONNECT
[ "$(id -u)" -eq 0 ] || skip "qemu:///system needs root here"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-lvbu.XXXXXX")
export LC_ALL=C VMCTL_STATE_DIR=$TMP/state VMCTL_HOSTS_FILE=$TMP/hosts.yaml
URI=qemu:///system
POOL_DIR=/var/lib/libvirt/images/vmctl
id=$$
vms=(lvbu1-$id lvbu2-$id lvbu3-$id lvbu4-$id lvbu5-$id lvbu6-$id)
base_name= base_name2= pids=()

vsh() { virsh -q -c "$URI" "$@"; }
lv() { "$VMCTL" --connect "$URI" "$@"; }

cleanup() {
	set +e
	for p in "${pids[@]}"; do
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for d in "${vms[@]}"; do
		vsh undefine --nvram "$d" >/dev/null 2>&1 ||
			vsh undefine "$d" >/dev/null 2>&1
		vsh vol-delete --pool vmctl "$d.qcow2" >/dev/null 2>&1
		vsh vol-delete --pool vmctl "$d-seed.iso" >/dev/null 2>&1
		vsh vol-delete --pool vmctl "$d-serial.log" >/dev/null 2>&1
	done
	for b in $base_name $base_name2; do
		for v in $(vsh vol-list vmctl | awk '{ print $1 }' |
			grep -F -- "$b"); do
			vsh vol-delete --pool vmctl "$v" >/dev/null 2>&1
		done
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

if ! vsh version >/dev/null 2>&1; then
	skip "libvirtd is not running (as root: scripts/libvirtd.sh start)"
fi
vsh net-info vmctl >/dev/null 2>&1 ||
	skip "no libvirt network vmctl (scripts/libvirtd.sh start)"

# A base of its own (random bytes: a digest no other run has), large
# enough that its upload takes seconds.
head -c 384M /dev/urandom > "$TMP/base.raw"
qemu-img convert -f raw -O qcow2 "$TMP/base.raw" "$TMP/base.qcow2"
rm -f "$TMP/base.raw"
digest=$(sha256sum "$TMP/base.qcow2" | cut -d' ' -f1)
base_name=base-sha256-$digest.qcow2

spec() { # NAME [DISK]
	cat > "$TMP/$1.yaml" <<YAML
name: $1
cpus: 1
memory: 128M
accel: tcg
disk: ${2:-{image: $TMP/base.qcow2, sha256: $digest\}}
network: {ssh_port: auto, ssh_listen: 127.0.0.1}
vnc: {listen: 127.0.0.1}
YAML
	printf '%s\n' "$TMP/$1.yaml"
}

# The volumes holding this base's bytes (NAME.RAND; plain NAME was the
# old layout, kept here so that the test judges it too), whole or not.
parts() {
	vsh pool-refresh vmctl >/dev/null 2>&1
	vsh vol-list vmctl | awk '{ print $1 }' |
		grep -E -- "^$base_name(\.[0-9a-f]{8})?\$" || true
}
part_appears() { [ -n "$(parts)" ]; }

# The VM's overlay stands on a copy of the source, every byte.
check_backing() { # VM [BASE_NAME]
	local backing base=${2:-$base_name}
	backing=$(qemu-img info --output=json "$POOL_DIR/$1.qcow2" |
		jq -r '."backing-filename" // empty')
	[ -n "$backing" ] || fail "$1: its overlay has no backing file"
	case $backing in
	"$POOL_DIR/$base"|"$POOL_DIR/$base".????????) ;;
	*) fail "$1: backing $backing is not one of the base's volumes" ;;
	esac
	[ -e "$backing.ok" ] || fail "$1: stands on $backing, which is not marked whole"
	cmp -s "$backing" "$TMP/base.qcow2" ||
		fail "$1: stands on $backing, which differs from the source"
}

# ---- killed mid-upload: the next create sends the base again
# (vmctl itself in the background, not the lv function: $! would be a
# subshell, and killing it would leave vmctl to finish the upload)
"$VMCTL" --connect "$URI" create --no-start "$(spec "${vms[0]}")" \
	> "$TMP/out0" 2> "$TMP/err0" &
pids+=($!)
wait_for 120 part_appears || fail "no upload began: $(cat "$TMP/err0")"
kill -9 "${pids[0]}"
wait "${pids[0]}" 2>/dev/null || true
pids=()
killed=$(parts)
[ -n "$killed" ] || fail "the killed upload left no volume (too quick to test)"
[ ! -e "$POOL_DIR/$killed.ok" ] || fail "the killed upload ($killed) is marked whole"

lv create --no-start "$(spec "${vms[1]}")" > "$TMP/out1" 2> "$TMP/err1" ||
	fail "create after a killed upload failed: $(cat "$TMP/err1")"
grep -q "Uploaded base image sha256:$digest" "$TMP/err1" ||
	fail "the base was not sent again after a killed upload: $(cat "$TMP/err1")"
check_backing "${vms[1]}"
say "a killed upload is not used: the next create sent the base again"

# ---- two creates at once: the second does not stand on the first's part
for v in $(vsh vol-list vmctl | awk '{ print $1 }' | grep -F -- "$base_name"); do
	vsh vol-delete --pool vmctl "$v" >/dev/null ||
		fail "cannot delete $v between cases"
done
"$VMCTL" --connect "$URI" create --no-start "$(spec "${vms[2]}")" \
	> "$TMP/out2" 2> "$TMP/err2" &
pids+=($!)
wait_for 120 part_appears || fail "no upload began: $(cat "$TMP/err2")"
first=$(parts)
lv create --no-start "$(spec "${vms[3]}")" > "$TMP/out3" 2> "$TMP/err3" ||
	fail "the second of two creates failed: $(cat "$TMP/err3")"
check_backing "${vms[3]}"
wait "${pids[0]}" || fail "the first of two creates failed: $(cat "$TMP/err2")"
pids=()
check_backing "${vms[2]}"
[ -e "$POOL_DIR/$first.ok" ] || fail "the first upload ($first) was not marked whole"
say "two creates at once: each stands on a whole base"

# ---- a local base without a digest, rewritten in place
lv create --no-start "$(spec "${vms[4]}" "$TMP/base.qcow2")" > /dev/null 2> "$TMP/err4" ||
	fail "create without a digest failed: $(cat "$TMP/err4")"
! grep -q "Uploaded base" "$TMP/err4" ||
	fail "the same bytes were sent again: $(cat "$TMP/err4")"
check_backing "${vms[4]}"
touch -r "$TMP/base.qcow2" "$TMP/stamp"
size=$(stat -c %s "$TMP/base.qcow2")
head -c 65536 /dev/urandom |
	dd of="$TMP/base.qcow2" bs=65536 seek=$((size / 65536 - 2)) conv=notrunc status=none
touch -r "$TMP/stamp" "$TMP/base.qcow2"   # same size, same mtime
[ "$(stat -c %s "$TMP/base.qcow2")" -eq "$size" ] || fail "the rewrite changed the size"
digest2=$(sha256sum "$TMP/base.qcow2" | cut -d' ' -f1)
base_name2=base-sha256-$digest2.qcow2
lv create --no-start "$(spec "${vms[5]}" "$TMP/base.qcow2")" > /dev/null 2> "$TMP/err5" ||
	fail "create after the rewrite failed: $(cat "$TMP/err5")"
grep -q "Uploaded base image sha256:$digest2" "$TMP/err5" ||
	fail "the rewritten base was not hashed and sent again: $(cat "$TMP/err5")"
check_backing "${vms[5]}" "$base_name2"
say "a base rewritten in place (mtime kept) is hashed and sent again"
say "PASS"
