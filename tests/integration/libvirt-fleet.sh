#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The fleet (lvfleet.c): a hosts file of three hosts, the real libvirtd
# (qemu:///system, running a small busybox VM made by vmctl), a host of
# libvirt's test driver (node devices: a free NVIDIA card, an AMD card a
# running domain holds, an Intel card a running domain marked as vmctl's
# holds) and a host
# that is down (qemu+ssh to TEST-NET-1: nothing answers).
#
# list --all-hosts shows both live hosts' VMs and the direct backend's,
# names the down host on stderr and goes on, exit 69; its JSON is
# {vms, hosts} with each host's status and error.  Two hosts whose ssh
# port takes the connection and says nothing cost 10 s together (bounded,
# in parallel); one whose sshd sends its banner and then hangs is given
# up after VMCTL_CONNECT_TIMEOUT (one line, 69).  host --all-hosts shows
# the fake host's GPUs, verdicts and holder.  create --host auto of a spec
# asking for an NVIDIA GPU is placed on the test host, saying why; a spec
# no host has the memory for is refused with one line per host (69) and
# nothing made; --host NAME creates on that host.
TEST_NAME=libvirt-fleet
. "$(dirname "$0")/lib.sh"
need jq
unset VMCTL_SYSFS_ROOT VMCTL_PROC_ROOT VMCTL_DEV_ROOT VMCTL_CONNECT
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-lvfleet.XXXXXX")
export LC_ALL=C VMCTL_STATE_DIR=$TMP/state VMCTL_HOSTS_FILE=$TMP/hosts.yaml
URI=qemu:///system
DOWN=qemu+ssh://nobody@192.0.2.1/system
id=$$
vm=lvfleet$id direct=lvfleetd$id big=lvfleetbig$id
mute_pid=

vsh() { virsh -q -c "$URI" "$@"; }

cleanup() {
	set +e
	for d in "$vm" "$big"; do
		vsh destroy "$d" >/dev/null 2>&1
		vsh undefine "$d" >/dev/null 2>&1
		for v in "$d.qcow2" "$d-seed.iso"; do
			vsh vol-delete --pool vmctl "$v" >/dev/null 2>&1
		done
		vsh vol-delete --pool vmctl "$d-serial.log" >/dev/null 2>&1
	done
	"$VMCTL" destroy --force "$direct" >/dev/null 2>&1
	[ -z "$mute_pid" ] || kill "$mute_pid" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || skip "qemu:///system needs root here"
if ! command -v virsh >/dev/null 2>&1 || ! vsh version >/dev/null 2>&1; then
	skip "libvirtd is not running (as root: scripts/libvirtd.sh start)"
fi
GUEST=$(guest_dir) || skip "cannot build the test guest"

# ---- the test driver's host ----------------------------------------------
# pci BUS FUNC CLASS VENDOR DEVICE GROUP: both functions of the slot in it
pci() {
	printf "  <device>\n    <name>pci_0000_%s_00_%s</name>\n" "$1" "$2"
	printf "    <parent>computer</parent>\n    <capability type='pci'>\n"
	printf "      <class>0x%s</class><domain>0</domain>" "$3"
	printf "<bus>%d</bus><slot>0</slot><function>%d</function>\n" \
		"$((16#$1))" "$2"
	printf "      <product id='0x%s'/>\n      <vendor id='0x%s'/>\n" "$5" "$4"
	printf "      <iommuGroup number='%s'>\n" "$6"
	printf "        <address domain='0x0000' bus='0x%s' slot='0x00' function='0x0'/>\n" "$1"
	printf "        <address domain='0x0000' bus='0x%s' slot='0x00' function='0x1'/>\n" "$1"
	printf "      </iommuGroup>\n    </capability>\n  </device>\n"
}
{
	echo "<node>"
	echo "  <cpu><nodes>1</nodes><sockets>1</sockets><cores>4</cores><threads>1</threads><active>4</active><mhz>2000</mhz><model>i686</model></cpu>"
	echo "  <memory>8388608</memory>"
	pci 01 0 030000 10de 2204 12
	pci 01 1 040300 10de 1aef 12
	pci 02 0 030000 1002 73bf 13
	pci 02 1 040300 1002 ab28 13
	pci 03 0 030000 8086 56a0 14
	pci 03 1 040300 8086 4f90 14
	cat <<XML
  <domain type='test'>
    <name>holder</name>
    <memory>262144</memory>
    <os><type>hvm</type></os>
    <devices>
      <hostdev mode='subsystem' type='pci' managed='yes'>
        <source><address domain='0x0000' bus='0x02' slot='0x00' function='0x0'/></source>
      </hostdev>
    </devices>
  </domain>
  <domain type='test'>
    <name>fakevm</name>
    <memory>524288</memory>
    <os><type>hvm</type></os>
    <devices>
      <hostdev mode='subsystem' type='pci' managed='yes'>
        <source><address domain='0x0000' bus='0x03' slot='0x00' function='0x0'/></source>
      </hostdev>
    </devices>
    <metadata>
      <vmctl:vm xmlns:vmctl='https://vmctl.dev/xmlns/vm/1'>
        <vmctl:name>fakevm</vmctl:name>
        <vmctl:created>1700000000</vmctl:created>
      </vmctl:vm>
    </metadata>
  </domain>
</node>
XML
} > "$TMP/host.xml"
FAKE=test://$TMP/host.xml
cat > "$VMCTL_HOSTS_FILE" <<YAML
hosts:
  real: $URI
  fake: $FAKE
  down: $DOWN
YAML

spec() { # NAME MEMORY [EXTRA YAML]
	cat > "$TMP/$1.yaml" <<YAML
name: $1
cpus: 1
memory: $2
accel: tcg
firmware: bios
kernel:
  image: $GUEST/vmlinuz
  initrd: $GUEST/initrd.img
  cmdline: console=ttyS0 panic=-1 no_timer_check
vnc: {enabled: false}
${3:-}
YAML
	printf '%s\n' "$TMP/$1.yaml"
}

# The test driver cannot take volumes (virStorageVolUpload): no boot files.
bare_spec() { # NAME MEMORY [EXTRA YAML]
	cat > "$TMP/$1.yaml" <<YAML
name: $1
cpus: 1
memory: $2
accel: tcg
firmware: bios
vnc: {enabled: false}
${3:-}
YAML
	printf '%s\n' "$TMP/$1.yaml"
}

# ---- a VM on each live host, and one of the direct backend ---------------
"$VMCTL" --connect "$URI" create --json "$(spec "$vm" 128M)" > "$TMP/out" \
	2> "$TMP/err" || fail "create on $URI failed: $(cat "$TMP/err")"
[ "$(jq -r .state "$TMP/out")" = running ] || fail "create: $(cat "$TMP/out")"
"$VMCTL" create --no-start "$(spec "$direct" 64M)" > /dev/null 2> "$TMP/err" ||
	fail "direct create --no-start failed: $(cat "$TMP/err")"

# ---- list --all-hosts ----------------------------------------------------
rc=0
t0=$SECONDS
timeout 120 "$VMCTL" list --all-hosts > "$TMP/list" 2> "$TMP/err" || rc=$?
t_list=$((SECONDS - t0))
[ "$rc" -eq 69 ] || fail "list --all-hosts: exit $rc, want 69: $(cat "$TMP/err")"
grep -Eq "^real +$vm +running" "$TMP/list" || fail "no $vm on real: $(cat "$TMP/list")"
grep -Eq "^fake +fakevm +running" "$TMP/list" || fail "no fakevm on fake: $(cat "$TMP/list")"
grep -Eq "^\(direct\) +$direct +stopped" "$TMP/list" ||
	fail "no direct VM: $(cat "$TMP/list")"
grep -q holder "$TMP/list" && fail "a domain that is not vmctl's listed: $(cat "$TMP/list")"
[ "$(wc -l < "$TMP/err")" -eq 1 ] || fail "stderr is not one line: $(cat "$TMP/err")"
grep -q "^vmctl: host down (down): $DOWN: " "$TMP/err" ||
	fail "the down host is not named: $(cat "$TMP/err")"
[ "$t_list" -le 30 ] || fail "list --all-hosts took $t_list s (a down host must be bounded)"

rc=0
"$VMCTL" list --all-hosts --json > "$TMP/json" 2> "$TMP/err" || rc=$?
[ "$rc" -eq 69 ] || fail "list --all-hosts --json: exit $rc, want 69"
jq -e --arg n "$vm" --arg u "$URI" 'any(.vms[]; .name == $n and
	.host_name == "real" and .host == $u and .backend == "libvirt")' \
	"$TMP/json" > /dev/null || fail "JSON: no $vm on real: $(cat "$TMP/json")"
jq -e --arg u "$FAKE" 'any(.vms[]; .name == "fakevm" and .host_name == "fake"
	and .host == $u and .state == "running")' "$TMP/json" > /dev/null ||
	fail "JSON: no fakevm: $(cat "$TMP/json")"
jq -e --arg n "$direct" 'any(.vms[]; .name == $n and .host_name == null and
	.backend == "direct")' "$TMP/json" > /dev/null ||
	fail "JSON: no direct VM: $(cat "$TMP/json")"
[ "$(jq -c '[.hosts[] | [.name, .status]]' "$TMP/json")" = \
	'[[null,"ok"],["real","ok"],["fake","ok"],["down","down"]]' ] ||
	fail "JSON hosts: $(jq -c .hosts "$TMP/json")"
jq -e --arg u "$DOWN" '.hosts[3] | .uri == $u and (.error | startswith($u))
	and .vms == 0' "$TMP/json" > /dev/null ||
	fail "JSON: the down host's entry: $(jq -c '.hosts[3]' "$TMP/json")"
jq -e '.hosts[2].error == null and .hosts[2].vms == 1' "$TMP/json" > /dev/null ||
	fail "JSON: the fake host's entry: $(jq -c '.hosts[2]' "$TMP/json")"
say "list --all-hosts: both live hosts and the direct VM, the down host named (${t_list}s), exit 69"

# A host whose port takes the connection and says nothing (a hung sshd, a
# tarpit): bounded too, read beside the others, not after them.
# listen PORTFILE [BANNER]: a TCP listener on 127.0.0.1 that takes every
# connection, sends BANNER (if any) and then says nothing more.
listen_mute() {
	python3 - "$@" <<'PY' &
import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
banner = sys.argv[2].encode() + b"\r\n" if len(sys.argv) > 2 else b""
held = []
s.settimeout(120)
while True:
    c = s.accept()[0]
    c.sendall(banner)
    held.append(c)
PY
	mute_pid=$!
}
listen_mute "$TMP/mute.port"
wait_for 10 test -s "$TMP/mute.port" || fail "the silent listener did not start"
cat > "$TMP/mute.yaml" <<YAML
hosts:
  mute1: qemu+ssh://nobody@127.0.0.1:$(cat "$TMP/mute.port")/system
  fake: $FAKE
  mute2: qemu+ssh://nobody@127.0.0.1:$(cat "$TMP/mute.port")/system
YAML
rc=0
t0=$SECONDS
VMCTL_HOSTS_FILE=$TMP/mute.yaml timeout 120 "$VMCTL" list --all-hosts \
	> "$TMP/list" 2> "$TMP/err" || rc=$?
t_mute=$((SECONDS - t0))
[ "$rc" -eq 69 ] || fail "silent hosts: exit $rc, want 69: $(cat "$TMP/err")"
grep -Eq "^fake +fakevm +running" "$TMP/list" || fail "silent hosts: no fakevm: $(cat "$TMP/list")"
for h in mute1 mute2; do
	grep -q "^vmctl: host $h (down): .*sends no SSH banner within 10 s" "$TMP/err" ||
		fail "silent host $h: $(cat "$TMP/err")"
done
[ "$t_mute" -le 18 ] || fail "two silent hosts took $t_mute s: not read in parallel, or not bounded"
kill "$mute_pid" 2>/dev/null
mute_pid=
say "two silent ssh hosts: named, bounded and in parallel (${t_mute}s)"

# A host whose sshd sends its banner and then hangs (the key exchange
# never answered): libvirt's open is abandoned after VMCTL_CONNECT_TIMEOUT.
listen_mute "$TMP/hang.port" "SSH-2.0-OpenSSH_9.2p1 Debian-2"
wait_for 10 test -s "$TMP/hang.port" || fail "the hanging listener did not start"
hang=qemu+ssh://nobody@127.0.0.1:$(cat "$TMP/hang.port")/system
rc=0
t0=$SECONDS
VMCTL_CONNECT_TIMEOUT=4 timeout 60 "$VMCTL" list --connect "$hang" \
	> "$TMP/list" 2> "$TMP/err" || rc=$?
t_hang=$((SECONDS - t0))
[ "$rc" -eq 69 ] || fail "banner-then-hang host: exit $rc, want 69: $(cat "$TMP/err")"
grep -q "no answer within 4 s after the server's banner" "$TMP/err" ||
	fail "banner-then-hang host: $(cat "$TMP/err")"
[ "$(wc -l < "$TMP/err")" = 1 ] || fail "more than one line: $(cat "$TMP/err")"
[ "$t_hang" -le 10 ] || fail "banner-then-hang host took $t_hang s"
kill "$mute_pid" 2>/dev/null
mute_pid=
say "a host that hangs after its banner: one line, exit 69, ${t_hang}s"

# ---- host --all-hosts ----------------------------------------------------
rc=0
"$VMCTL" host --all-hosts > "$TMP/host" 2> "$TMP/err" || rc=$?
[ "$rc" -eq 69 ] || fail "host --all-hosts: exit $rc, want 69: $(cat "$TMP/err")"
grep -Eq "^fake +ok +4 +8 GiB" "$TMP/host" || fail "fake host row: $(cat "$TMP/host")"
grep -Eq "^down +down " "$TMP/host" || fail "down host row: $(cat "$TMP/host")"
grep -Eq "^fake +0000:01:00.0 +10de:2204 +12 +bindable +- +- " "$TMP/host" ||
	fail "the free NVIDIA card: $(cat "$TMP/host")"
grep -Eq "^fake +0000:02:00.0 +1002:73bf +13 +bindable +- +holder " "$TMP/host" ||
	fail "the AMD card another domain holds: $(cat "$TMP/host")"
grep -Eq "^fake +0000:03:00.0 +8086:56a0 +14 +bindable +- +fakevm \(vmctl\) " "$TMP/host" ||
	fail "the Intel card a vmctl VM holds: $(cat "$TMP/host")"
grep -q "^vmctl: host down (down): " "$TMP/err" || fail "host: $(cat "$TMP/err")"
rc=0
"$VMCTL" host --all-hosts --json > "$TMP/hjson" 2> /dev/null || rc=$?
[ "$rc" -eq 69 ] || fail "host --all-hosts --json: exit $rc"
jq -e '.hosts[1] | .name == "fake" and .cpus == 4 and
	.memory.total == 8589934592 and (.gpus | length) == 3 and
	.gpus[0].address == "0000:01:00.0" and .gpus[0].verdict == "bindable"
	and .gpus[0].held_by == null and .gpus[1].held_by == "holder" and
	.gpus[1].held_by_vmctl == false and .gpus[2].held_by == "fakevm" and
	.gpus[2].held_by_vmctl == true' \
	"$TMP/hjson" > /dev/null || fail "host JSON: $(jq -c '.hosts[1]' "$TMP/hjson")"
jq -e '.hosts[0] | .name == "real" and .status == "ok" and .cpus > 0 and
	.memory.free > 0 and (.hugepages | length) == 2' "$TMP/hjson" > /dev/null ||
	fail "host JSON, real: $(jq -c '.hosts[0]' "$TMP/hjson")"
jq -e '.hosts[2] | .status == "down" and .error != null' "$TMP/hjson" > /dev/null ||
	fail "host JSON, down: $(jq -c '.hosts[2]' "$TMP/hjson")"
say "host --all-hosts: the fake host's GPUs, verdicts and holder; the down host named"

# ---- create --host auto --------------------------------------------------
if "$VMCTL" --connect "$URI" gpu list --json 2>/dev/null |
	jq -e 'any(.[]; .vendor_id == "10de")' > /dev/null 2>&1; then
	say "this host has an NVIDIA card: placement by GPU not checked"
else
	out=$("$VMCTL" create --host auto --json \
		"$(bare_spec gpuvm 256M 'gpu: [{vendor: NVIDIA}]')" 2> "$TMP/err") ||
		fail "create --host auto (GPU) failed: $(cat "$TMP/err")"
	[ "$(jq -r .host <<<"$out")" = "$FAKE" ] || fail "placed on $(jq -r .host <<<"$out")"
	grep -q "^placed on fake: NVIDIA 10de:2204 at 0000:01:00.0 free, 7.2 GiB free memory; real: gpu\[0\]: no GPU matches vendor NVIDIA on this host; down: down: $DOWN: " "$TMP/err" ||
		fail "placement not explained: $(cat "$TMP/err")"
	vsh dominfo gpuvm > /dev/null 2>&1 && fail "gpuvm made on $URI"
	say "create --host auto: a GPU spec placed on the test host: $(head -1 "$TMP/err")"
fi

# More memory than any host has: one line per host, 69, nothing made.
rc=0
"$VMCTL" create --host auto "$(spec "$big" 8T)" > "$TMP/out" 2> "$TMP/err" || rc=$?
[ "$rc" -eq 69 ] || fail "too big: exit $rc, want 69: $(cat "$TMP/err")"
grep -q "^vmctl: real: not enough free memory: VM \"$big\" needs 8 TiB, " "$TMP/err" ||
	fail "too big, real: $(cat "$TMP/err")"
grep -q "^vmctl: fake: not enough free memory: VM \"$big\" needs 8 TiB, 7.2 GiB free" "$TMP/err" ||
	fail "too big, fake: $(cat "$TMP/err")"
grep -q "^vmctl: down: down: " "$TMP/err" || fail "too big, down: $(cat "$TMP/err")"
grep -q "^vmctl: create --host auto: no host fits VM \"$big\" (3 hosts, above)" "$TMP/err" ||
	fail "too big, the verdict: $(cat "$TMP/err")"
[ "$(wc -l < "$TMP/err")" -eq 4 ] || fail "too big: not one line per host: $(cat "$TMP/err")"
vsh dominfo "$big" > /dev/null 2>&1 && fail "$big was defined"
vsh vol-list vmctl | grep -q -- "$big" && fail "$big left volumes"

# --host NAME is --connect NAME; not both.
out=$("$VMCTL" create --host fake --json "$(bare_spec named 128M)" 2> "$TMP/err") ||
	fail "create --host fake failed: $(cat "$TMP/err")"
[ "$(jq -r .host <<<"$out")" = "$FAKE" ] || fail "--host fake: $out"
rc=0
"$VMCTL" --connect "$URI" create --host fake "$(bare_spec named 128M)" > /dev/null \
	2> "$TMP/err" || rc=$?
[ "$rc" -eq 64 ] || fail "--host with --connect: exit $rc, want 64: $(cat "$TMP/err")"
say "create --host auto: too big refused on every host (69); --host NAME"
say "ok"
