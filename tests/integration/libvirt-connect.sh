#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# --connect: an unreachable libvirt host fails fast, in one line, with
# status 69; against the running libvirtd (qemu:///system, started by
# scripts/libvirtd.sh start), the PCI devices libvirt's node-device API
# reports give the same facts as sysfs discovery (ids, class, driver,
# IOMMU group, NUMA node, bridge), and `gpu list --json` is the same
# either way; names from the hosts file resolve.
TEST_NAME=libvirt-connect
. "$(dirname "$0")/lib.sh"
need jq
unset VMCTL_SYSFS_ROOT VMCTL_PROC_ROOT VMCTL_DEV_ROOT VMCTL_CONNECT
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-lvconn.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export LC_ALL=C VMCTL_STATE_DIR=$TMP/state VMCTL_HOSTS_FILE=$TMP/hosts.yaml

# An unreachable host (TEST-NET-1): bounded, one line, 69, names the host.
start=$SECONDS
rc=0
timeout 60 "$VMCTL" gpu list --connect qemu+ssh://nobody@192.0.2.1/system \
	> "$TMP/out" 2> "$TMP/err" || rc=$?
took=$((SECONDS - start))
[ "$rc" -eq 69 ] || fail "unreachable host: exit $rc, want 69: $(cat "$TMP/err")"
[ "$took" -le 15 ] || fail "unreachable host took ${took}s"
[ "$(wc -l < "$TMP/err")" -eq 1 ] || fail "not one line: $(cat "$TMP/err")"
grep -q '192\.0\.2\.1' "$TMP/err" || fail "the host is not named: $(cat "$TMP/err")"
[ ! -s "$TMP/out" ] || fail "unreachable host: output on stdout"
say "unreachable: ${took}s: $(cat "$TMP/err")"

# Commands without a libvirt path refuse --connect (and VMCTL_CONNECT).
rc=0
"$VMCTL" --connect qemu:///system balloon x 512M > /dev/null 2>&1 || rc=$?
[ "$rc" -eq 64 ] || fail "balloon --connect: exit $rc, want 64"
rc=0
VMCTL_CONNECT=qemu:///system "$VMCTL" gpu rom 0000:00:00.0 "$TMP/rom" \
	> /dev/null 2>&1 || rc=$?
[ "$rc" -eq 64 ] || fail "gpu rom with VMCTL_CONNECT: exit $rc, want 64"
# A name missing from the hosts file: a usage error naming the file.
rc=0
"$VMCTL" --connect nosuch gpu list > /dev/null 2> "$TMP/err" || rc=$?
[ "$rc" -eq 64 ] || fail "unknown host name: exit $rc"
grep -q "$TMP/hosts.yaml" "$TMP/err" || fail "the hosts file is not named"

[ "$(id -u)" -eq 0 ] || skip "qemu:///system needs root here"
if ! command -v virsh >/dev/null 2>&1 ||
   ! virsh -q -c qemu:///system version >/dev/null 2>&1; then
	skip "libvirtd is not running (as root: scripts/libvirtd.sh start)"
fi

facts='[.functions[] | {address, vendor_id, device_id, class, driver,
	iommu_group, numa_node, bridge}]'
"$VMCTL" gpu __pci-facts | jq "$facts" > "$TMP/sysfs.json" ||
	fail "gpu __pci-facts failed"
"$VMCTL" gpu __pci-facts --connect qemu:///system | jq "$facts" \
	> "$TMP/libvirt.json" || fail "gpu __pci-facts --connect failed"
n=$(jq length "$TMP/sysfs.json")
[ "$n" -gt 0 ] || skip "no PCI devices on this machine"
diff -u "$TMP/sysfs.json" "$TMP/libvirt.json" ||
	fail "libvirt's node devices disagree with sysfs"
[ "$(jq .iommu <("$VMCTL" gpu __pci-facts))" = \
  "$(jq .iommu <("$VMCTL" gpu __pci-facts --connect qemu:///system))" ] ||
	fail "IOMMU presence differs"

"$VMCTL" gpu list --json > "$TMP/local.json" || fail "gpu list --json"
"$VMCTL" gpu list --json --connect qemu:///system > "$TMP/remote.json" ||
	fail "gpu list --json --connect qemu:///system"
# Names come from pci.ids here and from libvirt (udev's hwdb) there, and
# libvirt does not tell what the local reader gets from sysfs alone.
strip='walk(if type == "object" then del(.vendor, .device, .class_name,
	.subsystem, .reset_method, .boot_vga, .boot_display, .reason,
	.blockers, .verdict) else . end)'
diff -u <(jq "$strip" "$TMP/local.json") <(jq "$strip" "$TMP/remote.json") ||
	fail "gpu list --json differs"
if [ "$(jq length "$TMP/local.json")" -eq 0 ]; then
	cmp -s "$TMP/local.json" "$TMP/remote.json" ||
		fail "no GPU, yet the JSON differs"
fi

# The hosts file: a name for the URI, and VMCTL_CONNECT.
printf 'hosts:\n  here: qemu:///system\n' > "$TMP/hosts.yaml"
"$VMCTL" --connect here gpu list --json > "$TMP/named.json" ||
	fail "--connect here"
cmp -s "$TMP/named.json" "$TMP/remote.json" || fail "--connect here differs"
VMCTL_CONNECT=here "$VMCTL" gpu list --json > "$TMP/env.json" ||
	fail "VMCTL_CONNECT=here"
cmp -s "$TMP/env.json" "$TMP/remote.json" || fail "VMCTL_CONNECT differs"
printf 'hosts:\n  here: qemu:///system\n  bad: nope\n' > "$TMP/hosts.yaml"
rc=0
"$VMCTL" --connect here gpu list > /dev/null 2> "$TMP/err" || rc=$?
[ "$rc" -eq 65 ] || fail "a bad hosts file: exit $rc, want 65"
grep -q "^$TMP/hosts.yaml:3:8: hosts: bad:" "$TMP/err" ||
	fail "not located: $(cat "$TMP/err")"
say "ok: $n PCI functions agree; $(jq length "$TMP/local.json") GPU(s)"
