#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# vmctl@.service and vmctl enable/disable, against a temporary systemd
# root (VMCTL_SYSTEMD_ROOT): the unit as `make install-unit` writes it
# passes `systemd-analyze verify`; `vmctl enable` makes the link
# `systemctl --root enable` makes (and systemctl calls it enabled), plus a
# drop-in naming the VM's state dir; `list` (--json too) shows it; the
# unit's own ExecStart and ExecStop lines (read from the file, %i
# replaced, run with only the drop-in's environment) start a real busybox
# guest and shut it down; disable removes both, and so does destroy (but
# not a unit enabled for another state dir's VM of that name).
TEST_NAME=systemd-unit
. "$(dirname "$0")/lib.sh"
need make systemctl systemd-analyze
lc_setup sysunit

vm=sysu
SR=$LC_TMP/root
export VMCTL_SYSTEMD_ROOT=$SR
unitdir=/usr/lib/systemd/system
bindir=$(cd "$(dirname "$VMCTL")" && pwd -P)
[ "$bindir/vmctl" -ef "$VMCTL" ] ||
	skip "VMCTL ($VMCTL) is not named vmctl: the unit runs BINDIR/vmctl"
make -s -C "$ROOT" install-unit DESTDIR="$SR" BINDIR="$bindir" \
	SYSTEMDUNITDIR=$unitdir || fail "make install-unit failed"
unit=$SR$unitdir/vmctl@.service
[ -s "$unit" ] || fail "make install-unit wrote no $unit"

# systemd's own check: no warning at all (a bad line is only "ignored").
out=$(cd "$SR$unitdir" && systemd-analyze verify --man=no "./vmctl@$vm.service" 2>&1) ||
	fail "systemd-analyze verify failed: $out"
[ -z "$out" ] || fail "systemd-analyze verify warned: $out"
say "systemd-analyze verify: clean"

# enable: refused for a VM that does not exist, nothing written.
rc=0
vmc enable nosuchvm >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "enable of a missing VM: exit $rc, not 1"
[ ! -e "$SR/etc/systemd/system/multi-user.target.wants" ] ||
	fail "enable of a missing VM wrote links"

vmc create --no-start "$(lc_spec $vm)" >/dev/null 2>&1 || fail "create failed"
[ "$(lc_list_field $vm enabled)" = false ] || fail "a new VM is enabled"
out=$(vmc enable $vm) || fail "enable failed: $out"
say "$out"
link=$SR/etc/systemd/system/multi-user.target.wants/vmctl@$vm.service
[ -L "$link" ] || fail "enable made no link $link"
[ "$(readlink "$link")" = "$unitdir/vmctl@.service" ] ||
	fail "the link points at $(readlink "$link")"
st=$(systemctl --root="$SR" is-enabled "vmctl@$vm.service" 2>&1) || true
[ "$st" = enabled ] || fail "systemctl is-enabled says: $st"
[ "$(lc_list_field $vm enabled)" = true ] || fail "list --json: not enabled"
grep -Eq "^$vm +stopped .* yes\$" <<<"$(vmc list)" || fail "text list: $(vmc list)"
out=$(vmc enable $vm --json) || fail "a second enable failed"
[ "$(jq -r .changed <<<"$out")" = false ] || fail "a second enable changed: $out"

# The same link as systemctl's own offline enable.
SR2=$LC_TMP/root2
make -s -C "$ROOT" install-unit DESTDIR="$SR2" BINDIR="$bindir" \
	SYSTEMDUNITDIR=$unitdir || fail "make install-unit (2) failed"
systemctl --root="$SR2" enable "vmctl@$vm.service" >/dev/null 2>&1 ||
	fail "systemctl --root enable failed"
links() { (cd "$1" && find etc -type l -printf '%p -> %l\n' | sort); }
[ "$(links "$SR")" = "$(links "$SR2")" ] ||
	fail "vmctl's links differ from systemctl's: $(links "$SR") / $(links "$SR2")"

# The drop-in: where the VM lives, as systemd reads it.
dropin=$SR/etc/systemd/system/vmctl@$vm.service.d/vmctl.conf
[ -s "$dropin" ] || fail "no drop-in for a VM outside /var/lib/vmctl"
envs=()
while IFS= read -r line; do
	case $line in Environment=*) ;; *) continue ;; esac
	v=${line#Environment=}
	[[ $v == \"*\" ]] || fail "unquoted Environment line: $line"
	v=${v:1:${#v}-2}
	v=${v//%%/%}; v=${v//\\\"/\"}; v=${v//\\\\/\\}
	envs+=("$v")
done < "$dropin"
grep -qx "VMCTL_STATE_DIR=$VMCTL_STATE_DIR" <<<"$(printf '%s\n' "${envs[@]}")" ||
	fail "the drop-in does not name the state dir: $(cat "$dropin")"

# exec_line KEY: the unit's KEY= command line, %i replaced, as words.
exec_line() {
	local l
	l=$(grep "^$1=" "$unit") || fail "the unit has no $1="
	[ "$(wc -l <<<"$l")" = 1 ] || fail "the unit has several $1= lines"
	l=${l#*=}
	case $l in *[\"\'\$\;\\]*) fail "$1= needs a shell's quoting: $l" ;; esac
	l=${l//%i/$vm}
	case $l in *%*) fail "$1= holds another specifier: $l" ;; esac
	printf '%s\n' "$l"
}
run_unit_line() {
	local words
	read -r -a words <<<"$(exec_line "$1")"
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "${envs[@]}" "${words[@]}"
}

t0=$(lc_ms)
out=$(run_unit_line ExecStart 2>&1) || fail "ExecStart failed: $out"
say "ExecStart ($(exec_line ExecStart)): $out in $(( $(lc_ms) - t0 )) ms"
[ "$(lc_list_field $vm state)" = running ] || fail "not running after ExecStart"
pid=$(lc_list_field $vm pid)
lc_is_qemu "$pid" || fail "list pid $pid is not a live QEMU"
lc_has_session $vm || fail "no tmux session on the test's socket"
lc_wait_ready $vm
out=$(run_unit_line ExecStart 2>&1) || fail "a second ExecStart failed: $out"
[ "$(lc_list_field $vm pid)" = "$pid" ] || fail "a second ExecStart replaced QEMU"

t0=$(lc_ms)
out=$(run_unit_line ExecStop 2>&1) || fail "ExecStop failed: $out"
say "ExecStop: $out in $(( $(lc_ms) - t0 )) ms"
grep -q 'ACPI power button' <<<"$out" || fail "ExecStop did not shut the guest down by ACPI: $out"
[ "$(lc_list_field $vm state)" = stopped ] || fail "not stopped after ExecStop"
lc_assert_no_qemu "ExecStop" $vm
out=$(run_unit_line ExecStop 2>&1) || fail "ExecStop of a stopped VM failed: $out"

# disable: the link and the drop-in go, systemctl agrees.
vmc disable $vm >/dev/null || fail "disable failed"
if [ -e "$link" ] || [ -L "$link" ]; then fail "disable left $link"; fi
[ ! -e "${dropin%/*}" ] || fail "disable left ${dropin%/*}"
st=$(systemctl --root="$SR" is-enabled "vmctl@$vm.service" 2>&1) || true
[ "$st" = disabled ] || fail "systemctl is-enabled after disable: $st"
[ "$(lc_list_field $vm enabled)" = false ] || fail "list --json: still enabled"
out=$(vmc disable $vm --json) || fail "a second disable failed"
[ "$(jq -r .changed <<<"$out")" = false ] || fail "a second disable changed: $out"

# Without the unit installed: 69, nothing written.
mv "$unit" "$unit.off"
rc=0
vmc enable $vm >/dev/null 2>&1 || rc=$?
[ "$rc" = 69 ] || fail "enable without the unit: exit $rc, not 69"
if [ -e "$link" ] || [ -e "${dropin%/*}" ]; then fail "enable without the unit wrote"; fi
mv "$unit.off" "$unit"

# destroy: a unit enabled for another state dir's VM of that name stays;
# this VM's own goes with it.
vmc enable $vm >/dev/null || fail "enable (again) failed"
cp "$dropin" "$LC_TMP/dropin.ours"
sed -i "s|VMCTL_STATE_DIR=.*|VMCTL_STATE_DIR=/elsewhere\"|" "$dropin"
out=$(vmc destroy $vm 2>&1) || fail "destroy failed: $out"
grep -q Disabled <<<"$out" && fail "destroy disabled another state dir's unit: $out"
[ -L "$link" ] || fail "destroy removed another state dir's unit"
cp "$LC_TMP/dropin.ours" "$dropin"
vmc create --no-start "$(lc_spec $vm)" >/dev/null 2>&1 || fail "re-create failed"
out=$(vmc destroy $vm 2>&1) || fail "destroy failed: $out"
grep -qx "Disabled vmctl@$vm.service" <<<"$out" || fail "destroy did not say it disabled: $out"
if [ -e "$link" ] || [ -L "$link" ] || [ -e "${dropin%/*}" ]; then
	fail "destroy left the unit enabled"
fi
say "PASS"
