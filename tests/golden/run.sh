#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Golden tests, OpenBSD regress style: feed vmctl a spec, diff -u what it
# prints against a committed .ok file.  See tests/golden/README.
#
#   tests/golden/run.sh [CASE...]     e.g. good/minimal invalid/empty-file-yaml
#
# $VMCTL is the binary under test (default: vmctl at the repo root).
# GOLDEN_UPDATE=1 rewrites the .ok files from what vmctl prints now; read
# every line of `git diff tests/golden` before committing the result.
# Output is TAP; the exit status is 1 if any test failed.
set -u

case ${VMCTL:-} in
/* | "") ;;
*/*) VMCTL=$PWD/$VMCTL ;;   # relative to where we were started
esac
cd "$(dirname "$0")/../.." || exit 1
root=$(pwd -P)
: "${VMCTL:=$root/vmctl}"
golden=tests/golden
state=/var/lib/vmctl-golden

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-golden.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/dev" "$tmp/sys" "$tmp/gen"

# A host with nothing in it: no /dev/kvm (accel auto is TCG), an empty sysfs,
# and socket tables where 127.0.0.1:2222 and 0.0.0.0:5900 listen, among
# others (see proc/net/).  Messages in the C locale; no state dir from the
# caller's environment.
export VMCTL_DEV_ROOT=$tmp/dev VMCTL_SYSFS_ROOT=$tmp/sys
export VMCTL_PROC_ROOT=$root/$golden/proc
export LC_ALL=C
# QEMU gives up root for this user (-runas) whoever runs the tests.
export VMCTL_QEMU_USER=vmctl-qemu
unset VMCTL_STATE_DIR XDG_DATA_HOME

n=0 failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
diag() { sed 's/^/# /'; }

# check NAME EXPECTED-FILE ACTUAL-FILE ACTUAL-LABEL: one test, passing if
# the files are identical; if not, `diff -u` as diagnostics.
check() {
	if cmp -s "$2" "$3"; then
		ok "$1"
		return
	fi
	not_ok "$1"
	diff -u --label "$2" --label "$4" "$2" "$3" | diag
	if [ "${2##*/}" = argv.ok ]; then
		# An argv is one long line: show it again an option a line.
		echo "# the same, split before each option:"
		diff -u --label "$2" --label "$4" \
			<(sed 's/ -/\n-/g' "$2") <(sed 's/ -/\n-/g' "$3") | diag
	fi
}

# Replace the repo root and the temporary directory in vmctl's output, so
# the .ok files hold @ROOT@ and @TMP@ wherever a path differs by host.
normalize() {
	local text
	text=$(cat; echo x)
	text=${text%x}
	text=${text//"$tmp"/@TMP@}
	printf '%s' "${text//"$root"/@ROOT@}"
}

updating() { [ "${GOLDEN_UPDATE:-0}" = 1 ]; }

# vmctl under a time limit: a spec that makes it hang (an alias bomb, say)
# fails its test with status 124 instead of stopping the run.
vmctl() { timeout -k 5 20 "$VMCTL" "$@"; }

# Global options for a case: --state-dir, then the lines of its `args` file
# if it has one, one argument a line (so they may hold spaces).
case_args() {
	args=(--state-dir "$state")
	if [ -f "$1/args" ]; then
		local more
		mapfile -t more < "$1/args"
		args+=("${more[@]}")
	fi
}

# good/CASE: spec.yaml and spec.json are one spec in two syntaxes; both must
# print argv.ok exactly, and --json must give the same words.
run_good() {
	local dir=$1 name=${1#"$golden"/} syn out rc
	local args=()
	case_args "$dir"
	out=$tmp/$(echo "$name" | tr / _)
	for syn in yaml json; do
		if [ ! -f "$dir/spec.$syn" ]; then
			not_ok "$name: spec.$syn"
			echo "# $dir/spec.$syn is missing"
			continue
		fi
		vmctl "${args[@]}" cmdline "$dir/spec.$syn" \
			> "$out.$syn.raw" 2> "$out.$syn.err"
		rc=$?
		normalize < "$out.$syn.raw" > "$out.$syn"
		if [ "$rc" -ne 0 ] || [ -s "$out.$syn.err" ]; then
			not_ok "$name: spec.$syn"
			echo "# vmctl cmdline exited $rc; stderr:"
			diag < "$out.$syn.err"
			continue
		fi
		if updating && [ "$syn" = yaml ]; then
			cp "$out.$syn" "$dir/argv.ok"
		fi
		check "$name: spec.$syn" "$dir/argv.ok" "$out.$syn" \
			"cmdline $dir/spec.$syn"
	done

	# --json: an array of strings, the same for both syntaxes, whose
	# elements are the words of argv.ok as a POSIX shell splits them.
	for syn in yaml json; do
		vmctl "${args[@]}" --json cmdline "$dir/spec.$syn" \
			> "$out.$syn.jraw" 2> "$out.$syn.jerr" ||
			echo "vmctl --json cmdline $dir/spec.$syn exited $?" \
				>> "$out.$syn.jerr"
	done
	if [ -s "$out.yaml.jerr" ] || [ -s "$out.json.jerr" ]; then
		not_ok "$name: --json"
		cat "$out.yaml.jerr" "$out.json.jerr" | diag
	elif ! cmp -s "$out.yaml.jraw" "$out.json.jraw"; then
		not_ok "$name: --json"
		echo "# --json output differs between spec.yaml and spec.json:"
		diff -u --label spec.yaml --label spec.json \
			"$out.yaml.jraw" "$out.json.jraw" | diag
	else
		# Checked with the others in one python3 run at the end.
		printf '%s\t%s\t%s\n' "$name: --json" "$dir/argv.ok" \
			"$out.yaml.jraw" >> "$tmp/json-checks"
	fi
}

# The deferred --json checks.  Prints "ok NAME" or "not ok NAME" and then
# diagnostics for each line of $tmp/json-checks.
json_checks() {
	python3 - "$root" "$tmp/json-checks" <<'EOF'
import difflib, json, shlex, sys

root, checks = sys.argv[1:]
for line in open(checks):
    name, ok_file, raw_file = line.rstrip("\n").split("\t")
    try:
        with open(ok_file) as f:
            words = shlex.split(f.read())
        with open(raw_file) as f:
            argv = json.load(f)
        if not isinstance(argv, list) or \
           not all(isinstance(a, str) for a in argv):
            raise ValueError("--json printed something other than an "
                             "array of strings")
    except (OSError, ValueError) as e:
        print("not ok " + name)
        print("# %s" % e)
        continue
    argv = [a.replace(root, "@ROOT@") for a in argv]
    diff = list(difflib.unified_diff(
        [json.dumps(w) + "\n" for w in words],
        [json.dumps(a) + "\n" for a in argv],
        "words of " + ok_file, "cmdline --json"))
    print(("not ok " if diff else "ok ") + name)
    for d in diff:
        print("# " + d, end="")
EOF
}

# invalid/CASE: `vmctl validate` must print nothing on stdout, exactly
# stderr.ok on stderr and exit with status.ok.  The spec is spec.yaml or
# spec.json; or what the case's `generate` script writes into the directory
# it is given, for what is too big or too binary to commit; or the path in
# the case's `path` file (a missing file, a directory).
run_invalid() {
	local dir=$1 name=${1#"$golden"/} spec rc want gen
	local args=() specs=()
	case_args "$dir"
	if [ -f "$dir/path" ]; then
		spec=$(cat "$dir/path")
	elif [ -f "$dir/generate" ]; then
		gen=$tmp/gen/${dir##*/}
		mkdir "$gen"
		bash "$dir/generate" "$gen"
		specs=("$gen"/*)
		spec=${specs[0]}
	elif [ -f "$dir/spec.yaml" ]; then
		spec=$dir/spec.yaml
	else
		spec=$dir/spec.json
	fi
	vmctl "${args[@]}" validate "$spec" \
		> "$tmp/stdout" 2> "$tmp/stderr.raw"
	rc=$?
	normalize < "$tmp/stderr.raw" > "$tmp/stderr"
	if updating; then
		cp "$tmp/stderr" "$dir/stderr.ok"
		echo "$rc" > "$dir/status.ok"
	fi
	want=$(cat "$dir/status.ok" 2>/dev/null)
	if [ -s "$tmp/stdout" ]; then
		not_ok "$name"
		echo "# stdout should be empty, got:"
		diag < "$tmp/stdout"
	elif [ "$rc" != "$want" ]; then
		not_ok "$name"
		echo "# exit status $rc, expected ${want:-(no status.ok)}; stderr:"
		diag < "$tmp/stderr"
	else
		check "$name" "$dir/stderr.ok" "$tmp/stderr" "validate $spec"
	fi
}

# libvirt/CASE: `vmctl export --libvirt` of each spec its `spec` file
# names (one a line, relative to the repo root: a worked example in
# configs/, or a good/ case's spec.yaml and spec.json) must print
# domain.xml.ok exactly, exit 0 and say exactly stderr.ok on stderr.  A
# `host` file names a tests/fixtures/sysfs/ host whose generated tree is
# the sysfs root (GPU selectors resolve against it).
run_libvirt() {
	local dir=$1 name=${1#"$golden"/} spec rc host out first=1
	local args=() specs=()
	case_args "$dir"
	if [ -f "$dir/host" ]; then
		host=$(cat "$dir/host")
		if [ ! -d "$tmp/hosts/$host" ]; then
			mkdir -p "$tmp/hosts"
			python3 scripts/gen-sysfs.py \
				"tests/fixtures/sysfs/$host.json" \
				"$tmp/hosts/$host" > /dev/null 2>&1 ||
				echo "gen-sysfs.py $host failed" >&2
		fi
		args+=(--sysfs-root "$tmp/hosts/$host/sys")
	fi
	mapfile -t specs < "$dir/spec"
	out=$tmp/$(echo "$name" | tr / _)
	for spec in "${specs[@]}"; do
		vmctl "${args[@]}" export --libvirt "$spec" \
			> "$out.raw" 2> "$out.err.raw"
		rc=$?
		normalize < "$out.raw" > "$out.xml"
		normalize < "$out.err.raw" > "$out.err"
		if updating && [ "$first" = 1 ]; then
			cp "$out.xml" "$dir/domain.xml.ok"
			cp "$out.err" "$dir/stderr.ok"
		fi
		first=0
		if [ "$rc" -ne 0 ]; then
			not_ok "$name: $spec"
			echo "# vmctl export --libvirt exited $rc; stderr:"
			diag < "$out.err"
		elif ! cmp -s "$dir/stderr.ok" "$out.err"; then
			check "$name: $spec (stderr)" "$dir/stderr.ok" \
				"$out.err" "export --libvirt $spec (stderr)"
		else
			check "$name: $spec" "$dir/domain.xml.ok" "$out.xml" \
				"export --libvirt $spec"
		fi
	done
}

if [ ! -x "$VMCTL" ]; then
	echo "Bail out! no vmctl at $VMCTL (run make, or set VMCTL)"
	exit 1
fi

cases=("$@")
if [ ${#cases[@]} -eq 0 ]; then
	cases=("$golden"/good/*/ "$golden"/invalid/*/ "$golden"/libvirt/*/)
fi
for c in "${cases[@]}"; do
	c=${c%/}
	c=$golden/${c#"$golden"/}
	case $c in
	"$golden"/good/*) run_good "$c" ;;
	"$golden"/invalid/*) run_invalid "$c" ;;
	"$golden"/libvirt/*) run_libvirt "$c" ;;
	*) echo "Bail out! not a golden case: $c"; exit 1 ;;
	esac
done

if [ -s "$tmp/json-checks" ]; then
	while IFS= read -r line; do
		case $line in
		"ok "*) ok "${line#ok }" ;;
		"not ok "*) not_ok "${line#not ok }" ;;
		"#"*) printf '%s\n' "$line" ;;
		*) printf '# %s\n' "$line" ;;
		esac
	done < <(json_checks 2>&1 || echo "not ok --json checks (python3 failed)")
fi

echo "1..$n"
[ "$failed" -eq 0 ]
