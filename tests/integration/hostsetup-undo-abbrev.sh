#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# host-setup --undo needs its command and its option in full: after an
# applied host-setup on the fake Debian root, `vmctl host-s --undo` and
# `vmctl host-setup --und` are usage errors (64) naming what to type, and
# change nothing and run nothing; `vmctl host-setup --undo` then restores
# the root byte for byte.  See hostsetup-lib.sh.
TEST_NAME=hostsetup-undo-abbrev
. "$(dirname "$0")/hostsetup-lib.sh"
hs_init debian intel-nvidia
HS_SELECTOR=NVIDIA

hs_fresh
hs_apply
hs_ok "apply" || hs_done
cp -a "$HS_ROOT" "$HS_TMP/applied"
: > "$HS_LOG"

# WORDS|what the error must say
for c in 'host-s --undo|"host-s": type host-setup in full' \
	'host-setu --undo|"host-setu": type host-setup in full' \
	'host-setup --und|"--und": type --undo in full' \
	'host-setup --u|"--u": type --undo in full' \
	'host-se --un|"--un": type --undo in full'; do
	words=${c%%|*}
	# shellcheck disable=SC2086  # the words are split on purpose
	hs_vmctl $words --root "$HS_ROOT"
	if [ "$HS_RC" != 64 ]; then
		hs_fail "$words: exit status $HS_RC, not 64"
		hs_show
	elif ! grep -qF -- "${c#*|}" "$HS_ERR" ||
		! grep -q '^usage: vmctl host-setup' "$HS_ERR"; then
		hs_fail "$words: the error does not say: ${c#*|}"
		hs_show
	fi
	hs_same_tree "$HS_ROOT" "$HS_TMP/applied" "$words"
	hs_no_calls "$words"
	[ -e "$HS_STATE/host-setup/manifest.json" ] ||
		hs_fail "$words: the manifest is gone"
done

hs_undo_to_pristine "after the refused abbreviations"
hs_done
