#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# host-setup on a fake Debian 12 (GRUB, initramfs-tools) root (tests/hostsetup/debian/), for the host of
# tests/hostsetup/hosts/intel-nvidia.json: the plan (--dry-run), the files and
# commands of --yes, "Already configured", byte-exact --undo, SIGKILL at
# every step then a rerun, and a failing regeneration rolled back.  See
# hostsetup-lib.sh.
TEST_NAME=hostsetup-debian
. "$(dirname "$0")/hostsetup-lib.sh"
hs_init debian intel-nvidia
HS_SELECTOR=NVIDIA
hs_flavour_checks update-grub update-initramfs
hs_done
