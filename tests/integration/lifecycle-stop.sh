#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# stop, start, kill: a graceful stop goes through the guest's ACPI power
# button (stopped_by powerdown) and leaves no QEMU; start brings the VM
# back on the same SSH and VNC ports with the same VNC password and keeps
# appending to the serial log; kill pulls the plug (stopped_by kill).
# (The exit status and signal vmctl records are lifecycle-exit-status.sh's.)
TEST_NAME=lifecycle-stop
. "$(dirname "$0")/lib.sh"
lc_setup stop

vm=grace
vmc create "$(lc_spec $vm)" >/dev/null 2>&1 || fail "create failed"
st=$(lc_status $vm)
pid=$(jq -r .pid <<<"$st")
ssh_port=$(jq -r .ssh_port <<<"$st")
vnc_port=$(jq -r .vnc.port <<<"$st")
pw=$(vmc vnc $vm --json | jq -r .password)
lc_is_qemu "$pid" || fail "pid $pid is not QEMU"
# Only once the guest has its power-button handler can it shut down.
lc_wait_ready $vm

# ---- graceful stop
t0=$(lc_ms)
out=$(vmc stop $vm 2>&1) || fail "stop failed: $out"
t1=$(lc_ms)
grep -q "the guest shut down" <<<"$out" || fail "stop did not say the guest shut down: $out"
say "stop took $((t1 - t0)) ms: $out"
grep -q 'vmctl-test-guest: power button, powering off' "$(lc_vmdir $vm)/serial.log" ||
	fail "the guest never saw the power button"
st=$(lc_status $vm)
[ "$(jq -r .state <<<"$st")" = stopped ] || fail "state after stop: $st"
[ "$(jq -r .pid <<<"$st")" = null ] || fail "pid after stop: $st"
[ "$(jq -r .last_exit.stopped_by <<<"$st")" = powerdown ] || fail "stopped_by after stop: $st"
[ "$(jq -r .qmp_status <<<"$st")" = "" ] || fail "qmp_status of a stopped VM: $st"
[ "$(lc_list_field $vm state)" = stopped ] || fail "list state after stop"
lc_is_qemu "$pid" && fail "QEMU $pid still alive after stop"
lc_assert_no_qemu "after stop"
lc_has_session $vm && fail "tmux session left after stop"
[ ! -e "$(lc_vmdir $vm)/qmp.sock" ] || fail "qmp.sock left after stop"
[ ! -e "$(lc_vmdir $vm)/qemu.pid" ] || fail "qemu.pid left after stop"

# Stopping a stopped VM is not an error.
out=$(vmc stop $vm --json 2>&1) || fail "stop of a stopped VM failed: $out"
[ "$(jq -r .stopped_by <<<"$out")" = not-running ] || fail "stop of a stopped VM: $out"

# ---- start: same ports, same password, new QEMU
out=$(vmc start $vm 2>&1) || fail "start failed: $out"
st=$(lc_status $vm)
pid2=$(jq -r .pid <<<"$st")
[ "$(jq -r .state <<<"$st")" = running ] || fail "state after start: $st"
[ "$(jq -r .qmp_status <<<"$st")" = running ] || fail "qmp_status after start: $st"
lc_is_qemu "$pid2" || fail "pid $pid2 after start is not QEMU"
[ "$pid2" != "$pid" ] || fail "start reports the old pid"
[ "$(jq -r .ssh_port <<<"$st")" = "$ssh_port" ] ||
	fail "SSH port changed across stop/start: $ssh_port -> $(jq -r .ssh_port <<<"$st")"
[ "$(jq -r .vnc.port <<<"$st")" = "$vnc_port" ] ||
	fail "VNC port changed across stop/start: $vnc_port -> $(jq -r .vnc.port <<<"$st")"
[ "$(jq -r .last_exit.stopped_by <<<"$st")" = powerdown ] ||
	fail "last_exit forgotten after start: $st"
[ "$(vmc vnc $vm --json | jq -r .password)" = "$pw" ] || fail "VNC password changed across start"
lc_assert_vnc_auth "$vnc_port"
lc_port_listens "$ssh_port" || fail "nothing listens on SSH port $ssh_port after start"
if r=$(lc_vnc_login "$vnc_port" "$pw"); then
	[ "$r" = ok ] || fail "VNC refuses the password after start"
fi
say "started again: pid $pid2, ssh $ssh_port, vnc $vnc_port"

out=$(vmc start $vm 2>&1) || fail "start of a running VM failed: $out"
grep -q 'already running' <<<"$out" || fail "start of a running VM: $out"
[ "$(lc_status $vm | jq -r .pid)" = "$pid2" ] || fail "start of a running VM changed its pid"

# The serial log is kept across restarts: both boots are in it.
lc_wait_ready $vm 180 2
grep -q 'vmctl-test-guest: power button, powering off' <<<"$(vmc logs $vm)" ||
	fail "vmctl logs lost the first boot"

# ---- kill
t0=$(lc_ms)
out=$(vmc kill $vm 2>&1) || fail "kill failed: $out"
t1=$(lc_ms)
say "kill took $((t1 - t0)) ms: $out"
st=$(lc_status $vm)
[ "$(jq -r .state <<<"$st")" = stopped ] || fail "state after kill: $st"
[ "$(jq -r .last_exit.stopped_by <<<"$st")" = kill ] || fail "stopped_by after kill: $st"
lc_is_qemu "$pid2" && fail "QEMU $pid2 alive after kill"
lc_assert_no_qemu "after kill"
lc_has_session $vm && fail "tmux session left after kill"
out=$(vmc kill $vm 2>&1) || fail "kill of a stopped VM failed: $out"
grep -q 'not running' <<<"$out" || fail "kill of a stopped VM: $out"

# ---- restart = stop + start, ports kept
vmc start $vm >/dev/null 2>&1 || fail "start after kill failed"
lc_wait_ready $vm 180 3
out=$(vmc restart $vm 2>&1) || fail "restart failed: $out"
grep -q "the guest shut down" <<<"$out" || fail "restart did not stop gracefully: $out"
st=$(lc_status $vm)
[ "$(jq -r .state <<<"$st")" = running ] || fail "state after restart: $st"
[ "$(jq -r .ssh_port <<<"$st")" = "$ssh_port" ] || fail "SSH port changed across restart"
lc_is_qemu "$(jq -r .pid <<<"$st")" || fail "no QEMU after restart"

vmc destroy --force $vm >/dev/null 2>&1 || fail "destroy failed"
lc_assert_no_qemu "after destroy"
say "stop/start/kill/restart ok"
