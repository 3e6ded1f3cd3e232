#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# stop falls back to QMP quit when the guest ignores the power button
# (kernel cmdline vmctl.ignore_powerbutton=1): `stop --timeout 3` waits
# about 3 s, then says QEMU quit (json: stopped_by "quit"); --timeout 0
# skips the power button altogether.
TEST_NAME=lifecycle-quit
. "$(dirname "$0")/lib.sh"
lc_setup quit

vm=deaf
vmc create "$(lc_spec $vm vmctl.ignore_powerbutton=1)" >/dev/null 2>&1 ||
	fail "create failed"
pid=$(lc_status $vm | jq -r .pid)
lc_wait_ready $vm
grep -q 'ignoring the power button' "$(lc_vmdir $vm)/serial.log" ||
	fail "the guest did not take vmctl.ignore_powerbutton=1"

t0=$(lc_ms)
out=$(vmc stop --timeout 3 $vm --json) || fail "stop --timeout 3 failed: $out"
t1=$(lc_ms)
say "stop --timeout 3 took $((t1 - t0)) ms: $(jq -c . <<<"$out")"
[ "$(jq -r .stopped_by <<<"$out")" = quit ] || fail "stop --json: $out"
[ $((t1 - t0)) -ge 2900 ] || fail "stop gave up on the guest after $((t1 - t0)) ms, not 3 s"
[ $((t1 - t0)) -lt 20000 ] || fail "stop --timeout 3 took $((t1 - t0)) ms"
st=$(lc_status $vm)
[ "$(jq -r .state <<<"$st")" = stopped ] || fail "state after quit: $st"
[ "$(jq -r .last_exit.stopped_by <<<"$st")" = quit ] || fail "stopped_by after quit: $st"
lc_is_qemu "$pid" && fail "QEMU $pid alive after quit"
lc_assert_no_qemu "after quit"
lc_has_session $vm && fail "tmux session left after quit"

# Text output says QEMU quit.
vmc start $vm >/dev/null 2>&1 || fail "start failed"
lc_wait_ready $vm 180 2
out=$(vmc stop -t 3 $vm 2>&1) || fail "stop -t 3 failed: $out"
grep -q 'QEMU quit' <<<"$out" || fail "stop did not say QEMU quit: $out"
lc_assert_no_qemu "after the second quit"

# --timeout 0: straight to quit, no waiting for the guest.
vmc start $vm >/dev/null 2>&1 || fail "start failed"
t0=$(lc_ms)
out=$(vmc stop --timeout 0 $vm --json) || fail "stop --timeout 0 failed: $out"
t1=$(lc_ms)
say "stop --timeout 0 took $((t1 - t0)) ms"
[ "$(jq -r .stopped_by <<<"$out")" = quit ] || fail "stop --timeout 0: $out"
[ $((t1 - t0)) -lt 2500 ] || fail "stop --timeout 0 took $((t1 - t0)) ms"
lc_assert_no_qemu "after stop --timeout 0"

vmc destroy $vm >/dev/null 2>&1 || fail "destroy failed"
lc_server_gone || fail "tmux server left after destroy"
