#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Snapshots and save/restore on a libvirt host (--connect qemu:///system)
# under TCG, with snaptest-lib.sh's guest (a counter on the serial console,
# a shell reading it, a virtio disk): lines are typed with `vmctl console`
# (stdin piped), the log is read with `vmctl logs`.  Checked:
#   - a --memory snapshot reverted on the running VM resumes the counter
#     from the snapshot's value (no new boot), its disk with it;
#   - save -> status/list "saved" (libvirt's managed save) -> start
#     resumes the counter, no new boot; restore does the same and refuses
#     a VM not saved; save --discard drops the managed save image;
#   - a disk snapshot of the stopped VM, reverted while stopped, brings
#     back what the guest had written (a fresh boot reads it);
#   - a --memory snapshot reverted while stopped: "saved", and the next
#     start resumes it;
#   - list --json (tree, current, memory, backend/host), delete re-parents;
#   - refusals (status, one line, nothing changed): a disk-only snapshot
#     of the running VM, unknown, duplicate and invalid names, revert of
#     a disk-only snapshot while running, --memory of a stopped VM, a
#     domain with a <hostdev> (--memory, save) or a pflash loader (any
#     snapshot);
#   - migrate and move refuse a VM with snapshots;
#   - destroy of a saved VM with snapshots leaves no domain or volume.
TEST_NAME=libvirt-snapshot
. "$(dirname "$0")/lib.sh"
need jq qemu-img cpio
unset VMCTL_SYSFS_ROOT VMCTL_PROC_ROOT VMCTL_DEV_ROOT VMCTL_CONNECT
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-lvsnap.XXXXXX")
export LC_ALL=C VMCTL_STATE_DIR=$TMP/state VMCTL_HOSTS_FILE=$TMP/hosts.yaml
URI=qemu:///system
VM=lvsnap$$ G=lvsnapg$$ U=lvsnapu$$
digests=

. "$(dirname "$0")/lvtest-lib.sh"
ms() { date +%s%3N; }

cleanup() {
	set +e
	lvt_remove_domains "$VM" "$G" "$U"
	# the base and the initrd are this test's own
	lvt_remove_digests $digests
	rm -rf "$TMP"
}
trap cleanup EXIT

lvt_require
SNAPTEST_DIR=$TMP
. "$(dirname "$0")/snaptest-lib.sh"
snaptest_initrd "$GUEST"
lvt_base
digests="$(sha256sum "$TMP/base.qcow2" "$TMP/initrd.img" | cut -d' ' -f1 | tr '\n' ' ')"

cat > "$TMP/$VM.yaml" <<YAML
name: $VM
cpus: 1
memory: 128M
accel: tcg
disk:
  image: $TMP/base.qcow2
kernel:
  image: $GUEST/vmlinuz
  initrd: $TMP/initrd.img
  cmdline: console=ttyS0 panic=-1 no_timer_check
vnc: false
YAML

# ---- helpers (and snaptest-lib.sh's) ---------------------------------------
# The serial log through libvirt (vmctl logs).
log() { lv logs "$VM" 2>/dev/null; }
type_in() { { sleep 0.5; printf '%s\n' "$1"; sleep 1; } | lv -q console "$VM" >/dev/null 2>&1; }
snaps() { vsh snapshot-list --name "$1" | sort | tr '\n' ' '; }
state() { lv status "$VM" --json | jq -r .state; }
wait_running_ticks() { local m; m=$(lines); wait_ticks "$m" "$1"; }

# ---- 1. boot; a disk-only snapshot of the running VM is refused ---------
lv create "$TMP/$VM.yaml" >/dev/null 2>"$TMP/err" || fail "create: $(cat "$TMP/err")"
wait_for 240 log_has '^snaptest: tick 3$' ||
	fail "guest did not boot: $(log | tail -n 20)"
disk_write disk-one
[ "$(disk_read)" = disk-one ] || fail "guest cannot read back its disk"
expect_refused 1 "only with its memory" lv snapshot create "$VM" d0
[ "$(snaps "$VM")" = "" ] || fail "a refusal made a snapshot: $(snaps "$VM")"

# ---- 2. a --memory snapshot, reverted while running ----------------------
before=$(last_tick)
t0=$(ms)
out=$(lv snapshot create "$VM" m1 --memory --json) || fail "create m1: $out"
say "--memory snapshot (128M guest, libvirt): $(($(ms) - t0)) ms"
[ "$(jq -c '[.snapshot, .memory, .backend, .host]' <<<"$out")" = \
	"[\"m1\",true,\"libvirt\",\"$URI\"]" ] || fail "create --json: $out"
after=$(last_tick)
disk_write disk-two
snaptest_revert_running "$before" "$after" lv snapshot revert "$VM" m1
[ "$(disk_read)" = disk-one ] || fail "memory revert did not bring back m1's disk"

# ---- 3. refusals -------------------------------------------------------------
expect_refused 1 'no snapshot "nope"' lv snapshot revert "$VM" nope
expect_refused 1 'no snapshot "nope"' lv snapshot delete "$VM" nope
expect_refused 1 'already has a snapshot "m1"' lv snapshot create "$VM" m1 --memory
expect_refused 64 'invalid snapshot name "1x"' lv snapshot create "$VM" 1x --memory
expect_refused 1 'holds no saved state' lv restore "$VM"
[ "$(snaps "$VM")" = "m1 " ] || fail "a refusal changed the snapshots: $(snaps "$VM")"
[ "$(state)" = running ] || fail "a refusal stopped the VM"

# ---- 4. save -> "saved" -> start resumes ---------------------------------------
wait_running_ticks 2
t0=$(ms)
out=$(lv save "$VM" --json) || fail "save: $out"
say "save (managed save): $(($(ms) - t0)) ms"
[ "$(jq -c '[.state, .backend]' <<<"$out")" = '["saved","libvirt"]' ] || fail "save --json: $out"
saved_at=$(last_tick)
[ "$(vsh domstate "$VM")" = "shut off" ] || fail "save left it $(vsh domstate "$VM")"
[ "$(state)" = saved ] || fail "status: $(lv status "$VM" --json)"
[ "$(lv list --json | jq -r --arg n "$VM" '.[] | select(.name == $n) | .state')" = saved ] ||
	fail "list does not say saved"
lv snapshot list "$VM" | grep -c "also holds a saved state" >/dev/null || fail "list does not say saved"
expect_refused 1 'is not running' lv snapshot create "$VM" m2 --memory
expect_refused 1 'is not running: it has no memory to save' lv save "$VM"
snaptest_start_resumes "$saved_at" $((saved_at + 2)) lv start "$VM"
[ "$(state)" = running ] || fail "not running after start"
say "save/start: the counter went on at $FIRST (saved at $saved_at), no new boot"

# restore: the same, for a saved VM only
lv save "$VM" >/dev/null || fail "second save failed"
saved_at=$(last_tick)
snaptest_start_resumes "$saved_at" $((saved_at + 2)) lv restore "$VM"
grep -q "^Restored VM $VM" <<<"$SAID" || fail "restore said: $SAID"
[ "$(state)" = running ] || fail "not running after restore"

# ---- 5. a disk snapshot of the stopped VM, reverted while stopped ----------
disk_write disk-thr
# (stopped by a save whose state is then discarded)
lv save "$VM" >/dev/null || fail "third save failed"
out=$(lv save --discard "$VM" --json) || fail "save --discard: $out"
[ "$(jq -c '[.state, .discarded]' <<<"$out")" = '["stopped",true]' ] || fail "save --discard --json: $out"
[ "$(state)" = stopped ] || fail "after save --discard: $(state)"
vsh managedsave-dumpxml "$VM" >/dev/null 2>&1 && fail "the managed save image stays"
expect_refused 1 'holds no saved state' lv save --discard "$VM"
out=$(lv snapshot create "$VM" d1 --json) || fail "create d1: $out"
[ "$(jq -c '[.snapshot, .memory]' <<<"$out")" = '["d1",false]' ] || fail "create d1: $out"
lv start "$VM" >/dev/null || fail "start failed"
wait_running_ticks 2
disk_write disk-fou
expect_refused 1 'stop it first' lv snapshot revert "$VM" d1
[ "$(disk_read)" = disk-fou ] || fail "a refused revert changed the disk"
lv stop "$VM" --timeout 0 >/dev/null || fail "stop failed"
out=$(lv snapshot revert "$VM" d1) || fail "revert d1: $out"
[ "$(state)" = stopped ] || fail "revert of a disk snapshot left it $(state)"
mark=$(lines)
nb=$(boots)
lv start "$VM" >/dev/null || fail "start after revert failed"
wait_ticks "$mark" 2
[ "$(boots)" = $((nb + 1)) ] || fail "no fresh boot after a disk revert"
r=$(disk_read); [ "$r" = disk-thr ] || fail "revert d1 did not bring back disk-thr (read: $r)"
say "disk revert: the guest reads disk-thr again"

# ---- 6. a --memory snapshot reverted while stopped resumes at start ---------
lv stop "$VM" --timeout 0 >/dev/null || fail "stop failed"
out=$(lv snapshot revert "$VM" m1 --json) || fail "stopped revert m1: $out"
[ "$(jq -r .memory <<<"$out")" = true ] || fail "revert --json: $out"
[ "$(state)" = saved ] || fail "a stopped revert to m1 left it $(state)"
snaptest_start_resumes $((before + 1)) $((after + 1)) lv start "$VM"
[ "$(disk_read)" = disk-one ] || fail "stopped revert m1: not m1's disk"
say "stopped revert of m1: the start resumed the counter at $FIRST"

# ---- 7. list, delete (running) re-parents ----------------------------------
out=$(lv snapshot list "$VM" --json) || fail "list --json failed"
[ "$(jq -c '[.[] | [.name, .parent, .memory, .current, .vm_state_size, .backend]]' <<<"$out")" = \
	'[["m1",null,true,true,null,"libvirt"],["d1","m1",false,false,null,"libvirt"]]' ] ||
	fail "list --json: $out"
lv snapshot list "$VM" | grep -c '^  d1 ' >/dev/null || fail "human list: $(lv snapshot list "$VM")"
lv snapshot delete "$VM" m1 >/dev/null || fail "delete m1 failed"
[ "$(lv snapshot list "$VM" --json | jq -c '[.[] | [.name, .parent]]')" = '[["d1",null]]' ] ||
	fail "delete did not re-parent d1: $(lv snapshot list "$VM" --json)"
[ "$(snaps "$VM")" = "d1 " ] || fail "m1 still there: $(snaps "$VM")"

# ---- 8. a host device, a pflash loader: refused, nothing made ---------------
meta() {
	printf "<metadata><vmctl:vm xmlns:vmctl='https://vmctl.dev/xmlns/vm/1'><vmctl:name>%s</vmctl:name><vmctl:created>1</vmctl:created></vmctl:vm></metadata>" "$1"
}
cat > "$TMP/g.xml" <<XML
<domain type='qemu'><name>$G</name>$(meta "$G")<memory unit='MiB'>64</memory>
<os><type arch='x86_64'>hvm</type></os>
<devices><hostdev mode='subsystem' type='pci' managed='yes'><source>
<address domain='0x0000' bus='0x7f' slot='0x1f' function='0x7'/></source></hostdev></devices></domain>
XML
cat > "$TMP/u.xml" <<XML
<domain type='qemu'><name>$U</name>$(meta "$U")<memory unit='MiB'>64</memory>
<os><type arch='x86_64' machine='q35'>hvm</type>
<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>
<nvram>$TMP/${U}_VARS.fd</nvram></os><features><acpi/></features></domain>
XML
vsh define "$TMP/g.xml" >/dev/null || fail "cannot define $G"
vsh define "$TMP/u.xml" >/dev/null || fail "cannot define $U"
expect_refused 1 "VM $G has a passed-through GPU: cannot snapshot it with its memory" \
	lv snapshot create "$G" m --memory
expect_refused 1 "VM $G has a passed-through GPU: cannot save it" lv save "$G"
expect_refused 1 "VM $U boots UEFI: libvirt takes no internal snapshot" \
	lv snapshot create "$U" d
[ "$(snaps "$G")$(snaps "$U")" = "" ] || fail "a refusal made a snapshot"

# ---- 9. migrate and move refuse a VM with snapshots (before the target is
# even looked at: --to names this host) ---------------------------------------
expect_refused 1 "VM $VM has 1 snapshot: libvirt's record of them would not go with it" \
	lv migrate "$VM" --to "$URI"
expect_refused 1 "VM $VM has 1 snapshot" lv move "$VM" --to "$URI"
[ "$(state)" = running ] && [ "$(snaps "$VM")" = "d1 " ] || fail "a refused move changed the VM"

# ---- 10. destroy of a saved VM with snapshots -------------------------------
lv save "$VM" >/dev/null || fail "third save failed"
lv destroy "$VM" >/dev/null 2>"$TMP/err" || fail "destroy: $(cat "$TMP/err")"
vsh dominfo "$VM" >/dev/null 2>&1 && fail "the domain is still defined"
vsh vol-list vmctl | grep -c -- "$VM" >/dev/null && fail "volumes left: $(vsh vol-list vmctl)"
say "PASS"
