#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Crash detection: QEMU dying behind vmctl's back is noticed and cleaned up.
#   - kill -9 of QEMU: list says crashed, status has last_exit.signal 9 and
#     a serial_tail; the stale tmux session and qmp.sock are gone after that
#     one command; start works again.
#   - the guest powers off by itself: stopped, stopped_by "guest".
#   - the guest kernel panics (pvpanic, -action panic=exit-failure):
#     crashed with exit status 1, a serial_tail, the panic in the log.
#   - the tmux server is killed: not running any more, start works.
#   - a reused pid: vm.json names a live process with another start time;
#     vmctl neither reports it running nor kills it.
TEST_NAME=lifecycle-crash
. "$(dirname "$0")/lib.sh"
lc_setup crash

# pane_dead NAME: tmux has noticed that the VM's pane died, as it will
# have long before a person runs the next command (how fast vmctl itself
# notices is lifecycle-exit-status.sh's business).
pane_dead() {
	[ "$(tmux -L "$VMCTL_TMUX_SOCKET" list-panes -t "=vmctl-$1:" \
		-F '#{pane_dead}' 2>/dev/null)" = 1 ]
}
wait_dead() {
	wait_for 30 pane_dead "$1" || fail "$2: tmux never saw QEMU of $1 die"
}

# ---- kill -9 behind vmctl's back
vm=victim
vmc create "$(lc_spec $vm)" >/dev/null 2>&1 || fail "create failed"
lc_wait_ready $vm
pid=$(lc_status $vm | jq -r .pid)
lc_is_qemu "$pid" || fail "pid $pid is not QEMU"
[ -S "$(lc_vmdir $vm)/qmp.sock" ] || fail "no qmp.sock while running"
kill -9 "$pid"
wait_dead $vm "kill -9"
lc_has_session $vm || fail "the dead pane's session vanished by itself (remain-on-exit?)"

[ "$(lc_list_field $vm state)" = crashed ] || fail "list after kill -9: $(vmc list --json)"
[ "$(lc_list_field $vm pid)" = null ] || fail "list pid after kill -9 is not null"
lc_has_session $vm && fail "stale tmux session left after list noticed the crash"
[ ! -e "$(lc_vmdir $vm)/qmp.sock" ] || fail "stale qmp.sock left after list noticed the crash"
[ ! -e "$(lc_vmdir $vm)/qemu.pid" ] || fail "stale qemu.pid left after list noticed the crash"
st=$(lc_status $vm)
[ "$(jq -r .state <<<"$st")" = crashed ] || fail "status after kill -9: $st"
[ "$(jq -r .last_exit.signal <<<"$st")" = 9 ] || fail "last_exit.signal after kill -9: $st"
[ "$(jq -r .last_exit.stopped_by <<<"$st")" = null ] || fail "stopped_by after kill -9: $st"
[ "$(jq -r '.serial_tail | length' <<<"$st")" -gt 0 ] || fail "no serial_tail: $st"
jq -e '.serial_tail | map(select(test("^vmctl-test-guest: ready"))) | length > 0' \
	<<<"$st" >/dev/null ||
	fail "serial_tail lacks the guest's last line: $(jq -c .serial_tail <<<"$st")"
out=$(vmc status $vm) || fail "status (text) failed"
grep -q 'state: *crashed' <<<"$out" || fail "status text: $out"
grep -q 'killed by signal 9' <<<"$out" || fail "status text lacks the signal: $out"
# It stays crashed (the record is kept) until started again.
[ "$(lc_list_field $vm state)" = crashed ] || fail "crashed state not kept"
say "kill -9 seen: crashed, signal 9, session and socket cleaned"

vmc start $vm >/dev/null 2>&1 || fail "start after a crash failed"
pid2=$(lc_status $vm | jq -r .pid)
lc_is_qemu "$pid2" || fail "no QEMU after start from crashed"
[ "$(lc_list_field $vm state)" = running ] || fail "not running after start from crashed"
lc_wait_ready $vm 180 2

# ---- the guest powers off by itself (power button pressed through QMP)
lc_qmp_send "$(lc_vmdir $vm)/qmp.sock" system_powerdown || fail "QMP system_powerdown failed"
wait_dead $vm "guest poweroff"
[ "$(lc_list_field $vm state)" = stopped ] || fail "list after guest poweroff: $(vmc list --json)"
st=$(lc_status $vm)
[ "$(jq -r .last_exit.stopped_by <<<"$st")" = guest ] || fail "stopped_by after guest poweroff: $st"
[ "$(jq -r .last_exit.status <<<"$st")" = 0 ] || fail "exit status after guest poweroff: $st"
[ "$(jq -r .serial_tail <<<"$st")" = null ] || fail "serial_tail for a VM that did not crash: $st"
lc_has_session $vm && fail "tmux session left after guest poweroff"
lc_is_qemu "$pid2" && fail "QEMU alive after guest poweroff"
say "guest poweroff seen: stopped by guest"

# ---- the tmux server is killed behind vmctl's back
vmc start $vm >/dev/null 2>&1 || fail "start after guest poweroff failed"
pid3=$(lc_status $vm | jq -r .pid)
tmux -L "$VMCTL_TMUX_SOCKET" kill-server
wait_for 30 eval '! lc_is_qemu "$pid3"' || fail "QEMU survived its tmux server"
state=$(lc_list_field $vm state)
[ "$state" != running ] || fail "list says running after the tmux server died"
vmc start $vm >/dev/null 2>&1 || fail "start after the tmux server died failed"
[ "$(lc_list_field $vm state)" = running ] || fail "not running after start"
vmc kill $vm >/dev/null || fail "kill failed"
say "tmux server killed: $state, start works"

# ---- guest kernel panic, reported through pvpanic
vm=panicky
vmc create "$(lc_spec $vm vmctl.crash=1 \
	'qemu: {extra_args: [-no-reboot, -device, pvpanic, -action, panic=exit-failure]}')" \
	>/dev/null 2>&1 || fail "create of the panicking guest failed"
wait_dead $vm "guest panic"
st=$(lc_status $vm)
[ "$(jq -r .state <<<"$st")" = crashed ] || fail "state after a guest panic: $st"
[ "$(jq -r .last_exit.status <<<"$st")" = 1 ] || fail "exit status after a guest panic: $st"
[ "$(jq -r '.serial_tail | length' <<<"$st")" -gt 0 ] || fail "no serial_tail after a panic: $st"
grep -q 'Kernel panic' <<<"$(vmc logs $vm)" || fail "the panic is not in vmctl logs"
say "guest panic seen: crashed, status 1"
vmc destroy $vm >/dev/null 2>&1 || fail "destroy of the crashed VM failed"
[ ! -e "$(lc_vmdir $vm)" ] || fail "crashed VM's dir left after destroy"

# ---- a reused pid: vm.json names a live process that is not our QEMU
vm=victim
sleep 600 &
other=$!
LC_KILL+=("$other")
real_start=$(sed 's/.*) //' "/proc/$other/stat" | cut -d' ' -f20)
[ -n "$real_start" ] || fail "cannot read the start time of $other"
fake_pid() {
	local f
	f=$(lc_vmdir $vm)/vm.json
	jq --argjson p "$other" --argjson s "$((real_start + 4242))" \
		'.pid = $p | .starttime = $s | .started = now' "$f" > "$f.new" &&
		mv "$f.new" "$f"
}
other_alive() { kill -0 "$other" 2>/dev/null || fail "vmctl killed pid $other ($1)"; }

fake_pid
for cmd in "list --json" "status $vm --json"; do
	out=$(vmc $cmd) || fail "$cmd failed with a reused pid"
	state=$(jq -r 'if type == "array" then .[0].state else .state end' <<<"$out")
	[ "$state" != running ] || fail "$cmd says running for a reused pid: $out"
	other_alive "$cmd"
done
fake_pid
out=$(vmc kill $vm 2>&1) || fail "kill with a reused pid failed: $out"
grep -q 'not running' <<<"$out" || fail "kill with a reused pid: $out"
other_alive kill
fake_pid
out=$(vmc stop $vm --json 2>&1) || fail "stop with a reused pid failed: $out"
[ "$(jq -r .stopped_by <<<"$out")" = not-running ] || fail "stop with a reused pid: $out"
other_alive stop
fake_pid
vmc start $vm >/dev/null 2>&1 || fail "start with a reused pid failed"
other_alive start
pid4=$(lc_status $vm | jq -r .pid)
[ "$pid4" != "$other" ] && lc_is_qemu "$pid4" || fail "start did not start a QEMU"
vmc kill $vm >/dev/null 2>&1 || fail "kill failed"
fake_pid
vmc destroy $vm >/dev/null 2>&1 || fail "destroy with a reused pid failed"
other_alive destroy
[ ! -e "$(lc_vmdir $vm)" ] || fail "VM dir left after destroy"
say "reused pid: never reported running, never killed"

lc_assert_no_qemu "at the end"
