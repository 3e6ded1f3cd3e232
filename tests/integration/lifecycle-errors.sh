#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Failures leave nothing behind and say why, in QEMU's own words where
# QEMU is the one that failed:
#   - a device QEMU does not know ("is not a valid device model name");
#   - missing firmware, which QEMU reports as "qemu: could not load PC
#     BIOS" (not "qemu-system-x86_64: ...");
#   - a fixed ssh_port already in use ("Could not set up host forwarding
#     rule"), and a fixed VNC display already in use;
#   - a kernel file that is missing, an invalid spec;
#   - QEMU's launcher waits at the gate while create makes the VM's files,
#     and QEMU never starts when making them fails;
#   - create of a name that exists: exit 1, the existing VM untouched;
#   - commands on a VM that does not exist, or an invalid name.
TEST_NAME=lifecycle-errors
. "$(dirname "$0")/lib.sh"
lc_setup errors

# nothing_left NAME WHAT: no trace of VM NAME.
nothing_left() {
	[ ! -e "$(lc_vmdir "$1")" ] || fail "$2: VM dir left: $(ls -A "$(lc_vmdir "$1")")"
	lc_has_session "$1" && fail "$2: tmux session left"
	[ -z "$(lc_list_field "$1" name)" ] || fail "$2: list shows $1"
	lc_assert_no_qemu "$2" "$1"
}

# create_fails WHAT WANT-EXIT WANT-TEXT SPEC...: vmctl create fails so.
create_fails() {
	local what=$1 want_rc=$2 want=$3 out rc
	shift 3
	out=$(vmc create "$@" 2>&1) && fail "$what: create succeeded"
	rc=$?
	say "$what: exit $rc: $(grep -v '^Creating' <<<"$out" | head -n 3)"
	[ "$rc" = "$want_rc" ] || fail "$what: exit $rc, not $want_rc: $out"
	grep -qF -- "$want" <<<"$out" || fail "$what: message lacks '$want': $out"
}

# ---- QEMU refuses a device; nothing else runs, so no tmux server either
create_fails "unknown device" 1 "is not a valid device model name" \
	"$(lc_spec baddev "" 'qemu: {extra_args: [-device, nonexistent-dev]}')"
nothing_left baddev "unknown device"
lc_server_gone || fail "tmux server left after a failed create: $(tmux -L "$VMCTL_TMUX_SOCKET" ls 2>&1)"

# ---- QEMU's words whatever their prefix: "qemu: could not load PC BIOS"
create_fails "missing firmware" 1 "could not load PC BIOS '/nonexistent-bios.bin'" \
	"$(lc_spec nobios "" 'qemu: {extra_args: [-bios, /nonexistent-bios.bin]}')"
nothing_left nobios "missing firmware"

# ---- a fixed ssh_port that is in use
python3 -c '
import os, socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
print(s.getsockname()[1], flush=True)
os.close(1)
time.sleep(600)' > "$LC_TMP/busy-port" &
LC_KILL+=("$!")
wait_for 10 test -s "$LC_TMP/busy-port" || fail "no busy port"
busy=$(cat "$LC_TMP/busy-port")
sed "s/ssh_port: auto/ssh_port: $busy/" "$(lc_spec sshbusy)" > "$LC_TMP/sshbusy2.yaml"
create_fails "ssh_port $busy in use" 1 "Could not set up host forwarding rule" \
	"$LC_TMP/sshbusy2.yaml"
nothing_left sshbusy "ssh_port in use"

# ---- a fixed VNC display that is in use
vmc create "$(lc_spec holder)" >/dev/null 2>&1 || fail "create holder failed"
holder_pid=$(lc_status holder | jq -r .pid)
display=$(lc_status holder | jq -r .vnc.display)
sed "s/^vnc: .*/vnc: {listen: 127.0.0.1, display: $display}/" "$(lc_spec vncbusy)" \
	> "$LC_TMP/vncbusy2.yaml"
create_fails "VNC display $display in use" 1 "Failed to find an available port" \
	"$LC_TMP/vncbusy2.yaml"
nothing_left vncbusy "VNC display in use"
lc_is_qemu "$holder_pid" || fail "the failed create hurt the VM holding the display"

# ---- a missing kernel, an invalid spec: refused before anything is made
sed "s|image: .*vmlinuz|image: $LC_TMP/no-such-vmlinuz|" "$(lc_spec nokernel)" \
	> "$LC_TMP/nokernel2.yaml"
create_fails "missing kernel" 66 "no-such-vmlinuz" "$LC_TMP/nokernel2.yaml"
nothing_left nokernel "missing kernel"
printf 'name: invalid\nmemroy: 1G\n' > "$LC_TMP/invalid.yaml"
create_fails "invalid spec" 65 "memroy" "$LC_TMP/invalid.yaml"
nothing_left invalid "invalid spec"

# ---- the gate: tmux and QEMU's launcher start while create still makes
# the VM's files; QEMU starts only once they are all made, and not at all
# when making them fails.  user_data is a FIFO, so the files wait on it;
# QEMU is a wrapper that notes that it ran.
cat > "$LC_TMP/qemu-noted" <<SH
#!/bin/sh
touch "$LC_TMP/qemu-ran.\$PPID"
exec qemu-system-x86_64 "\$@"
SH
chmod +x "$LC_TMP/qemu-noted"
# gated NAME: create NAME in the background (its output in NAME.out);
# returns once its launcher waits at the gate, QEMU not started.
gated() {
	local name=$1 pane
	rm -f "$LC_TMP/$name.fifo" "$LC_TMP"/qemu-ran.*
	mkfifo "$LC_TMP/$name.fifo"
	vmc create "$(lc_spec "$name" "" "qemu: {binary: $LC_TMP/qemu-noted}
cloud_init: {user_data: $LC_TMP/$name.fifo}")" > "$LC_TMP/$name.out" 2>&1 &
	GATED_PID=$!
	wait_for 30 lc_has_session "$name" || fail "$name: no session while its files wait"
	pane=$(tmux -L "$VMCTL_TMUX_SOCKET" list-panes -t "=vmctl-$name:" -F '#{pane_pid}')
	wait_for 10 grep -aqF gate.sock "/proc/$pane/cmdline" ||
		fail "$name: the pane runs $(tr '\0' ' ' < "/proc/$pane/cmdline")"
	sleep 0.5
	[ -z "$(ls "$LC_TMP" | grep '^qemu-ran\.')" ] ||
		fail "$name: QEMU started before the VM's files were made"
	grep -aqF -- __run-qemu "/proc/$pane/cmdline" ||
		fail "$name: the pane is not the launcher at the gate"
}
gated gatego
printf '#cloud-config\n' > "$LC_TMP/gatego.fifo"
wait "$GATED_PID" || fail "gated create failed: $(cat "$LC_TMP/gatego.out")"
[ "$(lc_status gatego | jq -r .state)" = running ] || fail "gatego not running"
[ -n "$(ls "$LC_TMP" | grep '^qemu-ran\.')" ] || fail "gatego: QEMU never ran through the wrapper"
vmc destroy --force gatego >/dev/null || fail "destroy gatego"
say "gate: the launcher waits for the VM's files, then QEMU starts"
gated gatefail
# create stops reading past 1 MiB: head ends on SIGPIPE
head -c 2M /dev/zero > "$LC_TMP/gatefail.fifo" || true
wait "$GATED_PID" && fail "create succeeded with 2 MiB of user_data"
grep -qF "larger than 1 MiB" "$LC_TMP/gatefail.out" || fail "gatefail: $(cat "$LC_TMP/gatefail.out")"
[ -z "$(ls "$LC_TMP" | grep '^qemu-ran\.')" ] || fail "gatefail: QEMU started although its files failed"
nothing_left gatefail "files failing behind the gate"
say "gate: files failing behind it: $(tail -n 1 "$LC_TMP/gatefail.out"); no QEMU ever ran"

# ---- create of an existing name: exit 1, the VM untouched
vm=holder
dir=$(lc_vmdir $vm)
before=$(cd "$dir" && sha256sum spec.json vm.json vnc-password)
create_fails "existing name" 1 "already exists" "$(lc_spec $vm)"
create_fails "existing name via --name" 1 "already exists" \
	--name $vm "$(lc_spec other)"
nothing_left other "existing name via --name"
after=$(cd "$dir" && sha256sum spec.json vm.json vnc-password)
[ "$before" = "$after" ] || fail "create of an existing name changed its files"
st=$(lc_status $vm)
[ "$(jq -r .state <<<"$st")" = running ] || fail "existing VM not running any more: $st"
[ "$(jq -r .pid <<<"$st")" = "$holder_pid" ] || fail "existing VM has a new pid: $st"
lc_is_qemu "$holder_pid" || fail "existing VM's QEMU is gone"
[ "$(jq -r .qmp_status <<<"$st")" = running ] || fail "existing VM's QMP: $st"
say "create of an existing name: refused, VM untouched"

# ---- no such VM, invalid names
for cmd in start stop kill status vnc logs destroy; do
	out=$(vmc $cmd nosuch 2>&1) && fail "$cmd of a missing VM succeeded"
	rc=$?
	[ "$rc" = 1 ] || fail "$cmd of a missing VM: exit $rc, not 1: $out"
	grep -q 'no VM named "nosuch"' <<<"$out" || fail "$cmd of a missing VM: $out"
done

vmc destroy --force holder >/dev/null 2>&1 || fail "destroy failed"
lc_assert_no_qemu "at the end"
lc_server_gone || fail "tmux server left at the end"

# ---- an invalid VM name is a usage error (64) for every command
mkdir -p "$VMCTL_STATE_DIR/vms/real"
bad=()
for cmd in start stop kill status vnc logs destroy; do
	for name in ../vms/real ..; do
		out=$(vmc $cmd "$name" 2>&1) && { bad+=("$cmd $name: succeeded"); continue; }
		rc=$?
		[ "$rc" = 64 ] || bad+=("$cmd $name: exit $rc, not 64: $out")
	done
done
rmdir "$VMCTL_STATE_DIR/vms/real"
if [ ${#bad[@]} -gt 0 ]; then
	printf '  %s\n' "${bad[@]}"
	fail "invalid VM names not refused as usage errors"
fi
