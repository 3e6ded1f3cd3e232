#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The direct backend's lifecycle under ASan+UBSan and LeakSanitizer: the
# build/asan/vmctl that `make SANITIZE=1` makes (CI builds it before
# `make test`) creates, stops, starts, kills and destroys a busybox guest
# (VNC with its password set over QMP), and every command
# must exit 0 with no sanitizer report.  The unit and golden suites run
# under ASan too, but they never start a QEMU: this is the path that
# talks to tmux and QMP.  Skipped when there is no sanitizer build.
TEST_NAME=lifecycle-asan
. "$(dirname "$0")/lib.sh"
ASAN_VMCTL=${ASAN_VMCTL:-$ROOT/build/asan/vmctl}
[ -x "$ASAN_VMCTL" ] || skip "no $ASAN_VMCTL (make SANITIZE=1 builds it)"
lc_setup asan
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
vm=asanvm
spec=$(lc_spec $vm)

# san WHAT ARGS...: one command of the sanitizer build, clean.
san() {
	local what=$1 rc=0
	shift
	"$ASAN_VMCTL" "$@" >"$LC_TMP/out" 2>&1 || rc=$?
	if grep -qE 'Sanitizer|runtime error:' "$LC_TMP/out"; then
		grep -E 'ERROR|SUMMARY|runtime error|^    #[0-9]+ .* src/' "$LC_TMP/out" | head -n 30 >&2
		fail "$what: a sanitizer report"
	fi
	[ "$rc" -eq 0 ] || { tail -n 5 "$LC_TMP/out" >&2; fail "$what: exit $rc"; }
}
san create create "$spec"
lc_is_qemu "$(lc_qemu_pids $vm)" || fail "create: no QEMU"
san "status --json" status $vm --json
san "vnc --json" vnc $vm --json
san stop stop $vm --timeout 5
san start start $vm
san kill kill $vm
san destroy destroy $vm --force
lc_assert_no_qemu
say "ok: create, status, vnc, stop, start, kill, destroy clean under ASan+UBSan+LSan"
