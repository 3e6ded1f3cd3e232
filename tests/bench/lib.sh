# SPDX-License-Identifier: GPL-2.0-or-later
# Shared helpers for the benches (sourced, not run).

# med_min_max VALUES...: "MEDIAN MIN MAX" of the numbers given, or "- - -"
# for none.
med_min_max() {
	printf '%s\n' "$@" | sed '/^$/d' | sort -n | awk '
		{ v[NR] = $1 }
		END {
			if (NR == 0) { print "- - -"; exit }
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			print m, v[1], v[NR]
		}'
}
