#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Snapshots and save/restore on the direct backend, under TCG, with
# snaptest-lib.sh's guest (a counter on the serial console, a shell reading
# it, a virtio disk); lines are typed with tmux send-keys into the VM's
# pane.  Checked:
#   - a disk snapshot of the running VM, reverted while stopped, brings
#     back what the guest wrote to its disk (fresh boot, dd of /dev/vda);
#   - a --memory snapshot reverted on the running VM resumes the guest's
#     counter from the snapshot's value (not 1, not the latest), the disk
#     with it; reverted while stopped, the next start resumes it;
#   - save -> status "saved" -> start resumes the counter, no new boot;
#     the saved state is gone once resumed; save --discard drops it (the
#     next start boots afresh);
#   - list --json (tree, current, memory, size), delete re-parents;
#   - UEFI: the variables are qcow2 (OVMF_VARS.qcow2) and go with the RAM:
#     a --memory snapshot of a running UEFI VM, save -> start and a stopped
#     revert resume it (the start loads the snapshot over QMP: -loadvm
#     would look for the RAM in the variable store); deleting removes the
#     snapshot from both images; a clone gets them without the snapshots;
#     a VM with the old raw variables gets them
#     converted at its next start;
#   - refusals (exit status, one line, nothing changed): unknown, duplicate
#     and invalid names, revert of a disk-only snapshot while running,
#     --memory of a stopped VM, restore of a VM not saved, --connect
#     (a libvirt host's VM of the name).
TEST_NAME=lifecycle-snapshot
. "$(dirname "$0")/lib.sh"
need qemu-img cpio
lc_setup snapshot

# ---- the guest (snaptest-lib.sh) -----------------------------------------
SNAPTEST_DIR=$LC_TMP
. "$(dirname "$0")/snaptest-lib.sh"
snaptest_initrd "$LC_GUEST"
qemu-img create -q -f raw "$LC_TMP/base.raw" 1M

VM=snap$$
cat > "$LC_TMP/$VM.yaml" <<YAML
name: $VM
cpus: 1
memory: 128M
accel: tcg
kernel:
  image: $LC_GUEST/vmlinuz
  initrd: $LC_TMP/initrd.img
  cmdline: console=ttyS0 panic=-1 no_timer_check
disk: {image: $LC_TMP/base.raw}
network: {ssh_port: auto, ssh_listen: 127.0.0.1}
vnc: false
YAML
LOG=$(lc_vmdir "$VM")/serial.log
DISK=$(lc_vmdir "$VM")/disk.qcow2

# ---- helpers (and snaptest-lib.sh's) ---------------------------------------
log() { tr -d '\r' < "$LOG" 2>/dev/null; }
type_in() { tmux -L "$VMCTL_TMUX_SOCKET" send-keys -t "=vmctl-$VM:" "$1" Enter; }
img_snaps() { qemu-img snapshot -U -l "$DISK" | awk 'NR > 2 { print $2 }' | sort | tr '\n' ' '; }

# ---- 1. boot; a disk snapshot of the running VM ------------------------
vmc create "$LC_TMP/$VM.yaml" >/dev/null 2>&1 || fail "create failed"
wait_for 240 log_has '^snaptest: tick 3$' ||
	fail "guest did not boot: $(log | tail -n 20)"
disk_write disk-one
[ "$(disk_read)" = disk-one ] || fail "guest cannot read back its disk"
t0=$(lc_ms)
vmc snapshot create "$VM" d1 >/dev/null || fail "snapshot create d1 failed"
say "disk snapshot of the running VM: $(($(lc_ms) - t0)) ms"
disk_write disk-two

# ---- 2. a --memory snapshot, reverted while running ---------------------
before=$(last_tick)
t0=$(lc_ms)
out=$(vmc snapshot create "$VM" m1 --memory --json) || fail "create m1: $out"
say "--memory snapshot (128M guest): $(($(lc_ms) - t0)) ms"
[ "$(jq -c '[.snapshot, .memory]' <<<"$out")" = '["m1",true]' ] || fail "create --json: $out"
after=$(last_tick)
disk_write disk-thr
snaptest_revert_running "$before" "$after" vmc snapshot revert "$VM" m1
[ "$(disk_read)" = disk-two ] || fail "memory revert did not bring back m1's disk"
say "memory revert: the counter resumed at $FIRST (taken at $before..$after)"

# ---- 3. list --------------------------------------------------------------
out=$(vmc snapshot list "$VM" --json) || fail "list --json failed"
[ "$(jq -c '[.[] | [.name, .parent, .memory, .current, (.vm_state_size > 0), .problem]]' <<<"$out")" = \
	'[["d1",null,false,false,false,null],["m1","d1",true,true,true,null]]' ] ||
	fail "list --json: $out"
vmc snapshot list "$VM" | grep -q '^  m1 \*' || fail "human list: $(vmc snapshot list "$VM")"

# ---- 4. refusals ----------------------------------------------------------
expect_refused 1 'no snapshot "nope"' vmc snapshot revert "$VM" nope
expect_refused 1 'no snapshot "nope"' vmc snapshot delete "$VM" nope
expect_refused 1 'already has a snapshot "m1"' vmc snapshot create "$VM" m1
expect_refused 64 'invalid snapshot name "1x"' vmc snapshot create "$VM" 1x
expect_refused 64 'invalid snapshot name "vmctl-saved"' vmc snapshot revert "$VM" vmctl-saved
expect_refused 1 'stop it first' vmc snapshot revert "$VM" d1
expect_refused 1 'holds no saved state' vmc restore "$VM"
# --connect is the libvirt host's VM of that name (libvirt-snapshot.sh)
expect_refused 1 "qemu:///system: no VM named \"$VM\"" vmc snapshot list "$VM" --connect qemu:///system
expect_refused 1 "qemu:///system: no VM named \"$VM\"" vmc save "$VM" --connect qemu:///system
[ "$(img_snaps)" = "d1 m1 " ] || fail "a refusal changed the disk's snapshots: $(img_snaps)"
[ "$(disk_read)" = disk-two ] || fail "a refusal changed the disk"

# ---- 5. save -> start resumes ----------------------------------------------
wait_ticks "$(lines)" 2
pid=$(lc_status "$VM" | jq -r .pid)
t0=$(lc_ms)
out=$(vmc save "$VM") || fail "save: $out"
say "save: $(($(lc_ms) - t0)) ms"
say "$out"
lc_wait_gone "$pid" 10 || fail "QEMU still runs after save"
saved_at=$(last_tick)
[ "$(lc_status "$VM" | jq -r .state)" = saved ] || fail "status: $(lc_status "$VM")"
[ "$(lc_list_field "$VM" state)" = saved ] || fail "list does not say saved"
[ "$(img_snaps)" = "d1 m1 vmctl-saved " ] || fail "no saved state in the disk: $(img_snaps)"
[ "$(vmc snapshot list "$VM" --json | jq -r '[.[].name] | join(" ")')" = "d1 m1" ] ||
	fail "list shows the saved state"
expect_refused 1 'is not running' vmc snapshot create "$VM" m2 --memory
snaptest_start_resumes "$saved_at" $((saved_at + 2)) vmc start "$VM"
[ "$(lc_status "$VM" | jq -r .state)" = running ] || fail "not running after start"
[ "$(img_snaps)" = "d1 m1 " ] || fail "the saved state was not dropped: $(img_snaps)"
say "save/start: the counter went on at $FIRST (saved at $saved_at), no new boot"

# ---- 6. revert a disk snapshot while stopped: a fresh boot sees its disk --
disk_write disk-fou
t0=$(lc_ms)
vmc stop "$VM" --timeout 0 >/dev/null || fail "stop failed"
say "stop --timeout 0 (QMP quit), for comparison: $(($(lc_ms) - t0)) ms"
out=$(vmc snapshot revert "$VM" d1) || fail "revert d1: $out"
mark=$(lines)
nb=$(boots)
vmc start "$VM" >/dev/null || fail "start after revert failed"
wait_ticks "$mark" 2
[ "$(boots)" = $((nb + 1)) ] || fail "no fresh boot after a disk revert"
[ "$(disk_read)" = disk-one ] || fail "revert d1 did not bring back disk-one"
say "disk revert: the guest reads disk-one again"

# ---- 7. a --memory snapshot reverted while stopped resumes at start -------
vmc stop "$VM" --timeout 0 >/dev/null || fail "stop failed"
vmc snapshot revert "$VM" m1 >/dev/null || fail "stopped revert m1 failed"
snaptest_start_resumes $((before + 1)) $((after + 1)) vmc start "$VM"
say "stopped revert of m1: the start resumed the counter at $FIRST"

# ---- 8. delete (running: QMP) re-parents --------------------------------
vmc snapshot delete "$VM" d1 >/dev/null || fail "delete d1 failed"
[ "$(vmc snapshot list "$VM" --json | jq -c '[.[] | [.name, .parent]]')" = '[["m1",null]]' ] ||
	fail "delete did not re-parent m1: $(vmc snapshot list "$VM" --json)"
[ "$(img_snaps)" = "m1 " ] || fail "d1 still in the disk: $(img_snaps)"

# ---- 9. a VM with a passed-through GPU (never started: its spec.json is
# given a GPU) takes disk snapshots only; --memory and save are refused.
G=g$$
sed -e "s/^name: $VM/name: $G/" "$LC_TMP/$VM.yaml" > "$LC_TMP/$G.yaml"
vmc create "$LC_TMP/$G.yaml" --no-start >/dev/null 2>&1 || fail "create $G failed"
gspec=$(lc_vmdir "$G")/spec.json
jq '.gpu = [{"address": "0000:01:00.0"}] | .memory.balloon = false' "$gspec" > "$gspec.new"
mv "$gspec.new" "$gspec"
expect_refused 1 "VM $G has a passed-through GPU: cannot snapshot it with its memory (VFIO device state cannot be saved" \
	vmc snapshot create "$G" m --memory
expect_refused 1 "VM $G has a passed-through GPU: cannot save it" vmc save "$G"
vmc snapshot create "$G" d >/dev/null || fail "a disk snapshot of the stopped GPU VM failed"
[ "$(qemu-img snapshot -U -l "$(lc_vmdir "$G")/disk.qcow2" | awk 'NR > 2 { print $2 }')" = d ] ||
	fail "GPU VM: the disk does not hold just d"
vmc destroy "$G" >/dev/null 2>&1 || fail "destroy $G failed"

# ---- 10. save --discard; a saved VM is destroyed as a stopped one ----------
expect_refused 1 'holds no saved state' vmc save --discard "$VM"
vmc save "$VM" >/dev/null || fail "second save failed"
out=$(vmc save --discard "$VM" --json) || fail "save --discard: $out"
[ "$(jq -c '[.state, .discarded]' <<<"$out")" = '["stopped",true]' ] || fail "save --discard --json: $out"
[ "$(lc_status "$VM" | jq -r .state)" = stopped ] || fail "after save --discard: $(lc_status "$VM")"
[ "$(img_snaps)" = "m1 " ] || fail "save --discard left: $(img_snaps)"
mark=$(lines)
nb=$(boots)
vmc start "$VM" >/dev/null || fail "start after save --discard failed"
wait_ticks "$mark" 2
[ "$(boots)" = $((nb + 1)) ] || fail "start after save --discard did not boot afresh"
vmc save "$VM" >/dev/null || fail "third save failed"
[ "$(lc_status "$VM" | jq -r .state)" = saved ] || fail "not saved"
vmc destroy "$VM" >/dev/null 2>&1 || fail "destroy of a saved VM failed"
[ ! -e "$(lc_vmdir "$VM")" ] || fail "destroy left the VM's directory"
lc_assert_no_qemu "destroy"

# ---- 11. UEFI: the RAM with the firmware's variables ----------------------
U=u$$
# (OVMF needs more than 128M to load a kernel.)
sed -e "s/^name: $VM/name: $U/" -e 's/^accel: tcg/accel: tcg\nfirmware: uefi/' \
	-e 's/^memory: 128M/memory: 512M/' "$LC_TMP/$VM.yaml" > "$LC_TMP/$U.yaml"
VM=$U
LOG=$(lc_vmdir "$VM")/serial.log
DISK=$(lc_vmdir "$VM")/disk.qcow2
VARS=$(lc_vmdir "$VM")/OVMF_VARS.qcow2
vars_snaps() { qemu-img snapshot -U -l "$VARS" | awk 'NR > 2 { print $2 }' | sort | tr '\n' ' '; }
vmc create "$LC_TMP/$VM.yaml" >/dev/null 2>&1 || fail "create $VM (UEFI) failed"
wait_for 300 log_has '^snaptest: tick 3$' ||
	fail "UEFI guest did not boot: $(log | tail -n 20)"
[ "$(qemu-img info -U --output=json "$VARS" | jq -r .format)" = qcow2 ] ||
	fail "the UEFI variables are not qcow2"
[ ! -e "$(lc_vmdir "$VM")/OVMF_VARS.fd" ] || fail "a raw variable store beside the qcow2"
before=$(last_tick)
out=$(vmc snapshot create "$VM" um --memory 2>&1) || fail "UEFI --memory snapshot: $out"
after=$(last_tick)
[ "$(img_snaps)" = "um " ] && [ "$(vars_snaps)" = "um " ] ||
	fail "um not in both images: disk $(img_snaps), vars $(vars_snaps)"
wait_ticks "$(lines)" 3
pid=$(lc_status "$VM" | jq -r .pid)
vmc save "$VM" >/dev/null || fail "UEFI save failed"
lc_wait_gone "$pid" 10 || fail "QEMU still runs after save"
saved_at=$(last_tick)
[ "$(vars_snaps)" = "um vmctl-saved " ] || fail "saved state not in the variables: $(vars_snaps)"
mark=$(lines)
nb=$(boots)
vmc start "$VM" >/dev/null || fail "start of the saved UEFI VM failed"
wait_ticks "$mark" 2
first=$(ticks_after "$mark" | sed -n 1p)
[ "$(boots)" = "$nb" ] && [ "$first" -ge "$saved_at" ] && [ "$first" -le $((saved_at + 2)) ] ||
	fail "UEFI save/start did not resume (tick $first, saved at $saved_at)"
[ "$(img_snaps)" = "um " ] && [ "$(vars_snaps)" = "um " ] ||
	fail "the saved state stays: disk $(img_snaps), vars $(vars_snaps)"
say "UEFI save/start: the counter went on at $first (saved at $saved_at)"
# stopped by a save whose state is then discarded, from both images
vmc save "$VM" >/dev/null || fail "second UEFI save failed"
vmc save --discard "$VM" >/dev/null || fail "UEFI save --discard failed"
[ "$(img_snaps)" = "um " ] && [ "$(vars_snaps)" = "um " ] ||
	fail "UEFI save --discard left: disk $(img_snaps), vars $(vars_snaps)"
vmc snapshot revert "$VM" um >/dev/null || fail "stopped revert um failed"
mark=$(lines)
nb=$(boots)
vmc start "$VM" >/dev/null || fail "start after revert um failed"
wait_ticks "$mark" 2
first=$(ticks_after "$mark" | sed -n 1p)
[ "$(boots)" = "$nb" ] && [ "$first" -gt "$before" ] && [ "$first" -le $((after + 1)) ] ||
	fail "UEFI: start after a stopped revert to um did not resume it (tick $first, um at $before..$after)"
say "UEFI stopped revert: the start resumed the counter at $first"
vmc stop "$VM" --timeout 0 >/dev/null || fail "stop $VM failed"
# A clone gets the variables as they are, in qcow2, without um.
vmc clone "$VM" "c$VM" >/dev/null 2>&1 || fail "clone of the UEFI VM failed"
cvars=$(lc_vmdir "c$VM")/OVMF_VARS.qcow2
[ "$(qemu-img info --output=json "$cvars" | jq -r '[.format, (.snapshots // [] | length)] | join(" ")')" = "qcow2 0" ] ||
	fail "the clone's variables: $(qemu-img info "$cvars" 2>&1)"
vmc destroy "c$VM" >/dev/null 2>&1 || fail "destroy of the clone failed"
vmc snapshot delete "$VM" um >/dev/null || fail "delete um failed"
[ -z "$(img_snaps)" ] && [ -z "$(vars_snaps)" ] ||
	fail "um left: disk $(img_snaps), vars $(vars_snaps)"
# A VM of an older vmctl: raw variables, converted by its next start.
qemu-img convert -f qcow2 -O raw "$VARS" "$(lc_vmdir "$VM")/OVMF_VARS.fd"
rm -f "$VARS"
vmc cmdline "$(lc_vmdir "$VM")/spec.json" | grep -q 'OVMF_VARS.fd,node-name=ovmf-vars-file -blockdev driver=raw' ||
	fail "cmdline of a raw-variables VM: $(vmc cmdline "$(lc_vmdir "$VM")/spec.json")"
vmc start "$VM" >/dev/null || fail "start of a raw-variables VM failed"
[ "$(qemu-img info -U --output=json "$VARS" | jq -r .format)" = qcow2 ] &&
	[ ! -e "$(lc_vmdir "$VM")/OVMF_VARS.fd" ] || fail "start did not convert the raw variables"
vmc destroy "$VM" >/dev/null 2>&1 || fail "destroy $VM failed"
lc_assert_no_qemu "UEFI destroy"
say "PASS"
