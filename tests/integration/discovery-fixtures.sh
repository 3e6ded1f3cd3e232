#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Host discovery against fake hosts: for every description in
# tests/fixtures/sysfs/*.json, build the tree (scripts/gen-sysfs.py), run
# the real binary on it (--sysfs-root, VMCTL_PROC_ROOT, VMCTL_DEV_ROOT) and
# compare, golden style, with tests/integration/discovery/HOST/:
#   gpu-list.ok, gpu-list.json.ok     `vmctl gpu list [--json]`
#   host-check.ok, host-check.json.ok `vmctl host-check [--json]`
# each ending with the exit status.  /dev/kvm is absent (an empty dev
# root); qemu-system-x86_64 and tmux are stubs on PATH printing fixed
# versions; OVMF is the host's (Debian's ovmf package), as in tests/golden.
# Then GPU selectors through `vmctl cmdline` (the table at the end).
#
# DISCOVERY_UPDATE=1 rewrites the .ok files; read the diff before
# committing it.
TEST_NAME=discovery-fixtures
. "$(dirname "$0")/lib.sh"
need python3 jq

FIX=$ROOT/tests/fixtures/sysfs
EXP=$ROOT/tests/integration/discovery
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-discovery.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export LC_ALL=C
unset VMCTL_STATE_DIR XDG_DATA_HOME
export VMCTL_STATE_DIR=$TMP/state

mkdir -p "$TMP/bin"
cat > "$TMP/bin/qemu-system-x86_64" <<'EOF'
#!/bin/sh
echo "QEMU emulator version 8.2.2 (Debian 1:8.2.2+ds-1)"
echo "Copyright (c) 2003-2023 Fabrice Bellard and the QEMU Project developers"
EOF
printf '#!/bin/sh\necho "tmux 3.4"\n' > "$TMP/bin/tmux"
chmod +x "$TMP/bin/"*
export PATH="$TMP/bin:$PATH"

failures=0
bad() { say "FAIL: $*"; failures=$((failures + 1)); }

# check NAME GOT: compare with $EXP/HOST/NAME.ok (or write it).
check() {
	local want=$EXP/$host/$1.ok
	sed "s|$TMP|@TMP@|g" "$2" > "$2.n"
	if [ "${DISCOVERY_UPDATE:-0}" = 1 ]; then
		mkdir -p "$EXP/$host"
		cp "$2.n" "$want"
	fi
	if ! diff -u --label "$want" --label "vmctl $1 ($host)" "$want" \
		"$2.n"; then
		bad "$host: $1 differs"
	fi
}

run() {   # run OUT ARGS...: vmctl's stdout and exit status into OUT
	local out=$1 rc=0
	shift
	"$VMCTL" "$@" > "$out" 2> "$out.err" || rc=$?
	cat "$out.err" >> "$out"
	echo "exit $rc" >> "$out"
}

hosts=()
for desc in "$FIX"/*.json; do
	host=$(basename "$desc" .json)
	hosts+=("$host")
	t=$TMP/$host
	python3 "$ROOT/scripts/gen-sysfs.py" "$desc" "$t" 2>/dev/null ||
		{ bad "$host: gen-sysfs.py failed"; continue; }
	mkdir -p "$t/dev" "$TMP/out/$host"
	o=$TMP/out/$host
	touch "$TMP/stamp"
	sleep 0.01
	export VMCTL_SYSFS_ROOT=$t/sys VMCTL_PROC_ROOT=$t/proc
	export VMCTL_DEV_ROOT=$t/dev
	run "$o/gpu-list" gpu list
	run "$o/gpu-list.json" gpu list --json
	run "$o/host-check" host-check
	run "$o/host-check.json" host-check --json
	[ -z "$(find "$t" -newer "$TMP/stamp" -print -quit)" ] ||
		bad "$host: vmctl wrote into the fake host"
	for f in gpu-list.json host-check.json; do
		sed '$d' "$o/$f" | jq -e . >/dev/null ||
			bad "$host: $f is not JSON"
	done
	# The JSON and the table agree on the verdicts.
	[ "$(sed '$d' "$o/gpu-list.json" | jq -r '.[] | .address + " " +
		.verdict')" = "$(awk '/^[0-9a-f][0-9a-f][0-9a-f][0-9a-f]:/ {
		print $1, $7 }' "$o/gpu-list")" ] ||
		bad "$host: table and JSON verdicts differ"
	for f in gpu-list gpu-list.json host-check host-check.json; do
		check "$f" "$o/$f"
	done
done

# With a usable /dev/kvm (the real one, when this machine has standard
# KVM or PVM: the fake proc says which module is loaded), the good hosts
# pass host-check.
t=$TMP/desktop-intel-nvidia
kvm=$(VMCTL_SYSFS_ROOT=$t/sys VMCTL_PROC_ROOT=$t/proc VMCTL_DEV_ROOT=/dev \
      "$VMCTL" host-check --json 2>/dev/null |
      jq -r '.checks[] | select(.name == "kvm") | .status' || true)
if [ "$kvm" = ok ]; then
	for host in desktop-intel-nvidia identical-pair rtx-4fn server-8gpu; do
		t=$TMP/$host
		VMCTL_SYSFS_ROOT=$t/sys VMCTL_PROC_ROOT=$t/proc \
			VMCTL_DEV_ROOT=/dev "$VMCTL" host-check -q \
			> "$TMP/hc" 2>&1 ||
			bad "$host: host-check fails with /dev/kvm: $(cat "$TMP/hc")"
	done
	for host in amd-sata-unsafe no-iommu; do
		t=$TMP/$host
		! VMCTL_SYSFS_ROOT=$t/sys VMCTL_PROC_ROOT=$t/proc \
			VMCTL_DEV_ROOT=/dev "$VMCTL" host-check -q \
			> /dev/null 2>&1 || bad "$host: host-check passes"
	done
else
	say "no usable /dev/kvm here: passing host-checks not tried"
fi
[ "${#hosts[@]}" -ge 6 ] || bad "only ${#hosts[@]} fixtures"

# Selectors, resolved by `cmdline`: HOST | gpu: entry | the vfio-pci
# hosts in the argv, or the error.
while IFS='|' read -r host sel want; do
	host=${host// /} sel=${sel# } sel=${sel% } want=${want# }
	[ -n "$host" ] || continue
	t=$TMP/$host
	printf 'name: sel\naccel: kvm\ngpu:\n  - %s\n' "$sel" > "$TMP/sel.yaml"
	got=$(VMCTL_SYSFS_ROOT=$t/sys VMCTL_PROC_ROOT=$t/proc \
	      VMCTL_DEV_ROOT=$t/dev "$VMCTL" cmdline "$TMP/sel.yaml" 2>&1 |
	      grep -o 'vfio-pci,host=[0-9a-f:.]*\|^vmctl: .*' |
	      sed 's/vfio-pci,host=//' | tr '\n' ' ' || true)
	got=${got% }
	[ "$got" = "$want" ] ||
		bad "$host: gpu {$sel}: got '$got', want '$want'"
done <<'EOF'
identical-pair | {vendor: NVIDIA} | 0000:42:00.0 0000:42:00.1
identical-pair | {vendor: nvidia, index: 1} | vmctl: gpu[0]: index 1, but only 1 GPU matches vendor NVIDIA (the host's boot display is not counted)
identical-pair | {id: "10de:2204"} | 0000:21:00.0 0000:21:00.1
identical-pair | {id: "10de:2204", index: 1} | 0000:42:00.0 0000:42:00.1
identical-pair | {id: "10de:2204", index: 2} | vmctl: gpu[0]: index 2, but only 2 GPUs match id 10de:2204
identical-pair | {address: "21:00.1"} | 0000:21:00.0 0000:21:00.1
identical-pair | {vendor: AMD} | vmctl: gpu[0]: no GPU matches vendor AMD on this host
rtx-4fn | {vendor: nvidia} | 0000:01:00.0 0000:01:00.1 0000:01:00.2 0000:01:00.3
rtx-4fn | {vendor: amd} | vmctl: gpu[0]: no GPU matches vendor AMD but 0000:04:00.0, the host's boot display (give its address to pass it anyway)
rtx-4fn | {address: "0000:04:00.0"} | 0000:04:00.0 0000:04:00.1 0000:04:00.2 0000:04:00.3 0000:04:00.4 0000:04:00.6
desktop-intel-nvidia | {vendor: Intel} | vmctl: gpu[0]: no GPU matches vendor Intel but 0000:00:02.0, the host's boot display (give its address to pass it anyway)
desktop-intel-nvidia | {vendor: NVIDIA} | 0000:01:00.0 0000:01:00.1
server-8gpu | {vendor: NVIDIA, index: 7} | 0000:bb:00.0
server-8gpu | {id: "10de:2330", index: 3} | 0000:3b:00.0
server-8gpu | {address: "0000:9a:00.0"} | 0000:9a:00.0
server-8gpu | {address: "0000:0a:00.0"} | 0000:0a:00.0
amd-sata-unsafe | {vendor: AMD} | 0000:06:00.0 0000:06:00.1
EOF

# Two entries selecting one card are refused.
t=$TMP/identical-pair
printf 'name: sel\naccel: kvm\ngpu:\n  - {vendor: NVIDIA}\n  - {address: "42:00.1"}\n' > "$TMP/two.yaml"
got=$(VMCTL_SYSFS_ROOT=$t/sys VMCTL_PROC_ROOT=$t/proc VMCTL_DEV_ROOT=$t/dev \
      "$VMCTL" cmdline "$TMP/two.yaml" 2>&1 || true)
[ "$got" = "vmctl: gpu[1] selects 0000:42:00.0, as gpu[0] does (use index to pick another card)" ] ||
	bad "same card twice: $got"

[ "$failures" -eq 0 ] || fail "$failures check(s) failed"
say "ok: ${#hosts[@]} hosts"
