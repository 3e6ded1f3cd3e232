#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The VM lifecycle on a libvirt host (--connect qemu:///system, libvirtd
# started by scripts/libvirtd.sh): create uploads the base into the
# `vmctl` pool (once: a second create reuses it), makes an overlay and a
# seed volume and a domain marked with vmctl's metadata, running; the
# serial log shows the busybox guest booting; list/status show it with
# backend libvirt (and never a domain that is not vmctl's); stop is the
# ACPI power button; start; kill; destroy removes the domain and its
# volumes, never the base.  Failures leave nothing behind: a spec whose
# image does not exist, an emulator libvirt refuses.  An unreachable URI
# is one line and 69.  Timings against the direct backend are printed.
TEST_NAME=libvirt-lifecycle
. "$(dirname "$0")/lib.sh"
need jq qemu-img
unset VMCTL_SYSFS_ROOT VMCTL_PROC_ROOT VMCTL_DEV_ROOT VMCTL_CONNECT
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-lvlc.XXXXXX")
export LC_ALL=C VMCTL_STATE_DIR=$TMP/state VMCTL_HOSTS_FILE=$TMP/hosts.yaml
URI=qemu:///system
POOL_DIR=/var/lib/libvirt/images/vmctl
LOG_DIR=$POOL_DIR   # the serial log is a volume of the pool
id=$$
vm=lvlc$id vm2=lvlc2-$id bad=lvbad$id bad2=lvbad2-$id foreign=lvforeign$id
base_name= base_vol=

vsh() { virsh -q -c "$URI" "$@"; }
lv() { "$VMCTL" --connect "$URI" "$@"; }
ms() { date +%s%3N; }

# Everything this test may have made, whatever happened.
cleanup() {
	set +e
	for d in "$vm" "$vm2" "$bad" "$bad2" "$foreign"; do
		vsh destroy "$d" >/dev/null 2>&1
		vsh undefine --nvram "$d" >/dev/null 2>&1 ||
			vsh undefine "$d" >/dev/null 2>&1
		vsh vol-delete --pool vmctl "$d.qcow2" >/dev/null 2>&1
		vsh vol-delete --pool vmctl "$d-seed.iso" >/dev/null 2>&1
		vsh vol-delete --pool vmctl "$d-serial.log" >/dev/null 2>&1
	done
	# the base is this test's own (random bytes, a digest of its own)
	if [ -n "$base_name" ]; then
		for v in $(vsh vol-list vmctl | awk '{ print $1 }' |
			grep -F -- "$base_name."); do
			vsh vol-delete --pool vmctl "$v" >/dev/null 2>&1
		done
	fi
	if [ -d "$TMP/direct-state" ]; then
		VMCTL_STATE_DIR=$TMP/direct-state "$VMCTL" destroy --force "$vm" \
			>/dev/null 2>&1
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

# An unreachable host: bounded, one line, 69, for a lifecycle command.
rc=0
timeout 60 "$VMCTL" --connect qemu+ssh://nobody@192.0.2.1/system list \
	> "$TMP/out" 2> "$TMP/err" || rc=$?
[ "$rc" -eq 69 ] || fail "unreachable host: exit $rc, want 69: $(cat "$TMP/err")"
[ "$(wc -l < "$TMP/err")" -eq 1 ] || fail "not one line: $(cat "$TMP/err")"

[ "$(id -u)" -eq 0 ] || skip "qemu:///system needs root here"
if ! command -v virsh >/dev/null 2>&1 || ! vsh version >/dev/null 2>&1; then
	skip "libvirtd is not running (as root: scripts/libvirtd.sh start)"
fi
vsh net-info vmctl >/dev/null 2>&1 ||
	skip "no libvirt network vmctl (scripts/libvirtd.sh start)"
GUEST=$(guest_dir) || skip "cannot build the test guest"

# A base of its own: random bytes make a digest no other run has.
head -c 1M /dev/urandom > "$TMP/base.raw"
qemu-img convert -f raw -O qcow2 "$TMP/base.raw" "$TMP/base.qcow2"
truncate -s 0 "$TMP/base.raw"
digest=$(sha256sum "$TMP/base.qcow2" | cut -d' ' -f1)
# its volume: base-sha256-HEX.qcow2.RAND, marked whole by RAND.ok
base_name=base-sha256-$digest.qcow2

spec() { # NAME [IMAGE] [EXTRA YAML]
	cat > "$TMP/$1.yaml" <<YAML
name: $1
cpus: 1
memory: 128M
accel: tcg
disk:
  image: ${2:-$TMP/base.qcow2}
kernel:
  image: $GUEST/vmlinuz
  initrd: $GUEST/initrd.img
  cmdline: console=ttyS0 panic=-1 no_timer_check
network: {ssh_port: auto, ssh_listen: 127.0.0.1}
vnc: {listen: 127.0.0.1}
${3:-}
YAML
	printf '%s\n' "$TMP/$1.yaml"
}

# A domain that is not vmctl's: never listed, never touched.
cat > "$TMP/foreign.xml" <<XML
<domain type='qemu'><name>$foreign</name><memory unit='MiB'>64</memory>
<os><type arch='x86_64'>hvm</type></os></domain>
XML
vsh define "$TMP/foreign.xml" >/dev/null || fail "cannot define $foreign"

# ---- create: the base is uploaded, the domain runs
t0=$(ms)
out=$(lv create "$(spec "$vm")" --json 2> "$TMP/err") ||
	fail "create failed: $(cat "$TMP/err")"
t_create=$(( $(ms) - t0 ))
grep -q "Uploaded base image sha256:$digest" "$TMP/err" ||
	fail "the first create did not upload the base: $(cat "$TMP/err")"
[ "$(jq -r .state <<<"$out")" = running ] || fail "create: $out"
[ "$(jq -r .backend <<<"$out")" = libvirt ] || fail "create: no backend: $out"
[ "$(jq -r .host <<<"$out")" = "$URI" ] || fail "create: no host: $out"
[ "$(vsh domstate "$vm")" = running ] || fail "virsh: $vm is $(vsh domstate "$vm")"
st=$(lv status "$vm" --json) || fail "status failed"
[ "$(jq -r .state <<<"$st")" = running ] || fail "status: $st"
[ "$(jq -r .digest <<<"$st")" = "sha256:$digest" ] || fail "status digest: $st"
vols=$(vsh vol-list vmctl)
base_vol=$(awk '{ print $1 }' <<<"$vols" | grep -E -- "^$base_name\.[0-9a-f]{8}\$") ||
	fail "no base volume $base_name.RAND: $vols"
[ "$(wc -l <<<"$base_vol")" -eq 1 ] || fail "more than one base volume: $base_vol"
for v in "$vm.qcow2" "$vm-seed.iso" "$base_vol" "$base_vol.ok"; do
	grep -q " $v " <<<" $vols " || grep -qw -- "$v" <<<"$vols" ||
		fail "no volume $v: $vols"
done
backing=$(vsh vol-dumpxml --pool vmctl "$vm.qcow2" | grep -A1 '<backingStore>' |
	grep -o '<path>[^<]*' | cut -c7-)
[ "$backing" = "$POOL_DIR/$base_vol" ] || fail "overlay backing: $backing"
base_mtime=$(stat -c %Y.%s "$POOL_DIR/$base_vol" 2>/dev/null || echo none)
t0=$(ms)
wait_for 120 grep -qa 'vmctl-test-guest: ready' "$LOG_DIR/$vm-serial.log" ||
	fail "the guest did not boot: $(tail -5 "$LOG_DIR/$vm-serial.log" 2>&1)"
t_boot=$(( $(ms) - t0 ))

# ---- list: vmctl's VMs only
list=$(lv list --json) || fail "list failed"
[ "$(jq -r --arg n "$vm" '.[] | select(.name == $n) | .backend' <<<"$list")" = libvirt ] ||
	fail "list: $vm missing or no backend: $list"
jq -e --arg n "$foreign" 'any(.[]; .name == $n)' <<<"$list" >/dev/null &&
	fail "list shows a domain that is not vmctl's"
lv list | grep -q "^$vm " || fail "list (text) misses $vm"
rc=0
lv destroy "$foreign" > /dev/null 2> "$TMP/err" || rc=$?
[ "$rc" -ne 0 ] && grep -q "not a vmctl VM" "$TMP/err" ||
	fail "destroy of a foreign domain: exit $rc: $(cat "$TMP/err")"
vsh dominfo "$foreign" >/dev/null 2>&1 || fail "the foreign domain is gone"

# ---- stop (the power button), start, kill
out=$(lv stop "$vm" --timeout 60 --json) || fail "stop failed"
[ "$(jq -r .stopped_by <<<"$out")" = powerdown ] || fail "stop: $out"
[ "$(vsh domstate "$vm")" = "shut off" ] || fail "after stop: $(vsh domstate "$vm")"
grep -qa 'power button, powering off' "$LOG_DIR/$vm-serial.log" ||
	fail "the guest never saw the power button"
[ "$(lv status "$vm" --json | jq -r .state)" = stopped ] || fail "status after stop"
out=$(lv stop "$vm" --json) || fail "stop of a stopped VM failed"
[ "$(jq -r .stopped_by <<<"$out")" = not-running ] || fail "stop again: $out"
lv start "$vm" > /dev/null || fail "start failed"
[ "$(vsh domstate "$vm")" = running ] || fail "after start: $(vsh domstate "$vm")"
lv kill "$vm" | grep -q "Killed VM $vm" || fail "kill did not say so"
[ "$(vsh domstate "$vm")" = "shut off" ] || fail "after kill: $(vsh domstate "$vm")"
rc=0
lv kil "$vm" > /dev/null 2>&1 || rc=$?
[ "$rc" -eq 64 ] || fail "kill abbreviated: exit $rc, want 64"

# ---- destroy: the domain and its volumes go, the base stays
lv destroy "$vm" > /dev/null || fail "destroy failed"
vsh dominfo "$vm" >/dev/null 2>&1 && fail "the domain is still defined"
vols=$(vsh vol-list vmctl)
grep -q -- "$vm.qcow2\|$vm-seed.iso" <<<"$vols" && fail "volumes left: $vols"
grep -q -- "$base_vol" <<<"$vols" || fail "the base went with the VM"
rc=0
lv status "$vm" > /dev/null 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "status of a destroyed VM: exit $rc"

# ---- a second create: the base is not uploaded again (and a volume of
# its name with no domain, left by a create that was killed, is reclaimed).
# Its host is the spec's (connect:), not --connect's.
vsh vol-create-as vmctl "$vm2.qcow2" 1M >/dev/null || fail "vol-create-as"
t0=$(ms)
"$VMCTL" create "$(spec "$vm2" "" "connect: $URI")" > /dev/null 2> "$TMP/err" ||
	fail "second create failed: $(cat "$TMP/err")"
t_create2=$(( $(ms) - t0 ))
grep -q "Uploaded base" "$TMP/err" && fail "the base was uploaded again"
[ "$(stat -c %Y.%s "$POOL_DIR/$base_vol" 2>/dev/null || echo none)" = "$base_mtime" ] ||
	fail "the base volume changed"
[ "$(vsh domstate "$vm2")" = running ] || fail "second VM not running"
lv destroy --force "$vm2" > /dev/null || fail "destroy --force failed"
vsh dominfo "$vm2" >/dev/null 2>&1 && fail "$vm2 still defined"

# ---- failures leave nothing behind
rc=0
lv create "$(spec "$bad" "$TMP/nosuch.qcow2")" > /dev/null 2> "$TMP/err" || rc=$?
[ "$rc" -ne 0 ] || fail "create over a missing image succeeded"
[ "$(wc -l < "$TMP/err")" -le 2 ] || fail "missing image: $(cat "$TMP/err")"
rc=0
lv create "$(spec "$bad2" "" "qemu: {binary: $TMP/no-qemu}")" > /dev/null \
	2> "$TMP/err" || rc=$?
[ "$rc" -ne 0 ] || fail "create with a missing emulator succeeded"
for d in "$bad" "$bad2"; do
	vsh dominfo "$d" >/dev/null 2>&1 && fail "$d left defined"
	vsh vol-list vmctl | grep -q -- "$d" && fail "$d left volumes: $(vsh vol-list vmctl)"
done

# ---- the direct backend, same guest, for comparison
# (informational: the direct backend's own tests judge it)
mkdir -p "$TMP/direct-state"
t0=$(ms)
if VMCTL_STATE_DIR=$TMP/direct-state "$VMCTL" create "$(spec "$vm")" \
	> /dev/null 2> "$TMP/err"; then
	t_direct="$(( $(ms) - t0 )) ms"
	VMCTL_STATE_DIR=$TMP/direct-state "$VMCTL" status "$vm" --json |
		jq -e '.backend == "direct"' >/dev/null ||
		fail "direct: no backend field"
else
	t_direct="failed ($(tail -1 "$TMP/err"))"
fi
VMCTL_STATE_DIR=$TMP/direct-state "$VMCTL" destroy --force "$vm" \
	> /dev/null 2>&1 || true

say "ok: libvirt create ${t_create} ms (upload), again ${t_create2} ms" \
	"(base there); guest ready ${t_boot} ms later; direct create ${t_direct}"
