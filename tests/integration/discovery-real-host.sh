#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Host discovery on the machine the tests run on, through the real /sys
# and /proc: `gpu list` and `host-check` must give a complete, correct
# report and exit as documented (gpu list 0; host-check 0 or 1, agreeing
# with its JSON), without writing anything.  What they say is checked
# against the kernel by other means: the GPU count from the class files,
# the root filesystem's and the default route's PCI devices from
# mountpoint/readlink (and udevadm, when it is installed).
TEST_NAME=discovery-real-host
. "$(dirname "$0")/lib.sh"
need jq
unset VMCTL_SYSFS_ROOT VMCTL_PROC_ROOT VMCTL_DEV_ROOT
[ -d /sys/bus ] || skip "no sysfs mounted"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-realhost.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export LC_ALL=C VMCTL_STATE_DIR=$TMP/state

rc=0
"$VMCTL" gpu list > "$TMP/list" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || fail "gpu list exited $rc: $(cat "$TMP/list")"
"$VMCTL" gpu list --json > "$TMP/list.json" || fail "gpu list --json failed"
jq -e 'type == "array"' "$TMP/list.json" >/dev/null ||
	fail "gpu list --json is not an array"
want=0
for c in /sys/bus/pci/devices/*/class; do
	[ -e "$c" ] || continue
	case $(cat "$c") in 0x03*) want=$((want + 1)) ;; esac
done
got=$(jq '[.[].functions[] | select(.class | startswith("03"))] | length' \
	"$TMP/list.json")
[ "$got" -eq "$want" ] ||
	fail "gpu list shows $got display functions, sysfs has $want"
jq -e 'all(.[]; .verdict | IN("ready", "bindable", "unsafe", "no-iommu"))' \
	"$TMP/list.json" >/dev/null || fail "a verdict outside the four"
if [ -z "$(ls -A /sys/kernel/iommu_groups 2>/dev/null)" ]; then
	jq -e 'all(.[]; .verdict == "no-iommu")' "$TMP/list.json" \
		>/dev/null || fail "no IOMMU groups here, yet a GPU is not no-iommu"
fi

rc=0
"$VMCTL" host-check > "$TMP/hc" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 1 ] ||
	fail "host-check exited $rc: $(cat "$TMP/hc")"
jrc=0
"$VMCTL" host-check --json > "$TMP/hc.json" || jrc=$?
[ "$jrc" -eq "$rc" ] || fail "host-check: exit $rc, with --json $jrc"
names=$(jq -r '[.checks[].name] | join(" ")' "$TMP/hc.json")
[ "$names" = "cpu kvm iommu interrupt-remapping cmdline vfio hugepages ovmf qemu tmux host-devices gpu" ] ||
	fail "host-check checks: $names"
jq -e 'all(.checks[]; (.status == "ok") == (.fix == null))' \
	"$TMP/hc.json" >/dev/null || fail "a warn/fail without a fix, or an ok with one"
[ "$(jq -r .ok "$TMP/hc.json")" = "$([ "$rc" -eq 0 ] && echo true || echo false)" ] ||
	fail "JSON ok disagrees with the exit status"
[ "$(grep -c '^\(ok\|warn\|fail\) ' "$TMP/hc")" -eq 12 ] ||
	fail "host-check prints $(grep -c '^\(ok\|warn\|fail\) ' "$TMP/hc") check lines"
msg() { jq -r --arg n "$1" '.checks[] | select(.name == $n) | .status + " " + .message' "$TMP/hc.json"; }

# The IOMMU verdict matches the kernel's groups.
if [ -n "$(ls -A /sys/kernel/iommu_groups 2>/dev/null)" ]; then
	case $(msg iommu) in ok*) ;; *) fail "groups exist, but: $(msg iommu)" ;; esac
else
	case $(msg iommu) in fail*) ;; *) fail "no groups, but: $(msg iommu)" ;; esac
fi
# The CPU flags.
if grep -qw -e vmx -e svm /proc/cpuinfo; then
	case $(msg cpu) in ok*) ;; *) fail "vmx/svm present, but: $(msg cpu)" ;; esac
else
	case $(msg cpu) in fail*) ;; *) fail "no vmx/svm, but: $(msg cpu)" ;; esac
fi

# The root filesystem's and the default route's PCI devices, found here
# the long way: the device number of /, its sysfs path; the route's
# interface, its sysfs path.
pci_of() { readlink -f "$1" 2>/dev/null | tr '/' '\n' |
	grep -E '^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$' | tail -n 1; }
hd=$(msg host-devices)
if command -v mountpoint >/dev/null && majmin=$(mountpoint -d / 2>/dev/null) &&
   [ "${majmin%%:*}" != 0 ]; then
	dev=$(pci_of "/sys/dev/block/$majmin")
	if [ -n "$dev" ]; then
		case $hd in *"root filesystem "*" on $dev"*) ;;
		*) fail "root filesystem is on $dev; host-check says: $hd" ;; esac
		if command -v udevadm >/dev/null; then
			u=$(udevadm info -q path -d "$majmin" 2>/dev/null | tr '/' '\n' |
			    grep -E '^[0-9a-f]{4}:' | tail -n 1 || true)
			[ -z "$u" ] || [ "$u" = "$dev" ] ||
				fail "udev puts the root filesystem on $u, sysfs on $dev"
		fi
	fi
fi
iface=$(awk 'NR > 1 && $2 == "00000000" && $8 == "00000000" { print $1; exit }' \
	/proc/net/route 2>/dev/null || true)
if [ -n "$iface" ]; then
	dev=$(pci_of "/sys/class/net/$iface")
	if [ -n "$dev" ]; then
		case $hd in *"default route $iface on $dev"*) ;;
		*) fail "default route $iface is on $dev; host-check says: $hd" ;; esac
	fi
fi

# Nothing written: vmctl's own opens are read-only, except /dev/kvm
# (KVM's ioctls need O_RDWR) and the pipes and /dev/null of proc_run.
if command -v strace >/dev/null; then
	for cmd in "gpu list --json" "host-check"; do
		# shellcheck disable=SC2086
		strace -qq -o "$TMP/trace" -e trace=open,openat,creat,mkdir,mkdirat,unlink,unlinkat,rename,renameat,renameat2,truncate,symlink,symlinkat,link,linkat,chmod,fchmodat \
			"$VMCTL" $cmd > /dev/null 2>&1 || true
		bad=$(grep -E 'O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|^(creat|mkdir|unlink|rename|truncate|symlink|link|chmod|fchmodat)' \
			"$TMP/trace" | grep -v -e '"/dev/kvm"' -e '= -1 ' || true)
		[ -z "$bad" ] || fail "vmctl $cmd writes: $bad"
	done
else
	say "strace not installed: the no-write check is skipped"
fi
say "ok: $want display function(s); host-check exit $rc; $hd"
