#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# How QEMU ended is recorded exactly, however fast the next command comes:
#   - `vmctl kill`: last_exit.signal 9 (stopped_by kill);
#   - `vmctl stop --timeout 0` (QMP quit): last_exit.status 0;
#   - `vmctl stop` (powerdown): last_exit.status 0;
#   - kill -9 behind vmctl's back, seen by the very next `vmctl list`:
#     crashed with signal 9;
#   - the guest powering off, seen by the very next `vmctl list`: stopped,
#     stopped_by guest (never "crashed").
# Each is repeated, because vmctl reads the exit from tmux, which may not
# have reaped QEMU yet when vmctl sees it gone.
TEST_NAME=lifecycle-exit-status
. "$(dirname "$0")/lib.sh"
lc_setup exitst

: "${LC_ROUNDS:=10}"   # rounds of each kind (guest poweroffs: a quarter + 1)
vm=ex
vmc create "$(lc_spec $vm)" >/dev/null 2>&1 || fail "create failed"
bad=()
exit_of() { lc_status $vm | jq -c '.last_exit | [.stopped_by, .status, .signal]'; }
expect() {   # expect WHAT WANT GOT
	[ "$2" = "$3" ] || bad+=("$1: want $2, got $3")
}

for ((i = 0; i < LC_ROUNDS; i++)); do
	vmc kill $vm >/dev/null || fail "kill failed"
	expect "vmctl kill #$i" '["kill",null,9]' "$(exit_of)"
	vmc start $vm >/dev/null 2>&1 || fail "start failed"
done
for ((i = 0; i < LC_ROUNDS; i++)); do
	vmc stop --timeout 0 $vm >/dev/null || fail "stop --timeout 0 failed"
	expect "vmctl stop --timeout 0 #$i" '["quit",0,null]' "$(exit_of)"
	vmc start $vm >/dev/null 2>&1 || fail "start failed"
done
for ((i = 0; i < LC_ROUNDS; i++)); do
	pid=$(lc_status $vm | jq -r .pid)
	kill -9 "$pid"
	lc_wait_gone "$pid" || fail "QEMU $pid survived kill -9"
	expect "kill -9, next list #$i" crashed "$(lc_list_field $vm state)"
	expect "kill -9, status #$i" '[null,null,9]' "$(exit_of)"
	vmc start $vm >/dev/null 2>&1 || fail "start failed"
done
boots=1
for ((i = 0; i < LC_ROUNDS / 4 + 1; i++)); do
	lc_wait_ready $vm 180 $boots
	vmc stop $vm >/dev/null || fail "stop failed"
	expect "vmctl stop #$i" '["powerdown",0,null]' "$(exit_of)"
	vmc start $vm >/dev/null 2>&1 || fail "start failed"
	boots=$((boots + 1))
	lc_wait_ready $vm 180 $boots
	pid=$(lc_status $vm | jq -r .pid)
	lc_qmp_send "$(lc_vmdir $vm)/qmp.sock" system_powerdown || fail "QMP failed"
	lc_wait_gone "$pid" || fail "QEMU $pid did not power off"
	expect "guest poweroff, next list #$i" stopped "$(lc_list_field $vm state)"
	expect "guest poweroff, status #$i" '["guest",0,null]' "$(exit_of)"
	vmc start $vm >/dev/null 2>&1 || fail "start failed"
	boots=$((boots + 1))
done
vmc destroy --force $vm >/dev/null 2>&1 || fail "destroy failed"
lc_assert_no_qemu "at the end"
if [ ${#bad[@]} -gt 0 ]; then
	printf '  %s\n' "${bad[@]}"
	fail "${#bad[@]} exits recorded wrongly"
fi
say "every exit recorded exactly"
