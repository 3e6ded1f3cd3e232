#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# /test/main of the "GPU host" guest (busybox ash), run by its /init.
# tests/integration/vfio-real-kernel.sh boots the guest twice and reads
# what this prints on the serial console:
#
#   VFIOTEST step=NAME rc=N              a vmctl command (or check) ended
#   VFIOTEST begin=NAME / end=NAME       NAME's output (stdout, then stderr
#                                        as NAME.err) between these lines
#   VFIOTEST driver tag=T fn=F addr=A driver=D group=G
#                                        where function F (gpu|audio) is
#   VFIOTEST vfio tag=T nodes=...        /dev/vfio at that moment
#   VFIOTEST file=PATH (base64 between begin=file:PATH / end=file:PATH)
#   VFIOTEST done boot=N
#
# Boot 1 (no /test/bootN): a host as after a normal boot (native drivers,
# no vfio loaded): host-check, gpu list, host-setup --now, release,
# a VM with the GPU managed, a second VM refused its GPU, stop, kill, a
# VM over a card bound before it started, a VM whose QEMU fails.
# Boot 2 (/test/boot2; GRUB's file and initramfs-tools' modules as boot 1
# left them, the kernel command line GRUB would build from them): the
# modules initramfs-tools would load first, then the native drivers; the
# functions must be on vfio-pci.  Boot 3 (/test/boot3; boot 1's command
# line and the modprobe.d file host-setup left): loading the native drivers
# must bring vfio-pci first (softdep) with the ids (options).

GPU_ID=1af4:1050
VM=gpuvm
QMP_PORT=4444

# Kernel messages stay in dmesg (printed at the end): on the console they
# would cut into the lines the host parses.
echo 1 >/proc/sys/kernel/printk

say() { echo "VFIOTEST $*"; }

# Debian's busybox runs its own applets before anything on PATH (it is
# built with FEATURE_SH_STANDALONE): call kmod's modprobe by its path.
# (vmctl itself finds kmod through PATH, as execvp does.)
modprobe() { /usr/sbin/modprobe "$@"; }

# run NAME CMD...: run a command, its stdout and stderr in blocks.
run() {
    name=$1
    shift
    echo "VFIOTEST begin=$name"
    # Bounded: a hung command fails its step instead of the whole boot
    # (our own shell functions bound themselves).
    case $(type "$1") in
    *function*) "$@" >/tmp/out.$$ 2>/tmp/err.$$ ;;
    *) timeout 120 "$@" >/tmp/out.$$ 2>/tmp/err.$$ ;;
    esac
    rc=$?
    cat /tmp/out.$$
    echo "VFIOTEST end=$name"
    echo "VFIOTEST begin=$name.err"
    cat /tmp/err.$$
    echo "VFIOTEST end=$name.err"
    say "step=$name rc=$rc"
    say "time step=$name end=$(cut -d' ' -f1 /proc/uptime)"
    rm -f /tmp/out.$$ /tmp/err.$$
    return $rc
}

# The stand-in GPU's functions, found by id: GPU=0000:01:00.0 and the
# other function(s) of its slot.
GPU=""
for d in /sys/bus/pci/devices/*; do
    if [ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1af4:0x1050 ]; then
        GPU=${d##*/}
    fi
done
if [ -z "$GPU" ]; then
    say "error no $GPU_ID device"
    exit 1
fi
AUDIO=${GPU%.0}.1
say "functions gpu=$GPU audio=$AUDIO"

drivers() {
    for f in gpu audio; do
        if [ $f = gpu ]; then a=$GPU; else a=$AUDIO; fi
        drv=$(readlink "/sys/bus/pci/devices/$a/driver")
        grp=$(readlink "/sys/bus/pci/devices/$a/iommu_group")
        say "driver tag=$1 fn=$f addr=$a driver=${drv##*/} group=${grp##*/}"
    done
    nodes=""
    for n in /dev/vfio/*; do
        [ -e "$n" ] && nodes="$nodes${n##*/} "
    done
    say "vfio tag=$1 nodes=$nodes"
}

# show_file PATH [TAG]: the file, base64, as block TAG:PATH (file:PATH)
show_file() {
    echo "VFIOTEST begin=${2:-file}:$1"
    if [ -e "$1" ]; then base64 "$1"; fi
    echo "VFIOTEST end=${2:-file}:$1"
}

# What udev coldplug does on a host where nothing claims the card early.
# modprobe is kmod's (as on Debian): it takes module options from the
# kernel command line and /etc/modprobe.d, and follows softdeps.
native_drivers() {
    for m in virtio_pci snd-hda-intel virtio-gpu; do
        modprobe $m || say "warning modprobe $m failed"
    done
}

vfio_loaded() {
    say "modules tag=$1 vfio_pci=$([ -e /sys/module/vfio_pci ] && echo y || echo n) vfio_iommu_type1=$([ -e /sys/module/vfio_iommu_type1 ] && echo y || echo n)"
}

qmp_query() {
    # A second QMP monitor on loopback TCP (busybox nc speaks no unix
    # sockets); vmctl keeps its own qmp.sock.
    {
        echo '{"execute":"qmp_capabilities"}'
        sleep 1
        echo "{\"execute\":\"$1\"}"
        sleep 2
    } | timeout 15 nc 127.0.0.1 $QMP_PORT | grep '"return"' | tail -n 1
}

nested_vfio_fds() {
    pid=$(vmctl status $VM --json | sed -n 's/.*"pid":[[:space:]]*\([0-9][0-9]*\).*/\1/p' | head -n 1)
    say "nested pid=$pid"
    [ -n "$pid" ] || return 1
    for fd in /proc/"$pid"/fd/*; do
        readlink "$fd"
    done | grep '^/dev/vfio/' | sort -u | tr '\n' ' '
    echo
}

# The nested QEMU's credentials (Uid/Gid: real, effective, saved, fs) and
# its locked-memory limit: it gave up root, and VFIO can still pin RAM.
nested_creds() {
    pid=$(vmctl status $VM --json | sed -n 's/.*"pid":[[:space:]]*\([0-9][0-9]*\).*/\1/p' | head -n 1)
    [ -n "$pid" ] || return 1
    grep -E '^(Uid|Gid):' /proc/"$pid"/status
    grep -E '^Max locked memory' /proc/"$pid"/limits
    grep vmctl-qemu /etc/passwd
}

boot1() {
    native_drivers
    drivers boot1-start
    run hostcheck vmctl host-check
    run gpulist-json vmctl gpu list --json
    run gpulist vmctl gpu list
    run lsmod-before lsmod
    vfio_loaded before-hostsetup
    run hostsetup vmctl host-setup $GPU_ID --now --permanent --yes
    drivers after-hostsetup
    vfio_loaded after-hostsetup
    # Whatever host-setup managed, go on from a bound state so the steps
    # after it are still tested (the host fails the hostsetup step itself).
    gd=$(readlink "/sys/bus/pci/devices/$GPU/driver")
    if [ "${gd##*/}" != vfio-pci ]; then
        say "note recovering: modprobe vfio-pci, vmctl bind"
        modprobe vfio-pci
        run bind-recover vmctl bind $GPU_ID
        drivers after-bind-recover
    fi
    show_file /etc/default/grub
    show_file /etc/modprobe.d/vfio.conf
    show_file /etc/initramfs-tools/modules
    show_file /var/log/vmctl-regen.log
    run grub-cmdline sh -c '. /etc/default/grub && echo "$GRUB_CMDLINE_LINUX $GRUB_CMDLINE_LINUX_DEFAULT"'
    run hostsetup-again vmctl host-setup $GPU_ID --now --permanent --yes
    run gpulist-bound vmctl gpu list --json
    run release vmctl release $GPU_ID
    drivers after-release
    run gpulist-released vmctl gpu list --json

    # A managed GPU is for hosts that did not run host-setup: start from
    # one where the vfio modules are not loaded.
    modprobe -r vfio-pci vfio_iommu_type1
    vfio_loaded before-create
    run create vmctl create /test/gpuvm.yaml
    gd=$(readlink "/sys/bus/pci/devices/$GPU/driver")
    if [ "${gd##*/}" != vfio-pci ]; then
        say "note recovering: modprobe vfio-pci, create again"
        drivers after-failed-create
        run destroy-failed vmctl destroy $VM --force
        modprobe vfio-pci
        run create-recover vmctl create /test/gpuvm.yaml
    fi
    drivers vm-running
    run status vmctl status $VM --json
    run nested-fds nested_vfio_fds
    run nested-creds nested_creds
    run query-pci qmp_query query-pci
    # A second VM asking for the GPU the first one holds is refused
    # before anything is bound or launched; the first keeps its card.
    run create-second vmctl create /test/gpuvm2.yaml
    drivers after-create-second
    run status-after-second vmctl status $VM --json
    run nested-fds-after-second nested_vfio_fds
    run stop vmctl stop $VM --timeout 5
    drivers after-stop
    # A QEMU that dies (SIGKILL through vmctl kill) gives its GPU back too.
    run start vmctl start $VM
    drivers vm-restarted
    run kill vmctl kill $VM
    drivers after-kill
    run destroy vmctl destroy $VM
    # A card on vfio-pci before the VM started (a boot-time binding)
    # stays there when the VM stops, managed or not.
    modprobe vfio-pci
    run bind-prebound vmctl bind $GPU_ID
    run create-prebound vmctl create /test/gpuvm.yaml
    drivers prebound-running
    run stop-prebound vmctl stop $VM --timeout 5
    drivers after-stop-prebound
    run destroy-prebound vmctl destroy $VM
    run release-prebound vmctl release $GPU_ID
    drivers after-release-prebound
    # A start that fails after vmctl bound the GPU (QEMU refuses its
    # command line) must give the functions back too.
    # A ROM for another card is refused before anything is bound.
    run create-badrom vmctl create /test/gpuvm-badrom.yaml
    drivers after-create-badrom
    drivers before-create-bad
    run create-bad vmctl create /test/gpuvm-bad.yaml
    drivers after-create-bad
    # What host-setup left behind at the end, for the next boots.
    show_file /etc/default/grub final
    show_file /etc/modprobe.d/vfio.conf final
    show_file /etc/initramfs-tools/modules final
}

boot2() {
    run cmdline cat /proc/cmdline
    # initramfs-tools loads /etc/initramfs-tools/modules first (kmod
    # adds the options of the kernel command line), then udev brings the
    # rest.
    grep -v '^[[:space:]]*#' /etc/initramfs-tools/modules | while read -r m args; do
        [ -n "$m" ] || continue
        # shellcheck disable=SC2086
        modprobe "$m" $args || say "warning modprobe $m failed"
    done
    native_drivers
    drivers boot2
    run hostcheck2 vmctl host-check
    run gpulist2-json vmctl gpu list --json
    # Giving the card back to the host after such a boot: no record of
    # the drivers it had, and vfio-pci (loaded first, with the ids) would
    # take it again on a plain re-probe.
    run release2 vmctl release $GPU_ID
    drivers after-release2
}

# Boot 3: the boot command line without vfio-pci.ids and host-setup's
# modprobe.d file: the native drivers' softdeps must pull vfio-pci in
# first, with its ids option.
boot3() {
    run cmdline cat /proc/cmdline
    native_drivers
    drivers boot3
    vfio_loaded boot3
    run gpulist3-json vmctl gpu list --json
}

if [ -e /test/boot2 ]; then
    boot2
    n=2
elif [ -e /test/boot3 ]; then
    boot3
    n=3
else
    boot1
    n=1
fi
run dmesg sh -c 'dmesg | grep -iE "vfio|dmar|iommu|virtio|snd_hda|hda" | tail -n 60'
say "done boot=$n"
