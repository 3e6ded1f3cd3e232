#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Debian package scripts/build-deb.sh left in build/deb (the CI step
# before `make test` builds it; skipped when there is none): exactly the
# files `make install` puts there (binary, man pages, completions, example
# specs, docs, the systemd unit naming /usr/bin/vmctl); its vmctl is this
# tree's (same --version and --help: a stale package fails); its Depends
# name the package of every library the binary links and the programs it
# runs; the completion scripts parse.
TEST_NAME=package
. "$(dirname "$0")/lib.sh"
need dpkg-deb dpkg-query objdump

deb=$(ls "$ROOT"/build/deb/vmctl_*.deb 2>/dev/null | tail -n 1) || true
[ -n "$deb" ] || skip "no build/deb/vmctl_*.deb (scripts/build-deb.sh builds it)"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-package.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
say "checking ${deb#"$ROOT"/}"

want="lib/systemd/system/vmctl@.service
usr/bin/vmctl
usr/share/bash-completion/completions/vmctl
usr/share/doc/vmctl/ARCHITECTURE.md.gz
usr/share/doc/vmctl/README.md.gz
usr/share/doc/vmctl/changelog.gz
usr/share/doc/vmctl/copyright
usr/share/doc/vmctl/json.md.gz
usr/share/doc/vmctl/spec.md.gz
usr/share/fish/vendor_completions.d/vmctl.fish
usr/share/man/man1/vmctl.1.gz
usr/share/man/man5/vmctl-spec.5.gz
$(cd "$ROOT" && ls configs/*.yaml | sed 's|^|usr/share/vmctl/|')
usr/share/zsh/vendor-completions/_vmctl"
got=$(dpkg-deb --fsys-tarfile "$deb" | tar -t | grep -v '/$' | sed 's|^\./||' | sort)
[ "$got" = "$(sort <<<"$want")" ] ||
	fail "the package's files differ: $(diff <(sort <<<"$want") <(echo "$got") | grep '^[<>]' | tr '\n' ' ')"

dpkg-deb -x "$deb" "$TMP/x"
x=$TMP/x
version="vmctl $(sed -n 's/^VERSION *:= *//p' "$ROOT/Makefile")"
[ "$("$x/usr/bin/vmctl" --version)" = "$version" ] || fail "the packaged vmctl is not $version"
[ "$(dpkg-deb -f "$deb" Version)" = "${version#vmctl }" ] ||
	fail "package version $(dpkg-deb -f "$deb" Version), Makefile's ${version#vmctl }"
diff <("$x/usr/bin/vmctl" --help) <("$VMCTL" --help) >/dev/null ||
	fail "the packaged vmctl's --help differs from $VMCTL's: build/deb is stale (rerun scripts/build-deb.sh)"
man1=$(zcat "$x/usr/share/man/man1/vmctl.1.gz") || fail "vmctl.1.gz does not unpack"
grep -q '^\.TH VMCTL 1' <<<"$man1" || fail "vmctl.1 is no man page"
grep -q 'enable' <<<"$man1" || fail "vmctl.1 lacks the enable command"
grep -qx 'ExecStart=/usr/bin/vmctl start %i' "$x/lib/systemd/system/vmctl@.service" ||
	fail "the packaged unit does not run /usr/bin/vmctl"
[ -x "$x/usr/bin/vmctl" ] || fail "usr/bin/vmctl is not executable"

# Depends: every library's package, linked or opened when needed
# (src/lazylib.c's sonames), and what vmctl runs.
deps=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/^ *//; s/[ (].*//')
for p in qemu-system-x86 qemu-utils tmux openssh-client; do
	grep -qx "$p" <<<"$deps" || fail "Depends lacks $p: $(tr '\n' ' ' <<<"$deps")"
done
n=0
libs=$(ldconfig -p)
while read -r lib; do
	# (no early exit in a pipeline: pipefail would fail on SIGPIPE)
	path=$(awk -v l="$lib" '$1 == l && p == "" { p = $NF } END { print p }' <<<"$libs")
	[ -n "$path" ] || fail "cannot find $lib"
	owner=$(dpkg-query -S "$(readlink -f "$path")" 2>/dev/null ||
		dpkg-query -S "$path") || fail "no package owns $path"
	pkg=$(awk -F: 'NR == 1 { print $1 }' <<<"$owner")
	grep -qx "$pkg" <<<"$deps" || fail "Depends lacks $pkg (for $lib)"
	n=$((n + 1))
done < <(objdump -p "$x/usr/bin/vmctl" | awk '$1 == "NEEDED" { print $2 }'
	 grep -o '"lib[a-z0-9-]*\.so\.[0-9]*"' "$ROOT/src/lazylib.c" | tr -d '"')
[ "$n" -ge 9 ] || fail "only $n libraries linked or opened?"
say "Depends covers the $n libraries vmctl links or opens and the programs it runs"

bash -n "$x/usr/share/bash-completion/completions/vmctl" || fail "the bash completion does not parse"
if command -v zsh >/dev/null; then
	zsh -n "$x/usr/share/zsh/vendor-completions/_vmctl" || fail "the zsh completion does not parse"
fi
if command -v fish >/dev/null; then
	fish --no-execute "$x/usr/share/fish/vendor_completions.d/vmctl.fish" ||
		fail "the fish completion does not parse"
fi
say "PASS"
