#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# create → the VM runs and every way of looking at it agrees: list and
# status (--json) say running with the pid of a real QEMU, QMP says
# running, VNC answers RFB 3.8 and asks for a password, the tmux pane and
# `vmctl logs` show the guest console, `vmctl vnc --json` gives the port
# and an 8-character password; destroy then leaves nothing.
TEST_NAME=lifecycle-basic
. "$(dirname "$0")/lib.sh"
lc_setup basic

spec=$(lc_spec basic)
out=$(vmc create "$spec" 2>&1) || fail "create failed: $out"
say "created: $(head -n 2 <<<"$out" | tr '\n' ' ')"
grep -q '^Created VM basic (running, tcg)' <<<"$out" ||
	fail "create did not say 'Created VM basic (running, tcg)': $out"

# list --json and status --json: running, with the pid of our QEMU.
list=$(vmc list --json) || fail "list --json failed"
[ "$(jq 'length' <<<"$list")" = 1 ] || fail "list shows $(jq length <<<"$list") VMs: $list"
[ "$(jq -r '.[0].name' <<<"$list")" = basic ] || fail "list: wrong name: $list"
[ "$(jq -r '.[0].state' <<<"$list")" = running ] || fail "list: not running: $list"
pid=$(jq -r '.[0].pid' <<<"$list")
lc_is_qemu "$pid" || fail "list pid $pid is not a live QEMU process"
grep -qx 'guest=basic,debug-threads=on' <<<"$(tr '\0' '\n' < "/proc/$pid/cmdline")" ||
	fail "pid $pid is a QEMU, but not this VM's"
[ "$(cat "$(lc_vmdir basic)/qemu.pid")" = "$pid" ] || fail "qemu.pid is not $pid"

st=$(lc_status basic)
[ "$(jq -r .state <<<"$st")" = running ] || fail "status: not running: $st"
[ "$(jq -r .pid <<<"$st")" = "$pid" ] || fail "status pid differs from list's $pid: $st"
[ "$(jq -r .qmp_status <<<"$st")" = running ] || fail "status: qmp_status: $st"
[ "$(jq -r .accel <<<"$st")" = tcg ] || fail "status: accel: $st"
[ "$(jq -r .tmux.socket <<<"$st")" = "$VMCTL_TMUX_SOCKET" ] ||
	fail "status: tmux socket is not VMCTL_TMUX_SOCKET: $st"
[ "$(jq -r .tmux.session <<<"$st")" = vmctl-basic ] || fail "status: tmux session: $st"
[ "$(jq -r .last_exit <<<"$st")" = null ] || fail "status: last_exit of a fresh VM: $st"
ssh_port=$(jq -r .ssh_port <<<"$st")
vnc_port=$(jq -r .vnc.port <<<"$st")
[ "$(jq -r .vnc.listen <<<"$st")" = 127.0.0.1 ] || fail "status: vnc.listen: $st"
[ "$(jq -r .vnc.password <<<"$st")" = true ] || fail "status: vnc.password: $st"
grep -Eq "^basic +running +$pid " <<<"$(vmc list)" || fail "text list: $(vmc list)"
say "running: pid $pid, ssh $ssh_port, vnc $vnc_port"

# QMP, asked directly on the VM's socket.
qs=$(qmp "$(lc_vmdir basic)/qmp.sock" query-status) || fail "QMP query-status failed"
[ "$(jq -r .return.status <<<"$qs")" = running ] || fail "QMP status: $qs"

# The SSH forward listens on loopback.
lc_port_listens "$ssh_port" || fail "nothing listens on the SSH port $ssh_port"

# VNC: RFB 3.8, security type 2 (VNC authentication) only, not 1 (None).
lc_assert_vnc_auth "$vnc_port"
say "VNC on $vnc_port: $(lc_rfb "$vnc_port")"

# The guest console: in the tmux pane and in `vmctl logs`.
lc_wait_ready basic
pane_has() {
	grep -q 'vmctl-test-guest' <<<"$(tmux -L "$VMCTL_TMUX_SOCKET" \
		capture-pane -p -t =vmctl-basic: -S -200 2>/dev/null)"
}
wait_for 30 pane_has || fail "tmux pane does not show the guest console: $(
	tmux -L "$VMCTL_TMUX_SOCKET" capture-pane -p -t =vmctl-basic: | tail -n 5)"
logs=$(vmc logs basic) || fail "vmctl logs failed"
grep -q '^vmctl-test-guest: ready' <<<"$logs" || fail "vmctl logs lacks the ready line"
say "console in tmux pane and logs"

# vmctl vnc --json: the port and an 8-character password.
vnc=$(vmc vnc basic --json) || fail "vmctl vnc --json failed"
[ "$(jq -r .port <<<"$vnc")" = "$vnc_port" ] || fail "vnc --json port: $vnc"
pw=$(jq -r .password <<<"$vnc")
[[ $pw =~ ^[A-Za-z0-9]{8}$ ]] || fail "vnc --json password '$pw' is not 8 characters"
[ "$(jq -r .running <<<"$vnc")" = true ] || fail "vnc --json running: $vnc"
[ "$(jq -r .endpoint <<<"$vnc")" = "127.0.0.1:$vnc_port" ] || fail "vnc --json endpoint: $vnc"
[ "$pw" = "$(cat "$(lc_vmdir basic)/vnc-password")" ] || fail "vnc --json password is not the VM's"
# ... and it is the password QEMU asks for (when openssl can do DES).
if r=$(lc_vnc_login "$vnc_port" "$pw"); then
	[ "$r" = ok ] || fail "VNC refused the password vmctl vnc printed"
	r=$(lc_vnc_login "$vnc_port" "${pw:1}x") || fail "VNC login failed"
	[ "$r" = refused ] || fail "VNC accepted a wrong password"
	say "VNC accepts the password and refuses a wrong one"
elif [ $? = 2 ]; then
	say "openssl cannot do DES here: VNC login not tried"
else
	fail "VNC login with the password failed"
fi

# destroy leaves nothing: no VM dir, no QEMU, no tmux server.
out=$(vmc destroy basic 2>&1) || fail "destroy failed: $out"
[ ! -e "$(lc_vmdir basic)" ] || fail "VM dir left after destroy: $(ls -A "$(lc_vmdir basic)")"
lc_is_qemu "$pid" && fail "QEMU $pid still running after destroy"
lc_assert_no_qemu "after destroy"
lc_server_gone || fail "tmux server still up after the last VM was destroyed: $(
	tmux -L "$VMCTL_TMUX_SOCKET" ls 2>&1)"
[ "$(vmc list --json | jq length)" = 0 ] || fail "list not empty after destroy"
vmc status basic >/dev/null 2>&1 && fail "status of a destroyed VM succeeded"
say "destroyed, nothing left"
