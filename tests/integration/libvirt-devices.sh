#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# GPUs, hugepages and boot files on a libvirt host (--connect).
#
# GPUs, against libvirt's test driver (a host described by XML: node
# devices with IOMMU groups, and a running domain holding a function):
# the spec's selector resolves through the node-device API; a card whose
# slot or group a running domain holds is refused naming that domain; a
# free card is taken; a host without IOMMU groups and an address the host
# does not have are refused with 69.
#
# Hugepages and boot files, against the real libvirtd: a 2M-hugepage VM
# takes its pages from the host's pool when it starts (a hugetlb memfd:
# no hugetlbfs mount here) and gives them back; a VM the free pages
# cannot hold is refused before anything is defined, saying how many it
# needs and how many are free.  The kernel and initrd reach the host as
# volumes of vmctl's pool (as they must for a remote host), sent once.
TEST_NAME=libvirt-devices
. "$(dirname "$0")/lib.sh"
need jq
unset VMCTL_SYSFS_ROOT VMCTL_PROC_ROOT VMCTL_DEV_ROOT VMCTL_CONNECT
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-lvdev.XXXXXX")
export LC_ALL=C VMCTL_STATE_DIR=$TMP/state VMCTL_HOSTS_FILE=$TMP/hosts.yaml
URI=qemu:///system
NR=/proc/sys/vm/nr_hugepages
id=$$
vm1=lvhuge$id vm2=lvhuge2-$id
old_nr=

vsh() { virsh -q -c "$URI" "$@"; }

cleanup() {
	set +e
	for d in "$vm1" "$vm2"; do
		vsh destroy "$d" >/dev/null 2>&1
		vsh undefine "$d" >/dev/null 2>&1
		for v in "$d.qcow2" "$d-seed.iso" "$d-serial.log"; do
			vsh vol-delete --pool vmctl "$v" >/dev/null 2>&1
		done
	done
	[ -z "$old_nr" ] || echo "$old_nr" > "$NR" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# ---- GPUs: a host of libvirt's test driver -------------------------------
# pci FN BUS FUNC CLASS VENDOR DEVICE GROUP(empty: none) MEMBERS...
pci() {
	local bus=$1 fn=$2 class=$3 ven=$4 dev=$5 group=$6 m
	shift 6
	printf "  <device>\n    <name>pci_0000_%s_00_%s</name>\n" "$bus" "$fn"
	printf "    <parent>computer</parent>\n    <capability type='pci'>\n"
	printf "      <class>0x%s</class>\n      <domain>0</domain>" "$class"
	printf "<bus>%d</bus><slot>0</slot><function>%d</function>\n" \
		"$((16#$bus))" "$fn"
	printf "      <product id='0x%s'/>\n      <vendor id='0x%s'/>\n" "$dev" "$ven"
	if [ -n "$group" ]; then
		printf "      <iommuGroup number='%s'>\n" "$group"
		for m in "$@"; do
			printf "        <address domain='0x0000' bus='0x%s' slot='0x00' function='0x%s'/>\n" \
				"${m%.*}" "${m#*.}"
		done
		printf "      </iommuGroup>\n"
	fi
	printf "    </capability>\n  </device>\n"
}
node_xml() { # IOMMU(yes|no)
	local g1=12 g2=13
	[ "$1" = yes ] || g1= g2=
	echo "<node>"
	echo "  <cpu><nodes>1</nodes><sockets>1</sockets><cores>4</cores><threads>1</threads><active>4</active><mhz>2000</mhz><model>i686</model></cpu>"
	echo "  <memory>8388608</memory>"
	pci 01 0 030000 10de 2204 "$g1" 01.0 01.1
	pci 01 1 040300 10de 1aef "$g1" 01.0 01.1
	pci 02 0 030000 10de 2204 "$g2" 02.0 02.1
	pci 02 1 040300 10de 1aef "$g2" 02.0 02.1
	# a running domain holding the first card's audio function
	cat <<XML
  <domain type='test'>
    <name>holder</name>
    <memory>262144</memory>
    <os><type>hvm</type></os>
    <devices>
      <hostdev mode='subsystem' type='pci' managed='yes'>
        <source><address domain='0x0000' bus='0x01' slot='0x00' function='0x1'/></source>
      </hostdev>
    </devices>
  </domain>
</node>
XML
}
node_xml yes > "$TMP/host.xml"
node_xml no > "$TMP/host-noiommu.xml"
TEST_URI=test://$TMP/host.xml

gpu_spec() { # NAME GPU-YAML
	cat > "$TMP/$1.yaml" <<YAML
name: $1
cpus: 1
memory: 256M
accel: tcg
firmware: bios
vnc: {enabled: false}
gpu:
  - $2
YAML
	printf '%s\n' "$TMP/$1.yaml"
}

# The test driver's host, as gpu list sees it: both cards bindable.
"$VMCTL" --connect "$TEST_URI" gpu list --json > "$TMP/gpus" ||
	fail "gpu list --connect $TEST_URI failed"
[ "$(jq length "$TMP/gpus")" -eq 2 ] || fail "gpu list: $(cat "$TMP/gpus")"

# The first NVIDIA card: a running domain holds its audio function.
rc=0
"$VMCTL" --connect "$TEST_URI" create "$(gpu_spec g1 '{vendor: NVIDIA}')" \
	> /dev/null 2> "$TMP/err" || rc=$?
[ "$rc" -eq 1 ] || fail "held card: exit $rc, want 1: $(cat "$TMP/err")"
grep -q '0000:01:00.1 is in use by domain "holder"' "$TMP/err" ||
	fail "held card: the holder is not named: $(cat "$TMP/err")"

# The second: free, taken (the test driver runs the domain).
out=$("$VMCTL" --connect "$TEST_URI" create --json \
	"$(gpu_spec g2 '{vendor: NVIDIA, index: 1}')" 2> "$TMP/err") ||
	fail "free card: create failed: $(cat "$TMP/err")"
[ "$(jq -r .state <<<"$out")" = running ] || fail "free card: $out"

# An address the host does not have: 69, one line.
rc=0
"$VMCTL" --connect "$TEST_URI" create "$(gpu_spec g3 '{address: "0000:05:00.0"}')" \
	> /dev/null 2> "$TMP/err" || rc=$?
[ "$rc" -eq 69 ] || fail "absent address: exit $rc, want 69: $(cat "$TMP/err")"
grep -q "$TEST_URI: gpu\[0\]" "$TMP/err" || fail "absent address: $(cat "$TMP/err")"

# No IOMMU groups on that host: nothing can be passed through.
rc=0
"$VMCTL" --connect "test://$TMP/host-noiommu.xml" create \
	"$(gpu_spec g4 '{vendor: NVIDIA, index: 1}')" > /dev/null 2> "$TMP/err" || rc=$?
[ "$rc" -eq 69 ] || fail "no IOMMU: exit $rc, want 69: $(cat "$TMP/err")"
grep -q "cannot be passed through (no-iommu)" "$TMP/err" ||
	fail "no IOMMU: $(cat "$TMP/err")"
say "GPUs: held refused, free taken, absent and no-IOMMU refused"

# ---- hugepages and boot files: the real libvirtd -------------------------
[ "$(id -u)" -eq 0 ] || skip "qemu:///system and nr_hugepages need root"
if ! command -v virsh >/dev/null 2>&1 || ! vsh version >/dev/null 2>&1; then
	skip "libvirtd is not running (as root: scripts/libvirtd.sh start)"
fi
GUEST=$(guest_dir) || skip "cannot build the test guest"
[ -w "$NR" ] || skip "cannot reserve hugepages"
free_2m() { awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo; }

huge_spec() { # NAME MEMORY
	cat > "$TMP/$1.yaml" <<YAML
name: $1
cpus: 1
memory: {size: $2, hugepages: 2M}
accel: tcg
kernel:
  image: $GUEST/vmlinuz
  initrd: $GUEST/initrd.img
  cmdline: console=ttyS0 panic=-1 no_timer_check
vnc: {enabled: false}
YAML
	printf '%s\n' "$TMP/$1.yaml"
}

old_nr=$(cat "$NR")
echo $((old_nr + 40)) > "$NR"
free0=$(free_2m)
[ "$free0" -ge 40 ] || skip "only $free0 of the 40 hugepages asked for could be reserved"

out=$("$VMCTL" --connect "$URI" create --json "$(huge_spec "$vm1" 64M)" \
	2> "$TMP/err") || fail "hugepage VM: create failed: $(cat "$TMP/err")"
[ "$(jq -r .state <<<"$out")" = running ] || fail "hugepage VM: $out"
xml=$(vsh dumpxml "$vm1")
grep -q "<source type='memfd'/>" <<<"$xml" || fail "no memfd backing: $xml"
[ "$(free_2m)" -eq $((free0 - 32)) ] ||
	fail "the VM holds $((free0 - $(free_2m))) hugepages, want 32"
# the boot files are the pool's volumes, not this machine's paths
kernel=$(grep -o '<kernel>[^<]*' <<<"$xml" | cut -c9-)
case $kernel in
/var/lib/libvirt/images/vmctl/base-sha256-*.raw.????????) ;;
*) fail "the kernel is not a pool volume: $kernel" ;;
esac
cmp -s "$kernel" "$GUEST/vmlinuz" || fail "the kernel volume differs from the spec's"

# What is left cannot hold a second one of 64M: refused, nothing made.
rc=0
"$VMCTL" --connect "$URI" create "$(huge_spec "$vm2" 64M)" > /dev/null \
	2> "$TMP/err" || rc=$?
[ "$rc" -eq 1 ] || fail "too few hugepages: exit $rc, want 1: $(cat "$TMP/err")"
grep -q "needs 32 hugepages of 2M, but $((free0 - 32)) are free there" "$TMP/err" ||
	fail "too few hugepages: $(cat "$TMP/err")"
vsh dominfo "$vm2" >/dev/null 2>&1 && fail "$vm2 was defined"
vsh vol-list vmctl | grep -q -- "$vm2" && fail "$vm2 left volumes"

# The kernel is sent once: a second VM of the same files uploads nothing.
"$VMCTL" --connect "$URI" destroy --force "$vm1" > /dev/null ||
	fail "destroy failed"
[ "$(free_2m)" -eq "$free0" ] || fail "the hugepages did not come back"
"$VMCTL" --connect "$URI" create "$(huge_spec "$vm2" 32M)" > /dev/null \
	2> "$TMP/err" || fail "second hugepage VM: $(cat "$TMP/err")"
grep -q "Uploaded" "$TMP/err" && fail "boot files uploaded again: $(cat "$TMP/err")"
"$VMCTL" --connect "$URI" destroy --force "$vm2" > /dev/null ||
	fail "destroy of $vm2 failed"
say "hugepages: 32 held and given back, a VM too big refused; kernel sent once"
say "ok"
