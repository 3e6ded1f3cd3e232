#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The man pages and shell completion: vmctl.1 and vmctl-spec.5 lint clean
# and name every command and every spec key (a new one without docs fails
# here); the bash script really completes commands, flags, VM names (of a
# VM created with --no-start), spec files and GPU selectors (a fixture
# sysfs); the zsh and fish scripts parse and register, fish completes;
# `make install DESTDIR=` puts every file in place.  Starts no VM.
TEST_NAME=man-completion
. "$(dirname -- "$0")/lib.sh"

need bash
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-man.XXXXXX")
export VMCTL_STATE_DIR=$TMP/state
cleanup() {
	"$VMCTL" destroy --force "mc-$$" >/dev/null 2>&1 || true
	rm -rf "$TMP"
}
trap cleanup EXIT

# ---- man pages -------------------------------------------------------------
"$VMCTL" __man 1 2026-01-01 > "$TMP/vmctl.1" || fail "__man 1"
"$VMCTL" __man 5 "$ROOT/docs/spec.md" 2026-01-01 > "$TMP/vmctl-spec.5" ||
	fail "__man 5"
for page in vmctl.1 vmctl-spec.5; do
	if command -v mandoc >/dev/null 2>&1; then
		out=$(mandoc -T lint -W warning "$TMP/$page" 2>&1) ||
			fail "mandoc -T lint $page: $out"
		[ -z "$out" ] || fail "mandoc -T lint $page: $out"
	fi
	if command -v groff >/dev/null 2>&1; then
		out=$(groff -ww -z -man "$TMP/$page" 2>&1)
		[ -z "$out" ] || fail "groff -ww $page: $out"
	fi
done
command -v mandoc >/dev/null 2>&1 || command -v groff >/dev/null 2>&1 ||
	say "neither mandoc nor groff: the pages are not linted"

# Every command of `vmctl --help` has its section in vmctl.1.
cmds=$("$VMCTL" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 {print $1}')
[ "$(printf '%s\n' "$cmds" | wc -l)" -ge 20 ] || fail "few commands: $cmds"
for c in $cmds; do
	grep -qx "\.SS $c" "$TMP/vmctl.1" || fail "vmctl.1 lacks command $c"
done
for code in 0 1 64 65 66 69 77; do
	grep -qx "\.B $code" "$TMP/vmctl.1" || fail "vmctl.1 lacks exit $code"
done
for var in $(grep -rhno 'VMCTL_[A-Z_]*"' "$ROOT/src" | tr -d '"' |
	     cut -d: -f2 | sort -u); do
	grep -q "^\.B $var\$" "$TMP/vmctl.1" || fail "vmctl.1 lacks $var"
done

# Every key of the schema's tables is in vmctl-spec.5 with its prose from
# docs/spec.md: a key spec.md does not describe shows as undocumented.
! grep -n "not described in docs/spec.md" "$TMP/vmctl-spec.5" ||
	fail "spec keys without a description in docs/spec.md (above)"
for key in $(grep -ho 'KEY("[a-z_0-9]*"' "$ROOT"/src/spec-schema.c "$ROOT"/src/spec-keys-*.c |
	     cut -d'"' -f2 | sort -u); do
	grep -Eq "^\.(SS|B) ([a-z_0-9]+\.)*$key\$" "$TMP/vmctl-spec.5" ||
		fail "vmctl-spec.5 lacks key $key"
done
grep -qx '\.B cpus\.pin' "$TMP/vmctl-spec.5" || fail "no nested cpus.pin"
grep -qx '\.B gpu\.x_vga' "$TMP/vmctl-spec.5" || fail "no gpu.x_vga"

# ---- bash completion ---------------------------------------------------------
mkdir -p "$TMP/bin" "$TMP/specs/sub"
ln -s "$VMCTL" "$TMP/bin/vmctl"
"$VMCTL" completion bash > "$TMP/vmctl.bash" || fail "completion bash"
: > "$TMP/specs/a.yaml"; : > "$TMP/specs/b.json"; : > "$TMP/specs/c.txt"
cat > "$TMP/spec.yaml" <<YAML
name: mc-$$
cpus: 1
memory: 128M
accel: tcg
network: {ssh_port: auto, ssh_listen: 127.0.0.1}
vnc: {listen: 127.0.0.1}
YAML
"$VMCTL" create --no-start "$TMP/spec.yaml" >/dev/null ||
	fail "create --no-start"

# complete "WORDS": what TAB offers after "vmctl WORDS" (a trailing blank:
# at a new, empty word), through _vmctl as bash runs it (COMP_WORDS and
# COMP_CWORD; no COMP_LINE).
complete() {
	local -a w
	read -ra w <<< "$1"
	[[ -z $1 || $1 == *" " ]] && w+=('')
	PATH=$TMP/bin:$PATH bash -c '
		. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_vmctl
		printf "%s\n" "${COMPREPLY[@]}"' _ "$TMP/vmctl.bash" vmctl "${w[@]}"
}
expect() {   # expect "WORDS" WANT...: every WANT is offered
	local words=$1 got w
	shift
	got=$(cd "$TMP/specs" && complete "$words")
	for w in "$@"; do
		printf '%s\n' "$got" | grep -qxF -- "$w" ||
			fail "vmctl $words<TAB>: no \"$w\" in: $(echo $got)"
	done
}
reject() {   # reject "WORDS" NOT...: none of NOT is offered
	local words=$1 got w
	shift
	got=$(cd "$TMP/specs" && complete "$words")
	for w in "$@"; do
		! printf '%s\n' "$got" | grep -qxF -- "$w" ||
			fail "vmctl $words<TAB>: \"$w\" offered: $(echo $got)"
	done
}
# Every option a command's usage names is offered after "vmctl CMD --"
# (its cmd_entry lists its options, the table its parser takes).
for c in $cmds; do
	usage=$("$VMCTL" help "$c" | sed '/^$/q')
	offered=$("$VMCTL" __complete "$c" -- | cut -f1)
	for f in $(grep -o -- '--[a-z][a-z-]*' <<< "$usage" | sort -u); do
		grep -qxF -- "$f" <<< "$offered" ||
			fail "vmctl $c --<TAB>: no $f (in its usage)"
	done
done
[ "$(complete cre)" = create ] || fail "vmctl cre<TAB>: $(complete cre)"
expect "" create stop list help completion
expect "create --" --name --no-start --wait --overcommit --host --json
reject "create --" --timeout --version
expect "stop --" --timeout
expect "stop " "mc-$$"
expect "stop mc" "mc-$$"
expect "snapshot " create list revert delete
expect "snapshot list " "mc-$$"
expect "create " a.yaml b.json sub/
reject "create " c.txt
expect "validate a.yaml " a.yaml b.json
expect "bind " NVIDIA AMD Intel
expect "host " ksm reserve
expect "host ksm " on off status
expect "completion " bash zsh fish
expect "help st" start stop status
expect "--state-dir $TMP/state stop " "mc-$$"
# No VM of that name in another state dir.
reject "--state-dir $TMP/other stop " "mc-$$"
# GPU selectors from `vmctl gpu list --json`, on a fixture host (one RTX
# at 0000:01:00.0); bash splits "0000:01" at ':', and the script, reading
# COMP_LINE as bash sets it, gives back only what follows the break.
python3 "$ROOT/scripts/gen-sysfs.py" "$ROOT/tests/fixtures/sysfs/rtx-4fn.json" \
	"$TMP/sysfs" >/dev/null 2>&1 || fail "gen-sysfs.py"
export VMCTL_SYSFS_ROOT=$TMP/sysfs/sys
expect "bind " NVIDIA 0000:01:00.0 10de:1e07
expect "bind 0000:0" 0000:01:00.0
line="vmctl gpu rom 0000:01"
got=$(PATH=$TMP/bin:$PATH COMP_LINE=$line COMP_POINT=${#line} bash -c '
	. "$1"; COMP_WORDS=(vmctl gpu rom 0000 : 01); COMP_CWORD=5
	_vmctl; printf "%s\n" "${COMPREPLY[@]}"' _ "$TMP/vmctl.bash")
[ "$got" = "01:00.0" ] || fail "vmctl $line<TAB> (COMP_LINE): \"$got\""
unset VMCTL_SYSFS_ROOT

# ---- zsh and fish ------------------------------------------------------------
for sh in zsh fish; do
	"$VMCTL" completion "$sh" > "$TMP/vmctl.$sh" || fail "completion $sh"
	if command -v "$sh" >/dev/null 2>&1; then
		"$sh" -n "$TMP/vmctl.$sh" || fail "$sh -n: the script"
	else
		say "$sh not installed: its script is not parsed"
	fi
done
if command -v zsh >/dev/null 2>&1; then
	# Sourced after compinit, the script registers its function.
	got=$(PATH=$TMP/bin:$PATH zsh -f -c "autoload -U compinit
		compinit -u -d $TMP/zcd; source $TMP/vmctl.zsh
		print -r -- \${_comps[vmctl]}" 2>&1) || true
	[ "$got" = _vmctl ] || fail "zsh: the script registers no _vmctl: $got"
fi
if command -v fish >/dev/null 2>&1; then
	# Loaded as fish loads it from vendor_completions.d, and not the
	# completions fish ships for OpenBSD's vmctl.
	mkdir -p "$TMP/fish"
	cp "$TMP/vmctl.fish" "$TMP/fish/vmctl.fish"
	got=$(cd "$TMP/specs" && PATH=$TMP/bin:$PATH fish --no-config -c "
		set fish_complete_path $TMP/fish; complete -C 'vmctl stop '")
	printf '%s\n' "$got" | grep -c "^mc-$$" >/dev/null ||
		fail "fish: vmctl stop <TAB> gave: $got"
fi
"$VMCTL" completion tcsh >/dev/null 2>&1 && fail "completion tcsh works"

# ---- make install ------------------------------------------------------------
if [ -f "$ROOT/Makefile" ] && [ "$VMCTL" -ef "$ROOT/vmctl" ]; then
	make -s -C "$ROOT" install PREFIX=/usr DESTDIR="$TMP/dest" \
		>"$TMP/make.log" 2>&1 || fail "make install: $(tail -5 "$TMP/make.log")"
	for f in bin/vmctl share/man/man1/vmctl.1 share/man/man5/vmctl-spec.5 \
		 share/bash-completion/completions/vmctl \
		 share/zsh/vendor-completions/_vmctl \
		 share/fish/vendor_completions.d/vmctl.fish; do
		[ -s "$TMP/dest/usr/$f" ] || fail "make install: no $f"
	done
	cmp -s "$TMP/dest/usr/share/bash-completion/completions/vmctl" \
	    "$TMP/vmctl.bash" || fail "installed bash script differs"
else
	say "VMCTL is not this tree's vmctl: make install not checked"
fi
say "PASS"
