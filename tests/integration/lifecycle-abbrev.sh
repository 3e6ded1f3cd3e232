#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Commands that delete or kill take no abbreviation: a running VM survives
# `vmctl des NAME`, `vmctl kil NAME` and every other prefix of destroy and
# kill (exit 64, an error naming the command to type), its QEMU the same
# process, its directory whole.  Spelled out, kill and destroy work, and
# other commands still take a unique prefix.
TEST_NAME=lifecycle-abbrev
. "$(dirname "$0")/lib.sh"
lc_setup abbrev

vm=keep
vmc create "$(lc_spec $vm)" >/dev/null 2>&1 || fail "create failed"
pid=$(lc_status $vm | jq -r .pid)
lc_is_qemu "$pid" || fail "no QEMU after create"
dir=$(lc_vmdir $vm)
files=$(ls "$dir")

for cmd in d de des dest destr destro k ki kil "--json des" "des --force"; do
	full=destroy
	case $cmd in k*) full=kill ;; esac
	rc=0
	# shellcheck disable=SC2086  # the words are split on purpose
	"$VMCTL" $cmd $vm > "$LC_TMP/out" 2> "$LC_TMP/err" || rc=$?
	[ "$rc" = 64 ] || fail "vmctl $cmd $vm: exit $rc, not 64: $(cat "$LC_TMP/err")"
	grep -q "type $full in full" "$LC_TMP/err" ||
		fail "vmctl $cmd $vm: the error does not name $full: $(cat "$LC_TMP/err")"
	[ ! -s "$LC_TMP/out" ] || fail "vmctl $cmd $vm printed: $(cat "$LC_TMP/out")"
	lc_is_qemu "$pid" || fail "vmctl $cmd $vm: QEMU $pid is gone"
	[ "$(ls "$dir" 2>/dev/null)" = "$files" ] ||
		fail "vmctl $cmd $vm: the VM's directory changed"
	[ "$(lc_list_field $vm state)" = running ] ||
		fail "vmctl $cmd $vm: not running any more"
done
say "every prefix of destroy and kill refused; the VM runs on"

# Other commands still take a unique prefix.
[ "$("$VMCTL" stat $vm --json | jq -r .pid)" = "$pid" ] ||
	fail "\"stat\" (status) no longer works"

vmc kill $vm >/dev/null 2>&1 || fail "kill failed"
lc_assert_no_qemu "kill" $vm
vmc destroy $vm >/dev/null 2>&1 || fail "destroy failed"
[ ! -e "$dir" ] || fail "destroy left $dir"
say "PASS"
