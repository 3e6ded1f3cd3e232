#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A second libvirt host (helpers/remote-host.sh: its own network and mount
# namespaces, libvirtd and sshd, reached as qemu+ssh://root@IP/system with
# a pinned host key) and VMs between hosts:
#   - create and list on the remote host over ssh;
#   - migrate a running busybox guest from qemu:///system to the remote
#     host and back: the domain and its volumes leave the source, the
#     guest is not rebooted (no second boot in its serial logs) and still
#     answers its power button afterwards;
#   - move a running VM cold to the remote host: it boots there, and is
#     gone here with its volumes;
#   - a VM with a host device is refused by migrate (before anything is
#     done) with a hint to use move;
#   - a migration that fails (a migrate URI nobody listens on) leaves the
#     VM running here and nothing on the remote host;
#   - an unreachable destination is one line and 69, nothing left behind.
# The remote host's start time is printed.
TEST_NAME=libvirt-remote
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/remote-host.sh"
need jq qemu-img
unset VMCTL_SYSFS_ROOT VMCTL_PROC_ROOT VMCTL_DEV_ROOT VMCTL_CONNECT
[ "$(id -u)" -eq 0 ] || skip "needs root (qemu:///system, ip netns)"
command -v virsh >/dev/null 2>&1 && virsh -q -c qemu:///system version \
	>/dev/null 2>&1 || skip "libvirtd is not answering (scripts/libvirtd.sh start)"
ip netns list >/dev/null 2>&1 || skip "ip netns is not available"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-lvrm.XXXXXX")
export LC_ALL=C VMCTL_STATE_DIR=$TMP/state VMCTL_HOSTS_FILE=$TMP/hosts.yaml
URI=qemu:///system
# the serial logs are volumes of the pool (lvvm-logs.c)
LOG_DIR=/var/lib/libvirt/images/vmctl
id=$$
mig=lvmig$id mov=lvmov$id rem=lvrem$id gpu=lvgpu$id bad=lvbad$id
base_name=

vsh() { virsh -q -c "$URI" "$@"; }
lv() { "$VMCTL" --connect "$URI" "$@"; }
ms() { date +%s%3N; }

cleanup() {
	set +e
	for d in "$mig" "$mov" "$rem" "$gpu" "$bad"; do
		vsh destroy "$d" >/dev/null 2>&1
		vsh undefine --nvram "$d" >/dev/null 2>&1 ||
			vsh undefine "$d" >/dev/null 2>&1
		vsh vol-delete --pool vmctl "$d.qcow2" >/dev/null 2>&1
		vsh vol-delete --pool vmctl "$d-seed.iso" >/dev/null 2>&1
		rm -f "$LOG_DIR/$d-serial.log"
	done
	if [ -n "$base_name" ]; then
		for v in $(vsh vol-list vmctl | awk '{ print $1 }' |
			grep -F -- "$base_name."); do
			vsh vol-delete --pool vmctl "$v" >/dev/null 2>&1
		done
	fi
	remote_host_stop
	rm -rf "$TMP"
}
trap cleanup EXIT

GUEST=$(guest_dir) || skip "cannot build the test guest"
rc=0
remote_host_start "$TMP/remote" || rc=$?
[ "$rc" -eq 0 ] || { [ "$rc" -eq 77 ] && skip "no remote host here"; fail "the remote host did not start"; }
R=$REMOTE_URI
rlog() { cat "$(remote_path "$LOG_DIR/$1-serial.log")" 2>/dev/null; }
printf 'hosts:\n  far: %s\n' "$R" > "$VMCTL_HOSTS_FILE"

# A base of its own (random bytes: a digest no other run has).
head -c 1M /dev/urandom > "$TMP/base.raw"
qemu-img convert -f raw -O qcow2 "$TMP/base.raw" "$TMP/base.qcow2"
rm -f "$TMP/base.raw"
base_name=base-sha256-$(sha256sum "$TMP/base.qcow2" | cut -d' ' -f1).qcow2

spec() { # NAME
	cat > "$TMP/$1.yaml" <<YAML
name: $1
cpus: 1
memory: 128M
accel: tcg
disk:
  image: $TMP/base.qcow2
kernel:
  image: $GUEST/vmlinuz
  initrd: $GUEST/initrd.img
  cmdline: console=ttyS0 panic=-1 no_timer_check
network: {ssh_port: auto, ssh_listen: 127.0.0.1}
vnc: {listen: 127.0.0.1}
YAML
	printf '%s\n' "$TMP/$1.yaml"
}
booted() { grep -ca 'vmctl-test-guest: ready' || true; }

# ---- create and list on the remote host, over ssh (a hosts-file name)
"$VMCTL" --connect far create "$(spec "$rem")" > /dev/null 2> "$TMP/err" ||
	fail "create on the remote host: $(cat "$TMP/err")"
"$VMCTL" --connect "$R" list --json | jq -e --arg n "$rem" \
	'any(.[]; .name == $n and .state == "running")' >/dev/null ||
	fail "list on the remote host misses $rem"
vsh dominfo "$rem" >/dev/null 2>&1 && fail "$rem is on the local host too"
"$VMCTL" --connect far destroy --force "$rem" > /dev/null ||
	fail "destroy on the remote host"

# ---- an unreachable destination: one line, 69, nothing made
lv create "$(spec "$mig")" > /dev/null 2> "$TMP/err" ||
	fail "create $mig: $(cat "$TMP/err")"
wait_for 120 grep -qa 'vmctl-test-guest: ready' "$LOG_DIR/$mig-serial.log" ||
	fail "$mig did not boot: $(tail -3 "$LOG_DIR/$mig-serial.log")"
rc=0
timeout 60 "$VMCTL" --connect "$URI" migrate "$mig" \
	--to "qemu+ssh://root@$REMOTE_NET.3/system" > /dev/null 2> "$TMP/err" || rc=$?
[ "$rc" -eq 69 ] || fail "unreachable destination: exit $rc, want 69: $(cat "$TMP/err")"
[ "$(wc -l < "$TMP/err")" -eq 1 ] || fail "not one line: $(cat "$TMP/err")"
[ "$(vsh domstate "$mig")" = running ] || fail "$mig stopped after a refused migrate"

# ---- a migration that fails: the VM keeps running, the remote is clean
rc=0
lv migrate "$mig" --to far --migrate-uri "tcp://$REMOTE_NET.9:49999" \
	> /dev/null 2> "$TMP/err" || rc=$?
[ "$rc" -ne 0 ] || fail "migrate through a dead migrate URI succeeded"
[ "$(vsh domstate "$mig")" = running ] || fail "$mig not running after a failed migrate"
remote_virsh dominfo "$mig" >/dev/null 2>&1 && fail "$mig left on the remote host"
remote_virsh vol-list vmctl | grep -q -- "$mig" &&
	fail "volumes left on the remote host: $(remote_virsh vol-list vmctl)"

# ---- Ctrl-C during a migration: it stops, the remote is clean again
lv migrate "$mig" --to far --migrate-uri "tcp://$REMOTE_NET.9:49999" \
	> /dev/null 2> "$TMP/err" &
pid=$!
wait_for 60 sh -c "nsenter -t \$(cat '$REMOTE_DIR/libvirtd.pid') -m -n \
	virsh -q -c qemu:///system vol-list vmctl | grep -q -- '$mig.qcow2'" ||
	fail "the migration made nothing there: $(cat "$TMP/err")"
sleep 1
t0=$(ms)
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" -ne 0 ] || fail "an interrupted migrate succeeded"
[ $(( $(ms) - t0 )) -lt 30000 ] || fail "Ctrl-C took $(( $(ms) - t0 )) ms to end the migrate"
[ "$(vsh domstate "$mig")" = running ] || fail "$mig not running after Ctrl-C"
remote_virsh dominfo "$mig" >/dev/null 2>&1 && fail "$mig left on the remote host after Ctrl-C"
remote_virsh vol-list vmctl | grep -q -- "$mig" &&
	fail "volumes left on the remote host after Ctrl-C: $(remote_virsh vol-list vmctl)"
say "Ctrl-C: migrate ended in $(( $(ms) - t0 )) ms, nothing left there ($(tail -n 1 "$TMP/err"))"

# ---- migrate there: live, the guest keeps running
t0=$(ms)
lv migrate "$mig" --to far > "$TMP/out" 2> "$TMP/err" ||
	fail "migrate to the remote host: $(cat "$TMP/err")"
t_there=$(( $(ms) - t0 ))
grep -q "Migrated VM $mig" "$TMP/out" || fail "migrate said: $(cat "$TMP/out")"
[ "$(remote_virsh domstate "$mig")" = running ] || fail "$mig not running there"
vsh dominfo "$mig" >/dev/null 2>&1 && fail "$mig still defined here"
vsh vol-list vmctl | grep -q -- "$mig" && fail "$mig's volumes left here"
for v in "$mig.qcow2" "$mig-seed.iso"; do
	remote_virsh vol-list vmctl | grep -q -- "$v" || fail "no $v there"
done
remote_virsh dumpxml --inactive "$mig" | grep -q vmctl.dev/xmlns ||
	fail "$mig is not persistent there, or lost its vmctl mark"
sleep 2
[ "$(rlog "$mig" | booted)" -eq 0 ] || fail "$mig booted again there"

# ---- and back (the destination's QEMU listens on this side of the veth)
t0=$(ms)
"$VMCTL" --connect far migrate "$mig" --to "$URI" \
	--migrate-uri "tcp://$REMOTE_NET.1" --json > "$TMP/out" 2> "$TMP/err" ||
	fail "migrate back: $(cat "$TMP/err")"
t_back=$(( $(ms) - t0 ))
[ "$(jq -r .state "$TMP/out")" = running ] || fail "migrate --json: $(cat "$TMP/out")"
[ "$(vsh domstate "$mig")" = running ] || fail "$mig not running back here"
remote_virsh dominfo "$mig" >/dev/null 2>&1 && fail "$mig still defined there"
remote_virsh vol-list vmctl | grep -q -- "$mig" && fail "$mig's volumes left there"
sleep 2
[ "$(booted < "$LOG_DIR/$mig-serial.log")" -le 1 ] || fail "$mig booted again here"
out=$(lv stop "$mig" --timeout 60 --json) || fail "stop after the round trip"
[ "$(jq -r .stopped_by <<<"$out")" = powerdown ] ||
	fail "the guest did not answer its power button after the round trip: $out"

# ---- move: cold, booted there
lv create "$(spec "$mov")" > /dev/null 2> "$TMP/err" || fail "create $mov: $(cat "$TMP/err")"
wait_for 120 grep -qa 'vmctl-test-guest: ready' "$LOG_DIR/$mov-serial.log" ||
	fail "$mov did not boot"
# a move that fails there (its network is down: the domain cannot start)
# cleans the remote host and starts the VM here again
remote_virsh net-destroy vmctl >/dev/null || fail "net-destroy there"
rc=0
lv move "$mov" --to far --timeout 30 > /dev/null 2> "$TMP/err" || rc=$?
remote_virsh net-start vmctl >/dev/null || fail "net-start there"
[ "$rc" -eq 1 ] || fail "move onto a host without its network: exit $rc: $(cat "$TMP/err")"
[ "$(wc -l < "$TMP/err")" -eq 1 ] || fail "not one line: $(cat "$TMP/err")"
[ "$(vsh domstate "$mov")" = running ] || fail "$mov was not started again here"
remote_virsh dominfo "$mov" >/dev/null 2>&1 && fail "$mov left defined there"
remote_virsh vol-list vmctl | grep -q -- "$mov" &&
	fail "$mov's volumes left there: $(remote_virsh vol-list vmctl)"
# booted again (so that it hears the power button): as many "ready" as
# kernel banners in its log, however libvirt keeps the log across starts
sleep 3
wait_for 120 sh -c "[ \$(grep -ca 'Linux version' '$LOG_DIR/$mov-serial.log') -eq \
	\$(grep -ca 'vmctl-test-guest: ready' '$LOG_DIR/$mov-serial.log') ]" ||
	fail "$mov did not boot again here"
t0=$(ms)
lv move "$mov" --to far --timeout 30 > "$TMP/out" 2> "$TMP/err" ||
	fail "move: $(cat "$TMP/err")"
t_move=$(( $(ms) - t0 ))
grep -q "Moved VM $mov" "$TMP/out" || fail "move said: $(cat "$TMP/out")"
[ "$(remote_virsh domstate "$mov")" = running ] || fail "$mov not running there"
vsh dominfo "$mov" >/dev/null 2>&1 && fail "$mov still defined here"
vsh vol-list vmctl | grep -q -- "$mov" && fail "$mov's volumes left here"
wait_for 120 sh -c "grep -qa 'vmctl-test-guest: ready' '$(remote_path "$LOG_DIR/$mov-serial.log")'" ||
	fail "$mov did not boot there: $(rlog "$mov" | tail -3)"
# its log there, read over qemu+ssh through the storage API
"$VMCTL" --connect far logs "$mov" > "$TMP/rlogs" 2> "$TMP/err" ||
	fail "logs over ssh: $(cat "$TMP/err")"
grep -q 'vmctl-test-guest: ready' "$TMP/rlogs" ||
	fail "logs over ssh do not show the boot: $(tail -3 "$TMP/rlogs")"
# the fleet view: the moved VM under the remote host's name
"$VMCTL" list --all-hosts --json > "$TMP/all.json" 2> "$TMP/err" ||
	fail "list --all-hosts: $(cat "$TMP/err")"
[ "$(jq -r --arg n "$mov" '.vms[] | select(.name == $n) | .host_name' "$TMP/all.json")" = far ] ||
	fail "list --all-hosts does not show $mov on far: $(cat "$TMP/all.json")"
[ "$(jq -r '.hosts[] | select(.name == "far") | .status' "$TMP/all.json")" = ok ] ||
	fail "list --all-hosts: far is not ok: $(cat "$TMP/all.json")"

# ---- a host device: migrate refuses before anything is done
lv create "$(spec "$gpu")" --no-start > /dev/null 2> "$TMP/err" ||
	fail "create $gpu: $(cat "$TMP/err")"
vsh dumpxml --inactive "$gpu" | sed "s|</devices>|<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x00' slot='0x1f' function='0x3'/></source></hostdev></devices>|" \
	> "$TMP/gpu.xml"
vsh define "$TMP/gpu.xml" >/dev/null 2>&1 || fail "cannot define $gpu with a hostdev"
rc=0
lv migrate "$gpu" --to far > /dev/null 2> "$TMP/err" || rc=$?
[ "$rc" -eq 1 ] || fail "migrate of a VM with a hostdev: exit $rc: $(cat "$TMP/err")"
grep -q "VFIO devices cannot migrate" "$TMP/err" && grep -q "vmctl move" "$TMP/err" ||
	fail "the refusal does not say why: $(cat "$TMP/err")"
remote_virsh vol-list vmctl | grep -q -- "$gpu" && fail "$gpu: volumes made there"
vsh dominfo "$gpu" >/dev/null 2>&1 || fail "$gpu is gone here"

say "ok: remote host started in ${REMOTE_START_MS} ms; migrate there" \
	"${t_there} ms, back ${t_back} ms; move ${t_move} ms"
