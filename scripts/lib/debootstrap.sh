# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the image builders that debootstrap a Debian tree (sourced,
# not run): the mirror the host's apt uses, a chroot helper, and the
# mounts of a build tree, always undone.  The sourcing script defines
# log() and die() and sets SUITE (and ROOTFS before in_chroot).
# (build-cloud-image.sh, which predates this file, keeps its own
# apt_sources and find_mirror.)  And the BIOS disk of an image booted by
# GRUB: grub_bios_core, mbr_disk.

# "URI SUITE" for every enabled deb source with component main, from
# the one-line (.list) and deb822 (.sources) files of the host's apt.
apt_sources() {
    local f
    local files=()
    [[ -f /etc/apt/sources.list ]] && files+=(/etc/apt/sources.list)
    for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [[ -f "$f" ]] && files+=("$f")
    done
    [[ ${#files[@]} -gt 0 ]] || return 0
    awk '
        function flush() {
            if (types ~ /(^| )deb( |$)/ && comps ~ /(^| )main( |$)/ && enabled != "no") {
                n = split(uris, u, " "); m = split(suites, s, " ")
                for (i = 1; i <= n; i++) for (j = 1; j <= m; j++) print u[i], s[j]
            }
            types = uris = suites = comps = ""; enabled = ""
        }
        FNR == 1 { flush(); deb822 = (FILENAME ~ /\.sources$/) }
        deb822 {
            if ($0 ~ /^[[:space:]]*$/) { flush(); next }
            if ($0 ~ /^#/) next
            key = tolower($1); sub(/:$/, "", key)
            val = $0; sub(/^[^:]*:[[:space:]]*/, "", val)
            if (key == "types") types = val
            else if (key == "uris") uris = val
            else if (key == "suites") suites = val
            else if (key == "components") comps = val
            else if (key == "enabled") enabled = tolower(val)
            next
        }
        /^[[:space:]]*deb[[:space:]]/ {
            i = 2
            if ($i ~ /^\[/) { while ($i !~ /\]$/ && i < NF) i++; i++ }
            uri = $i; suite = $(i + 1); c = ""
            for (k = i + 2; k <= NF; k++) c = c " " $k
            if (c ~ / main( |$)/) print uri, suite
        }
        END { flush() }
    ' "${files[@]}"
}

# find_mirror main|security: the host's mirror for SUITE (or SUITE-security).
find_mirror() {
    # (reads all input: an early exit could SIGPIPE apt_sources)
    apt_sources | awk -v want="$1" -v suite="$SUITE" '
        found != "" || $1 !~ /^https?:\/\// { next }
        want == "main" && $2 == suite { found = $1 }
        want == "security" && $2 == suite "-security" { found = $1 }
        END { if (found != "") print found }
    '
}

# debian_mirrors: MIRROR and SECURITY_MIRROR ("" for none), from
# VMCTL_DEBIAN_MIRROR / VMCTL_DEBIAN_SECURITY_MIRROR or the host's apt.
debian_mirrors() {
    MIRROR=${VMCTL_DEBIAN_MIRROR:-$(find_mirror main)}
    MIRROR=${MIRROR:-http://deb.debian.org/debian}
    MIRROR=${MIRROR%/}
    SECURITY_MIRROR=${VMCTL_DEBIAN_SECURITY_MIRROR:-$(find_mirror security)}
    SECURITY_MIRROR=${SECURITY_MIRROR%/}
    [[ "$SECURITY_MIRROR" != none ]] || SECURITY_MIRROR=""
}

# Mount points at or below $1, deepest first (octal escapes decoded).
mounts_below() {
    local mp
    awk '{ print $5 }' /proc/self/mountinfo | while IFS= read -r mp; do
        mp=$(printf '%b' "$mp")
        [[ "$mp" == "$1" || "$mp" == "$1"/* ]] && printf '%s\n' "$mp"
    done | sort -r
}

unmount_all() {
    local mp ok=0
    for _ in 1 2 3; do
        ok=1
        while IFS= read -r mp; do
            [[ -n "$mp" ]] || continue
            umount -- "$mp" 2>/dev/null || umount -l -- "$mp" 2>/dev/null || ok=0
        done < <(mounts_below "$1")
        [[ -z "$(mounts_below "$1")" ]] && return 0
        sleep 1
    done
    [[ $ok -eq 1 ]]
}

# in_chroot CMD...: run CMD in ROOTFS with a clean, non-interactive
# environment.
in_chroot() {
    chroot "$ROOTFS" /usr/bin/env -i \
        PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
        DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true \
        "$@"
}

# debootstrap_minbase LOG: debootstrap --variant=minbase SUITE into
# ROOTFS from MIRROR, its output in LOG (shown on failure).
debootstrap_minbase() {
    local keyring=()
    [[ -f /usr/share/keyrings/debian-archive-keyring.gpg ]] &&
        keyring=(--keyring=/usr/share/keyrings/debian-archive-keyring.gpg)
    if ! debootstrap --variant=minbase --components=main "${keyring[@]}" \
        "$SUITE" "$ROOTFS" "$MIRROR" >"$1" 2>&1; then
        tail -n 30 -- "$1" >&2
        [[ -f "$ROOTFS/debootstrap/debootstrap.log" ]] &&
            tail -n 30 -- "$ROOTFS/debootstrap/debootstrap.log" >&2
        die "debootstrap failed"
    fi
    # debootstrap normally unmounts what it mounted; make sure.
    unmount_all "$ROOTFS" || die "cannot unmount debootstrap's mounts"
    {
        printf 'deb %s %s main\n' "$MIRROR" "$SUITE"
        printf 'deb %s %s-updates main\n' "$MIRROR" "$SUITE"
        [[ -z "$SECURITY_MIRROR" ]] ||
            printf 'deb %s %s-security main\n' "$SECURITY_MIRROR" "$SUITE"
    } >"$ROOTFS/etc/apt/sources.list"
    # No daemons may start inside the build chroot.
    printf '#!/bin/sh\nexit 101\n' >"$ROOTFS/usr/sbin/policy-rc.d"
    chmod 0755 "$ROOTFS/usr/sbin/policy-rc.d"
    # No documentation (copyright files stay).
    cat >"$ROOTFS/etc/dpkg/dpkg.cfg.d/01-vmctl-nodoc" <<'EOF'
# vmctl test image: no documentation
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
EOF
}

# chroot_mounts: proc, sysfs and devpts in ROOTFS (unmount_all undoes them).
chroot_mounts() {
    mount -t proc proc "$ROOTFS/proc"
    mount -t sysfs sysfs "$ROOTFS/sys"
    mount -t devpts -o newinstance,ptmxmode=0666 devpts "$ROOTFS/dev/pts"
}

# rootfs_slim: what a built tree need not carry: apt lists and caches,
# documentation debootstrap unpacked before the path-exclude rules,
# logs, the build host's resolv.conf.
rootfs_slim() {
    rm -f -- "$ROOTFS/usr/sbin/policy-rc.d" "$ROOTFS/etc/resolv.conf"
    : >"$ROOTFS/etc/resolv.conf"
    find "$ROOTFS/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
    find "$ROOTFS/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf -- "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/*
    rm -rf -- "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin \
        "$ROOTFS"/var/cache/apt/archives/*.deb \
        "$ROOTFS"/var/cache/debconf/*-old "$ROOTFS"/var/lib/dpkg/*-old \
        "$ROOTFS"/tmp/* "$ROOTFS"/var/tmp/* "$ROOTFS/root/.bash_history"
    mkdir -p -- "$ROOTFS/var/lib/apt/lists/partial"
    find "$ROOTFS/var/log" -type f \( -name '*.gz' -o -name '*.[0-9]' \) -delete
    find "$ROOTFS/var/log" -type f -exec truncate -s 0 {} +
}

# grub_bios_core DIR: GRUB for BIOS as grub-install lays it out, in
# DIR/i386-pc (DIR: ROOTFS/boot/grub, or a staging dir copied there
# later): the modules and boot.img of ROOTFS's grub-pc-bin, and a core.img
# from ROOTFS's own grub-mkimage that finds the filesystem ROOT_UUID
# (biosdisk, part_msdos, ext2) and reads its /boot/grub.
grub_bios_core() {
    local dir=$1 stage=$ROOTFS/tmp/vmctl-grub-core
    mkdir -p -- "$dir/i386-pc" "$stage"
    cp -- "$ROOTFS"/usr/lib/grub/i386-pc/*.mod "$ROOTFS"/usr/lib/grub/i386-pc/*.lst \
        "$ROOTFS/usr/lib/grub/i386-pc/boot.img" "$dir/i386-pc/"
    cat >"$stage/load.cfg" <<EOF
search.fs_uuid $ROOT_UUID root hd0,msdos1
set prefix=(\$root)'/boot/grub'
EOF
    in_chroot grub-mkimage -O i386-pc -d /usr/lib/grub/i386-pc \
        -c /tmp/vmctl-grub-core/load.cfg -p '(hd0,msdos1)/boot/grub' \
        -o /tmp/vmctl-grub-core/core.img biosdisk part_msdos ext2 search_fs_uuid ||
        die "grub-mkimage failed"
    mv -- "$stage/load.cfg" "$stage/core.img" "$dir/i386-pc/"
    rmdir -- "$stage"
}

# mbr_disk RAW PART_MB GRUBDIR: RAW, a sparse MBR disk of PART_MB + 1 MiB
# holding ROOTFS as ext4 (label "root", uuid ROOT_UUID) in one bootable
# partition from 1 MiB, GRUBDIR/i386-pc's boot.img in the MBR and its
# core.img from sector 1: what grub-bios-setup does (core.img's first
# sector already lists the rest: grub-mkimage fills in its length).  No
# loop device, no mount.
mbr_disk() {
    local raw=$1 part_mb=$2 core=$3/i386-pc/core.img
    truncate -s "$((part_mb + 1))M" "$raw"
    if ! mke2fs -q -F -t ext4 -L root -U "$ROOT_UUID" -d "$ROOTFS" \
        -E offset=$((1024 * 1024)),lazy_itable_init=1,lazy_journal_init=1 \
        "$raw" "${part_mb}M" >"$WORK/mke2fs.log" 2>&1; then
        cat -- "$WORK/mke2fs.log" >&2
        die "mke2fs failed"
    fi
    printf 'label: dos\nstart=2048, type=83, bootable\n' |
        sfdisk -q --wipe=never --no-reread --no-tell-kernel "$raw" >"$WORK/sfdisk.log" 2>&1 ||
        { cat -- "$WORK/sfdisk.log" >&2; die "sfdisk failed"; }
    [[ $(stat -c %s "$core") -lt $((2047 * 512)) ]] || die "core.img does not fit before the partition"
    dd if="$3/i386-pc/boot.img" of="$raw" bs=440 count=1 conv=notrunc status=none
    dd if="$core" of="$raw" bs=512 seek=1 conv=notrunc status=none
}
