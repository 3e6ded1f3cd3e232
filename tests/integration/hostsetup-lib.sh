# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Shared by the fake-root tests of `vmctl host-setup` (sourced, not run):
# tests/integration/hostsetup-<flavour>.sh.
#
# Each test works in one temporary directory, removed on exit:
#   $HS_TMP/host       a fake host (sys, proc, dev) from
#                      tests/hostsetup/hosts/HOST.json by scripts/gen-sysfs.py
#   $HS_TMP/bin        the regeneration programs and chroot, all links to
#                      tests/hostsetup/bin/standin, first on vmctl's PATH
#   $HS_TMP/pristine   tests/hostsetup/FLAVOUR/root, and after/ its golden
#                      result (plus the empty directories listed in
#                      tests/hostsetup/FLAVOUR/dirs, which git cannot hold;
#                      a case may borrow another's root)
#   $HS_ROOT, $HS_STATE, $HS_LOG   the root vmctl changes, its state dir, the
#                      commands it ran (one shell-quoted line each)
# Golden files (tests/hostsetup/FLAVOUR/*.ok) hold @ROOT@ for $HS_ROOT.
# GOLDEN_UPDATE=1 rewrites them, and after/, from what vmctl does now:
# read every line of `git diff tests/hostsetup` before committing that.
#
# Nothing here touches the machine's own /sys, /proc, /dev or /etc: vmctl
# gets --sysfs-root, VMCTL_PROC_ROOT, VMCTL_DEV_ROOT and --root, and the
# stand-ins refuse to run outside `chroot ROOT`.

. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
# Checks report and go on (hs_fail), so a failing one must not end the
# test: no errexit here.  hs_done gives the verdict.
set +e

HS_DATA=$ROOT/tests/hostsetup
HS_PROGRAMS="chroot update-grub grub-mkconfig grub2-mkconfig update-initramfs dracut mkinitcpio grubby kernelstub kernel-install grub-editenv bootctl"
HS_FAILED=0
HS_STEPS=()
declare -A HS_PRISTINE=() HS_AFTER=()

# A check failed: say so, go on with the others; hs_done exits 1.
hs_fail() {
	say "FAIL: $*"
	HS_FAILED=$((HS_FAILED + 1))
}

hs_done() {
	if [ "$HS_FAILED" -gt 0 ]; then
		say "$HS_FAILED check(s) failed"
		exit 1
	fi
	say "all checks passed"
	exit 0
}

updating() { [ "${GOLDEN_UPDATE:-0}" = 1 ]; }

# hs_init CASE HOST [ROOT-CASE]: the temporary world for one test: its
# goldens in tests/hostsetup/CASE, the root from tests/hostsetup/ROOT-CASE
# (default: CASE), the host from tests/hostsetup/hosts/HOST.json (or the
# file HOST, relative to the repository, when it holds a '/').
hs_init() {
	local p tmp py host

	HS_DIR=$HS_DATA/$1
	HS_ROOT_DIR=$HS_DATA/${3:-$1}
	need python3 diff cmp find sha256sum timeout
	[ -x "$VMCTL" ] || skip "$VMCTL is not built (make)"
	# tmpfs if there is one: vmctl fsyncs every file it writes
	tmp=${TMPDIR:-/tmp}
	[ -n "${TMPDIR:-}" ] || [ ! -d /dev/shm ] || [ ! -w /dev/shm ] || tmp=/dev/shm
	HS_TMP=$(mktemp -d "$tmp/vmctl-hostsetup-$1.XXXXXX")
	trap 'rm -rf "$HS_TMP"' EXIT
	trap 'exit 1' INT TERM HUP
	py=/usr/bin/python3     # rather than a slow shim first on PATH
	[ -x "$py" ] || py=python3
	case $2 in
	*/*) host=$ROOT/$2 ;;
	*) host=$HS_DATA/hosts/$2.json ;;
	esac
	[ -f "$host" ] || fail "no host description ${host#"$ROOT"/}"
	"$py" "$ROOT/scripts/gen-sysfs.py" "$host" "$HS_TMP/host" 2>/dev/null ||
		fail "gen-sysfs ${host#"$ROOT"/} failed"
	mkdir "$HS_TMP/bin"
	for p in $HS_PROGRAMS; do
		ln -s "$HS_DATA/bin/standin" "$HS_TMP/bin/$p"
	done
	hs_materialize "$HS_ROOT_DIR/root" "$HS_TMP/pristine"
	HS_ROOT=$HS_TMP/root
	HS_STATE=$HS_TMP/state
	HS_LOG=$HS_TMP/calls
	HS_OUT=$HS_TMP/out
	HS_ERR=$HS_TMP/err
	hs_load_after
}

# hs_materialize SRC DST: copy a committed tree, add its empty dirs.
hs_materialize() {
	local d

	rm -rf "$2"
	cp -a "$1" "$2"
	if [ -f "$HS_ROOT_DIR/dirs" ]; then
		while IFS= read -r d; do
			[ -n "$d" ] && mkdir -p "$2/$d"
		done < "$HS_ROOT_DIR/dirs"
	fi
	return 0
}

hs_load_after() {
	HS_AFTER=()
	rm -rf "$HS_TMP/after"
	if [ -d "$HS_DIR/after" ]; then
		hs_materialize "$HS_DIR/after" "$HS_TMP/after"
	fi
	return 0
}

# hs_fresh: the pristine root, no state, no recorded commands.
hs_fresh() {
	rm -rf "$HS_ROOT" "$HS_STATE" "$HS_LOG" "$HS_LOG.failed"
	cp -a "$HS_TMP/pristine" "$HS_ROOT"
	: > "$HS_LOG"
}

# hs_save NAME / hs_restore NAME: the root, state and log as they are.
hs_save() {
	rm -rf "$HS_TMP/saved-$1"
	mkdir "$HS_TMP/saved-$1"
	cp -a "$HS_ROOT" "$HS_TMP/saved-$1/root"
	[ ! -e "$HS_STATE" ] || cp -a "$HS_STATE" "$HS_TMP/saved-$1/state"
}

hs_restore() {
	rm -rf "$HS_ROOT" "$HS_STATE"
	cp -a "$HS_TMP/saved-$1/root" "$HS_ROOT"
	[ ! -e "$HS_TMP/saved-$1/state" ] || cp -a "$HS_TMP/saved-$1/state" "$HS_STATE"
	: > "$HS_LOG"
}

# hs_env CMD...: run CMD in the test's environment (stand-ins first on
# PATH, fake roots), stdout to $HS_OUT, stderr to $HS_ERR; sets HS_RC.
# Bash's "Killed" notice for a SIGKILLed command goes to /dev/null; one
# that hangs is killed after a minute.
hs_env() {
	HS_RC=0
	{
		timeout -k 5 60 env -u VMCTL_SYSFS_ROOT PATH="$HS_TMP/bin:$PATH" \
			STANDIN_LOG="$HS_LOG" LC_ALL=C \
			VMCTL_STATE_DIR="$HS_STATE" \
			VMCTL_PROC_ROOT="$HS_TMP/host/proc" \
			VMCTL_DEV_ROOT="$HS_TMP/host/dev" \
			"$@" > "$HS_OUT" 2> "$HS_ERR" || HS_RC=$?
	} 2>/dev/null
}

# hs_vmctl ARGS...: vmctl against the fake host.
hs_vmctl() {
	hs_env "$VMCTL" --sysfs-root "$HS_TMP/host/sys" "$@"
}

# The calls at which a kill is tried: each one changes the filesystem.
HS_KILL_CALLS=rename,renameat,renameat2,unlink,unlinkat,rmdir

# hs_steps ARGS...: vmctl ARGS runs (to the end), traced; HS_STEPS gets
# its own calls of HS_KILL_CALLS in order, "SYSCALL N" for the Nth call
# of that syscall (children, the regeneration programs, are not traced).
hs_steps() {
	HS_STEPS=()
	hs_env strace -o "$HS_TMP/trace" -e trace="$HS_KILL_CALLS" \
		"$VMCTL" --sysfs-root "$HS_TMP/host/sys" "$@"
	if [ "$HS_RC" != 0 ]; then
		hs_fail "traced run of $*: exit status $HS_RC"
		hs_show
		return 1
	fi
	mapfile -t HS_STEPS < <(awk -F'(' '/^[a-z0-9_]+\(/ { n[$1]++; print $1, n[$1] }' \
		"$HS_TMP/trace")
	[ "${#HS_STEPS[@]}" -gt 0 ] || hs_fail "strace saw no step of $* to kill at"
	say "vmctl ${*//"$HS_ROOT"/@ROOT@}: ${#HS_STEPS[@]} steps to kill at: ${HS_STEPS[*]}"
}

# hs_vmctl_killed_at SYSCALL N ARGS...: vmctl, SIGKILLed on entering its
# Nth call of SYSCALL, before that call does anything.
hs_vmctl_killed_at() {
	local sc=$1 n=$2

	shift 2
	hs_env strace -o /dev/null -e trace="$sc" \
		-e inject="$sc":signal=SIGKILL:when="$n" \
		"$VMCTL" --sysfs-root "$HS_TMP/host/sys" "$@"
}

# What vmctl printed or ran, with the temporary root as @ROOT@.
hs_subst() { sed -e "s|$HS_ROOT|@ROOT@|g" "$@"; }
hs_calls() { hs_subst "$HS_LOG"; }
hs_show() {
	say "exit status $HS_RC; stdout:"
	hs_subst "$HS_OUT" | sed 's/^/  | /'
	say "stderr:"
	hs_subst "$HS_ERR" | sed 's/^/  | /'
}

# hs_golden FILE WHAT: the actual text on stdin equals tests/hostsetup/
# FLAVOUR/FILE (rewritten under GOLDEN_UPDATE=1).
hs_golden() {
	local want=$HS_DIR/$1 got=$HS_TMP/got

	cat > "$got"
	if updating; then
		mkdir -p "$(dirname -- "$want")"
		cp "$got" "$want"
		return 0
	fi
	if [ ! -f "$want" ]; then
		hs_fail "$2: no golden file ${want#"$ROOT"/}"
		sed 's/^/  | /' "$got"
		return 1
	fi
	if ! cmp -s "$want" "$got"; then
		hs_fail "$2: differs from ${want#"$ROOT"/}:"
		diff -u --label "${want#"$ROOT"/}" --label actual "$want" "$got" | sed 's/^/  /'
		return 1
	fi
	return 0
}

# Every path under a tree with its type and mode, one a line.
hs_listing() {
	(cd -- "$1" && find . -mindepth 1 -printf '%y %m %P\n' | LC_ALL=C sort)
}

# hs_same_tree DIR EXPECTED WHAT: same paths, types, modes and bytes.
hs_same_tree() {
	local d

	d=$(diff -r -- "$2" "$1" 2>&1 && diff -u --label expected --label actual \
		<(hs_listing "$2") <(hs_listing "$1") 2>&1) && return 0
	hs_fail "$3: the tree differs from ${2#"$HS_TMP"/}:"
	printf '%s\n' "$d" | hs_subst | sed "s|$HS_TMP|@TMP@|g; s/^/  /" | head -n 60
	return 1
}

# hs_after_golden WHAT: the root equals after/ (under GOLDEN_UPDATE=1:
# becomes after/, less the empty dirs that dirs lists).
hs_after_golden() {
	if updating; then
		rm -rf "$HS_DIR/after"
		cp -a "$HS_ROOT" "$HS_DIR/after"
		find "$HS_DIR/after" -mindepth 1 -type d -empty -delete
		hs_load_after
		return 0
	fi
	[ -d "$HS_TMP/after" ] || { hs_fail "$1: no golden tree ${HS_DIR#"$ROOT"/}/after"; return 1; }
	hs_same_tree "$HS_ROOT" "$HS_TMP/after" "$1"
}

# hs_manifest DIR ARRAY: fill the associative array ARRAY with
# path -> "TYPE MODE SHA256" for every path under DIR (no sum: "-").
hs_manifest() {
	local -n into=$2
	local -A sum=()
	local s p line rest

	into=()
	while read -r s p; do
		sum[${p#./}]=$s
	done < <(cd -- "$1" && find . -type f -print0 | xargs -0 -r sha256sum)
	while IFS= read -r line; do
		rest=${line#* }
		p=${rest#* }
		# shellcheck disable=SC2034,SC2004 # a nameref to an associative array
		into[$p]="${line%% *} ${rest%% *} ${sum[$p]:--}"
	done < <(hs_listing "$1")
}

# hs_old_or_new WHAT: every file under the root is byte for byte (and mode
# for mode) either what it was (pristine/) or what it will be (after/),
# every directory is in one of them, and a file missing is one that one
# of them lacks.  A temporary file of vmctl's atomic writes (".NAME.XXXXXX"
# beside a file that changes) is only noted: a rerun or --undo must clear
# it, which the callers check.
hs_old_or_new() {
	local what=$1 p base bad=0
	local -A now=()

	[ "${#HS_PRISTINE[@]}" -gt 0 ] || hs_manifest "$HS_TMP/pristine" HS_PRISTINE
	[ "${#HS_AFTER[@]}" -gt 0 ] || hs_manifest "$HS_TMP/after" HS_AFTER
	hs_manifest "$HS_ROOT" now
	for p in "${!now[@]}"; do
		[ "${now[$p]}" = "${HS_PRISTINE[$p]:-}" ] && continue
		[ "${now[$p]}" = "${HS_AFTER[$p]:-}" ] && continue
		case ${now[$p]} in
		"d "*)
			case "${HS_PRISTINE[$p]:-}${HS_AFTER[$p]:-}" in
			"d "*) continue ;;
			esac
			hs_fail "$what: directory /$p is new"
			bad=1
			continue
			;;
		esac
		base=${p##*/}
		case $base in
		.*.??????)
			base=${base#.}
			base=${p%/*}/${base%.??????}
			if [ "${HS_PRISTINE[$base]:-}" != "${HS_AFTER[$base]:-}" ]; then
				say "note: $what: temporary file /$p left behind"
				continue
			fi
			;;
		esac
		hs_fail "$what: /$p is neither its old nor its new content"
		bad=1
	done
	for p in "${!HS_PRISTINE[@]}" "${!HS_AFTER[@]}"; do
		[ -n "${now[$p]:-}" ] && continue
		if [ -n "${HS_PRISTINE[$p]:-}" ] && [ -n "${HS_AFTER[$p]:-}" ]; then
			hs_fail "$what: /$p is missing"
			bad=1
		fi
	done
	return "$bad"
}

# hs_ok WHAT: the last command exited 0.
hs_ok() {
	[ "$HS_RC" = 0 ] && return 0
	hs_fail "$1: exit status $HS_RC, not 0"
	hs_show
	return 1
}

hs_no_calls() {
	[ ! -s "$HS_LOG" ] && return 0
	hs_fail "$1: ran commands:"
	hs_calls | sed 's/^/  | /'
	return 1
}

# The program a recorded line runs: "chroot ROOT update-grub" -> update-grub
hs_program() { awk '{ print ($1 == "chroot") ? $3 : $1 }'; }

# hs_in_order EXPECTED ACTUAL: the lines of the text EXPECTED appear in
# the file ACTUAL, in that order (others may come between).
hs_in_order() {
	awk -v want="$1" 'BEGIN { n = split(want, w, "\n"); i = 1 }
	     i <= n && $0 == w[i] { i++ }
	     END { exit !(i > n) }' "$2"
}

# HS_FLAGS: more options for every host-setup the checks run (--permanent
# where the bootloader has no one-shot boot).
hs_apply() {
	# shellcheck disable=SC2086 # the flags are words
	hs_vmctl host-setup "$HS_SELECTOR" --root "$HS_ROOT" --yes ${HS_FLAGS:-} "$@"
}
hs_undo() { hs_vmctl host-setup --undo --root "$HS_ROOT"; }

# hs_undo_to_pristine WHAT: --undo succeeds and gives the pristine tree back.
hs_undo_to_pristine() {
	hs_undo
	hs_ok "$1: --undo" || return 1
	hs_same_tree "$HS_ROOT" "$HS_TMP/pristine" "$1: --undo" || return 1
	[ ! -e "$HS_STATE/host-setup/manifest.json" ] ||
		hs_fail "$1: --undo left its manifest behind"
}

# hs_rerun_converges WHAT: host-setup --yes again ends in after/, having
# run every regeneration command the first run did not finish (the lines
# of calls.ok from $2 on, default all), then --undo gives pristine back.
hs_rerun_converges() {
	local from=${2:-1}

	: > "$HS_LOG"
	hs_apply
	if hs_ok "$1: rerun"; then
		hs_same_tree "$HS_ROOT" "$HS_TMP/after" "$1: rerun"
		if ! hs_in_order "$(tail -n +"$from" "$HS_DIR/calls.ok")" <(hs_calls); then
			hs_fail "$1: rerun did not run the regeneration left undone:"
			say "expected (in this order, among others):"
			tail -n +"$from" "$HS_DIR/calls.ok" | sed 's/^/  | /'
			say "ran:"
			hs_calls | sed 's/^/  | /'
		fi
	fi
	hs_undo_to_pristine "$1"
}

# hs_basic_checks: with HS_SELECTOR as the selector, the plan (plan.ok),
# applying it (after/, calls.ok), a second run, --undo (calls-undo.ok).
hs_basic_checks() {
	# --dry-run prints the plan and changes nothing.
	hs_fresh
	# shellcheck disable=SC2086 # the flags are words
	hs_vmctl host-setup "$HS_SELECTOR" --root "$HS_ROOT" --dry-run ${HS_FLAGS:-}
	if hs_ok "--dry-run"; then
		hs_subst "$HS_OUT" | hs_golden plan.ok "--dry-run: the plan"
		[ ! -s "$HS_ERR" ] || { hs_fail "--dry-run: wrote to stderr"; hs_show; }
	fi
	# A plan that changes /etc/kernel/cmdline must make the next boot
	# see it: edit the loader entries, or rebuild what is built from it.
	if grep -q '^+++ b/etc/kernel/cmdline$' "$HS_OUT" &&
		! grep -qE '^\+\+\+ b/.*/loader/entries/|^\$ .*(kernel-install|mkinitcpio) ' "$HS_OUT"; then
		hs_fail "--dry-run: /etc/kernel/cmdline changes, but nothing boots from it"
		hs_show
	fi
	hs_same_tree "$HS_ROOT" "$HS_TMP/pristine" "--dry-run changed the root"
	hs_no_calls "--dry-run"
	[ ! -e "$HS_STATE/host-setup/manifest.json" ] ||
		hs_fail "--dry-run wrote a manifest"

	# --yes applies it: files as after/, commands as calls.ok.
	hs_fresh
	hs_apply
	hs_ok "--yes" || return 0
	grep -q 'reboot' "$HS_OUT" || { hs_fail "--yes: does not say what comes next"; hs_show; }
	hs_after_golden "--yes"
	hs_calls | hs_golden calls.ok "--yes: commands run"
	hs_save applied

	# A second run changes nothing and says so.
	: > "$HS_LOG"
	hs_apply
	if hs_ok "second run"; then
		grep -qi 'already configured' "$HS_OUT" ||
			{ hs_fail "second run: no \"Already configured\""; hs_show; }
	fi
	hs_no_calls "second run"
	hs_same_tree "$HS_ROOT" "$HS_TMP/after" "second run"

	# --undo: the pristine tree, byte for byte; regeneration rerun.
	: > "$HS_LOG"
	hs_undo
	hs_ok "--undo"
	hs_same_tree "$HS_ROOT" "$HS_TMP/pristine" "--undo"
	hs_calls | hs_golden calls-undo.ok "--undo: commands run"
	[ ! -e "$HS_STATE/host-setup/manifest.json" ] || hs_fail "--undo left its manifest"
	: > "$HS_LOG"
	hs_undo
	hs_ok "second --undo" && { grep -qi 'nothing to undo' "$HS_OUT" ||
		{ hs_fail "second --undo: no \"Nothing to undo\""; hs_show; }; }
	hs_no_calls "second --undo"
}

# hs_flavour_checks FAIL-PROGRAM...: the checks every flavour gets:
# hs_basic_checks, a failing regeneration (each FAIL-PROGRAM, once), and
# SIGKILL at every step, then a rerun.
hs_flavour_checks() {
	local i prog last killed_calls step
	local -a progs

	need strace
	hs_basic_checks

	# A regeneration command that fails: exit 1 naming it (and showing
	# its error), the files put back, the boot files rebuilt from them;
	# a rerun then gets everything done.
	for prog in "$@"; do
		hs_fresh
		STANDIN_FAIL=$prog hs_apply
		if [ "$HS_RC" != 1 ]; then
			hs_fail "$prog failing: exit status $HS_RC, not 1"
			hs_show
		else
			grep -q "$prog" "$HS_ERR" ||
				{ hs_fail "$prog failing: the error does not name $prog"; hs_show; }
			if [ "$prog" = update-initramfs ]; then
				last="update-initramfs: failed for /boot/initrd.img-6.1.0-18-amd64 with 1."
			else
				last="$prog: simulated failure (stand-in)"
			fi
			grep -qF "$last" "$HS_ERR" ||
				{ hs_fail "$prog failing: the error does not show why (\"$last\")"; hs_show; }
		fi
		hs_same_tree "$HS_ROOT" "$HS_TMP/pristine" "$prog failing: files not put back"
		hs_calls | hs_golden "calls-fail-$prog.ok" "$prog failing: commands run"
		hs_rerun_converges "after $prog failed"
	done

	updating && return 0    # the rest only compares with the goldens

	# SIGKILL at each step that changes a file (every backup, manifest
	# write and atomic replacement), then a rerun (and, from the same
	# state, --undo instead).
	hs_fresh
	# shellcheck disable=SC2086 # the flags are words
	hs_steps host-setup "$HS_SELECTOR" --root "$HS_ROOT" --yes ${HS_FLAGS:-}
	for ((i = 0; i < ${#HS_STEPS[@]}; i++)); do
		step="step $((i + 1)) (${HS_STEPS[i]})"
		hs_fresh
		# shellcheck disable=SC2086 # "SYSCALL N"
		hs_vmctl_killed_at ${HS_STEPS[i]} host-setup "$HS_SELECTOR" --root "$HS_ROOT" --yes ${HS_FLAGS:-}
		if [ "$HS_RC" != 137 ]; then
			hs_fail "--yes killed at $step: exit status $HS_RC, not 137 (SIGKILL)"
			hs_show
			continue
		fi
		hs_old_or_new "--yes killed at $step"
		killed_calls=$(wc -l < "$HS_LOG")
		hs_save killed
		hs_rerun_converges "--yes killed at $step" "$((killed_calls + 1))"
		hs_restore killed
		hs_undo_to_pristine "--yes killed at $step, then --undo"
	done

	# SIGKILL while each regeneration command runs (the stand-in
	# kills the vmctl above it), then a rerun.
	mapfile -t progs < <(hs_program < "$HS_DIR/calls.ok")
	for ((i = 0; i < ${#progs[@]}; i++)); do
		prog=${progs[i]}
		hs_fresh
		STANDIN_KILL=$prog hs_apply
		if [ "$HS_RC" != 137 ]; then
			hs_fail "killed in $prog: exit status $HS_RC, not 137"
			hs_show
			continue
		fi
		hs_old_or_new "killed in $prog"
		hs_rerun_converges "killed in $prog" "$((i + 1))"
	done

	# SIGKILL at each step of --undo (restoring the files, removing
	# the backups and the manifest), then --undo again.
	hs_restore applied
	hs_steps host-setup --undo --root "$HS_ROOT"
	for ((i = 0; i < ${#HS_STEPS[@]}; i++)); do
		step="step $((i + 1)) (${HS_STEPS[i]})"
		hs_restore applied
		# shellcheck disable=SC2086 # "SYSCALL N"
		hs_vmctl_killed_at ${HS_STEPS[i]} host-setup --undo --root "$HS_ROOT"
		if [ "$HS_RC" != 137 ]; then
			hs_fail "--undo killed at $step: exit status $HS_RC, not 137"
			hs_show
			continue
		fi
		hs_old_or_new "--undo killed at $step"
		hs_undo_to_pristine "--undo killed at $step, then --undo again"
	done
	return 0
}
