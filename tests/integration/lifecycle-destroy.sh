#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# destroy leaves nothing: no VM dir, no QEMU, no tmux session, and once
# the last VM is gone no tmux server on vmctl's socket.  Covers a running
# VM (graceful, and --force without waiting for the guest), a stopped one,
# one created with --no-start, a crashed one nobody looked at, and a VM
# that does not exist.
TEST_NAME=lifecycle-destroy
. "$(dirname "$0")/lib.sh"
lc_setup destroy

gone() {   # gone NAME PID WHAT
	[ ! -e "$(lc_vmdir "$1")" ] || fail "$3: VM dir of $1 left: $(ls -A "$(lc_vmdir "$1")")"
	[ -z "$2" ] || ! lc_is_qemu "$2" || fail "$3: QEMU $2 of $1 still running"
	lc_has_session "$1" && fail "$3: tmux session of $1 left"
	[ -z "$(lc_list_field "$1" name)" ] || fail "$3: list still shows $1"
	return 0
}

vmc create "$(lc_spec keep)" >/dev/null 2>&1 || fail "create keep failed"
vmc create "$(lc_spec doomed)" >/dev/null 2>&1 || fail "create doomed failed"
keep_pid=$(lc_status keep | jq -r .pid)
pid=$(lc_status doomed | jq -r .pid)
lc_wait_ready doomed

# ---- a running VM, graceful: the other VM and the tmux server stay
out=$(vmc destroy doomed 2>&1) || fail "destroy failed: $out"
grep -q 'Destroyed VM doomed' <<<"$out" || fail "destroy said: $out"
gone doomed "$pid" "destroy"
lc_is_qemu "$keep_pid" || fail "destroying doomed killed keep's QEMU"
[ "$(lc_list_field keep state)" = running ] || fail "keep is not running any more"
sessions=$(tmux -L "$VMCTL_TMUX_SOCKET" ls -F '#{session_name}' 2>&1) ||
	fail "tmux server gone while keep still runs"
[ "$sessions" = vmctl-keep ] || fail "tmux sessions after destroying doomed: $sessions"
say "graceful destroy: doomed gone, keep untouched"

# ---- a stopped VM, and one that never started
vmc create "$(lc_spec stopped)" >/dev/null 2>&1 || fail "create stopped failed"
pid=$(lc_status stopped | jq -r .pid)
vmc kill stopped >/dev/null || fail "kill failed"
vmc destroy stopped >/dev/null 2>&1 || fail "destroy of a stopped VM failed"
gone stopped "$pid" "destroy of a stopped VM"
vmc create --no-start "$(lc_spec idle)" >/dev/null 2>&1 || fail "create --no-start failed"
[ "$(lc_list_field idle state)" = stopped ] || fail "a --no-start VM is not stopped"
lc_has_session idle && fail "create --no-start made a tmux session"
vmc destroy idle >/dev/null 2>&1 || fail "destroy of a never-started VM failed"
gone idle "" "destroy of a never-started VM"

# ---- a crashed VM nobody has looked at since
vmc create "$(lc_spec crashed)" >/dev/null 2>&1 || fail "create crashed failed"
pid=$(lc_status crashed | jq -r .pid)
kill -9 "$pid"
lc_wait_gone "$pid" || fail "QEMU survived kill -9"
vmc destroy crashed >/dev/null 2>&1 || fail "destroy of a crashed VM failed"
gone crashed "$pid" "destroy of a crashed VM"

# ---- --force on a running VM, the last one: the tmux server goes too
t0=$(lc_ms)
out=$(vmc destroy --force keep 2>&1) || fail "destroy --force failed: $out"
t1=$(lc_ms)
say "destroy --force of a running VM took $((t1 - t0)) ms"
[ $((t1 - t0)) -lt 10000 ] || fail "destroy --force waited $((t1 - t0)) ms"
gone keep "$keep_pid" "destroy --force"
lc_assert_no_qemu "after the last destroy"
lc_server_gone || fail "tmux server still up after the last VM was destroyed: $(
	tmux -L "$VMCTL_TMUX_SOCKET" ls 2>&1)"
[ -z "$(ls -A "$VMCTL_STATE_DIR/vms")" ] || fail "left in vms/: $(ls -A "$VMCTL_STATE_DIR/vms")"

# ---- no such VM
out=$(vmc destroy nosuch 2>&1) && fail "destroy of a missing VM succeeded"
rc=$?
[ "$rc" = 1 ] || fail "destroy of a missing VM: exit $rc, not 1"
grep -q 'no VM named "nosuch"' <<<"$out" || fail "destroy of a missing VM said: $out"
say "destroy leaves nothing"
