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
