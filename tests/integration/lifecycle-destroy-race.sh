#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# create and destroy while other vmctl commands look at the VM: two loops
# of `vmctl list` run throughout 30 create --no-start / destroy pairs.
# list opens each VM's lock file (O_CREAT), so it could recreate the lock
# in a directory destroy was emptying: destroy then failed ("Directory not
# empty", about one in five) and left a phantom VM holding only its lock
# (found by soak.sh); and it could take the lock of a VM directory a
# create had just made before the create did ("busy").  A VM directory now
# appears locked and marked, and goes by one rename: every create and
# destroy must succeed and leave nothing.
TEST_NAME=lifecycle-destroy-race
. "$(dirname "$0")/lib.sh"
lc_setup destroy-race
spec=$(lc_spec racer)

lister() {
	while [ ! -e "$LC_TMP/stop" ]; do
		"$VMCTL" list --json >/dev/null 2>&1 || true
	done
}
lister & lister &

failed=()
for i in $(seq 30); do
	"$VMCTL" create "$spec" --name "racer$i" \
		--no-start >/dev/null 2>"$LC_TMP/err" ||
		fail "create racer$i: $(cat "$LC_TMP/err")"
	vmc destroy "racer$i" >/dev/null 2>"$LC_TMP/err" ||
		failed+=("racer$i: $(cat "$LC_TMP/err")")
done
touch "$LC_TMP/stop"
wait
[ ${#failed[@]} = 0 ] || fail "${#failed[@]} of 30 destroys failed: ${failed[*]}"
[ -z "$(ls -A "$VMCTL_STATE_DIR/vms")" ] ||
	fail "left behind: $(ls -A "$VMCTL_STATE_DIR/vms")"
say "30 destroys under concurrent lists: all succeeded, nothing left"
