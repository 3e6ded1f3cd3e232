#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `vmctl host` against fake hosts: for every description in
# tests/fixtures/sysfs/*.json, build the tree (scripts/gen-sysfs.py) and
# compare `vmctl host [--json]` with tests/integration/host-inventory/HOST/
# {host.ok,host.json.ok} (each ending with the exit status).  Then, on the
# two-node host, running VMs (a state dir whose vm.json names processes
# the fake proc shows alive) hold their memory and their GPUs, and a VM
# whose QEMU is gone holds nothing.
#
# HOST_INVENTORY_UPDATE=1 rewrites the .ok files; read the diff before
# committing it.
TEST_NAME=host-inventory
. "$(dirname "$0")/lib.sh"
need python3 jq

FIX=$ROOT/tests/fixtures/sysfs
EXP=$ROOT/tests/integration/host-inventory
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-host-inventory.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export LC_ALL=C
unset XDG_DATA_HOME VMCTL_HOST_RESERVE
export VMCTL_STATE_DIR=$TMP/state

failures=0
bad() { say "FAIL: $*"; failures=$((failures + 1)); }

check() {   # check HOST NAME GOT: compare with $EXP/HOST/NAME.ok
	local want=$EXP/$1/$2.ok
	if [ "${HOST_INVENTORY_UPDATE:-0}" = 1 ]; then
		mkdir -p "$EXP/$1"
		cp "$3" "$want"
	fi
	diff -u --label "$want" --label "vmctl $2 ($1)" "$want" "$3" ||
		bad "$1: $2 differs"
}

run() {   # run OUT ARGS...: vmctl's output and exit status into OUT
	local out=$1 rc=0
	shift
	"$VMCTL" "$@" > "$out" 2>&1 || rc=$?
	echo "exit $rc" >> "$out"
}

host_env() {
	export VMCTL_SYSFS_ROOT=$TMP/$1/sys VMCTL_PROC_ROOT=$TMP/$1/proc
	export VMCTL_DEV_ROOT=$TMP/$1/dev
}

n=0
for desc in "$FIX"/*.json; do
	host=$(basename "$desc" .json)
	python3 "$ROOT/scripts/gen-sysfs.py" "$desc" "$TMP/$host" 2>/dev/null ||
		{ bad "$host: gen-sysfs.py failed"; continue; }
	host_env "$host"
	o=$TMP/out-$host
	mkdir -p "$o"
	run "$o/host" host
	run "$o/host.json" host --json
	sed '$d' "$o/host.json" | jq -e . > /dev/null ||
		bad "$host: host --json is not JSON"
	check "$host" host "$o/host"
	check "$host" host.json "$o/host.json"
	n=$((n + 1))
done

j() { "$VMCTL" host --json | jq -c "$@"; }

# A host without NUMA directories or cpu topology: one node 0 with the
# CPUs cpuinfo counts, each its own core.
host_env desktop-intel-nvidia
[ "$(j '[.numa, (.nodes | length), .nodes[0].cpus, (.nodes[0].cores | length)]')" = \
  '[false,1,"0-7",8]' ] || bad "desktop: not one node of 8 CPUs: $(j .nodes)"
[ "$(j '[.gpus[] | [.address, .numa_node, .iommu_group]]')" = \
  '[["0000:00:02.0",null,2],["0000:01:00.0",null,1]]' ] ||
	bad "desktop: GPUs $(j .gpus)"

# Two nodes, SMT, CPU 31 offline, hugepages per node, GPUs on both.
host_env numa-2node-gpu
[ "$(j '[.numa, (.nodes | map(.cpus)), .online_cpus]')" = \
  '[true,["0-7,16-23","8-15,24-31"],"0-30"]' ] ||
	bad "numa: nodes $(j '.nodes | map(.cpus)')"
[ "$(j '[.nodes[] | .cores | length]')" = '[8,8]' ] ||
	bad "numa: cores per node $(j '[.nodes[] | .cores | length]')"
[ "$(j '.nodes[1].cores[7]')" = \
  '{"cpus":"15","package":1,"core_id":7,"online":true,"held_by":null}' ] ||
	bad "numa: core 15 (its sibling offline): $(j '.nodes[1].cores[7]')"
[ "$(j '.nodes[0].cores[0].cpus')" = '"0,16"' ] || bad "numa: SMT siblings"
[ "$(j '[.nodes[] | .hugepages[] | [.size, .total, .free]]')" = \
  '[["2M",4096,4096],["1G",0,0],["2M",0,0],["1G",32,24]]' ] ||
	bad "numa: hugepages $(j '[.nodes[] | .hugepages]')"
[ "$(j '[.nodes[] | .memory.total]')" = '[137438953472,137438953472]' ] ||
	bad "numa: node memory $(j '[.nodes[] | .memory]')"
[ "$(j '[.gpus[] | [.address, .numa_node, .iommu_group, .held_by]]')" = \
  '[["0000:03:00.0",0,2,null],["0000:18:00.0",0,8,null],["0000:99:00.0",1,10,null]]' ] ||
	bad "numa: GPUs $(j '.gpus')"

# Running VMs hold their memory and GPUs; a VM whose QEMU is gone (its
# pid alive with another start time) holds nothing.
proc=$TMP/numa-2node-gpu/proc
vm() {   # vm NAME PID STARTTIME SPEC
	mkdir -p "$VMCTL_STATE_DIR/vms/$1"
	printf '{"pid": %d, "starttime": %d, "created": 1}\n' "$2" "$3" \
		> "$VMCTL_STATE_DIR/vms/$1/vm.json"
	printf '%s\n' "$4" > "$VMCTL_STATE_DIR/vms/$1/spec.json"
}
mkdir -p "$proc/4242" "$proc/4243" "$proc/4244"
for pid in 4242 4243 4244; do
	echo "$pid (qemu-system-x86) S 1 $pid $pid 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 777 1 1" \
		> "$proc/$pid/stat"
done
vm gpu-a 4242 777 '{"name": "gpu-a", "memory": "16G", "accel": "kvm", "gpu": [{"address": "0000:99:00.0"}]}'
vm web 4243 777 '{"name": "web", "memory": "8G"}'
vm gone 4244 778 '{"name": "gone", "memory": "64G", "accel": "kvm", "gpu": [{"vendor": "NVIDIA"}]}'
[ "$(j '[.gpus[] | .held_by]')" = '[null,null,"gpu-a"]' ] ||
	bad "VMs: GPU holders $(j '[.gpus[] | .held_by]')"
[ "$(j '.claims')" = \
  '[{"vm":"gpu-a","memory":17179869184,"gpu_functions":["0000:99:00.0","0000:99:00.1"],"iommu_groups":[10],"cpus":"","exclusive":false,"usb":[]},{"vm":"web","memory":8589934592,"gpu_functions":[],"iommu_groups":[],"cpus":"","exclusive":false,"usb":[]}]' ] ||
	bad "VMs: claims $(j .claims)"
[ "$(j '.memory | [.held, .reserve, .free]')" = \
  '[25769803776,27487790694,221620312474]' ] ||
	bad "VMs: memory $(j .memory)"
run "$TMP/host-vms" host
check numa-2node-gpu host-vms "$TMP/host-vms"

[ "$n" -ge 7 ] || bad "only $n fixtures"
[ "$failures" -eq 0 ] || fail "$failures check(s) failed"
say "ok: $n hosts"
