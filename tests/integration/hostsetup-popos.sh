#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# host-setup on a fake Pop!_OS 22.04 (kernelstub, initramfs-tools) root (tests/hostsetup/popos/), for the host of
# tests/hostsetup/hosts/intel-nvidia.json: the plan (--dry-run), the files and
# commands of --yes, "Already configured", byte-exact --undo, SIGKILL at
# every step then a rerun, and a failing regeneration rolled back.  See
# hostsetup-lib.sh.
TEST_NAME=hostsetup-popos
. "$(dirname "$0")/hostsetup-lib.sh"
hs_init popos intel-nvidia
HS_SELECTOR=NVIDIA
HS_FLAGS=--permanent   # no one-shot boot with this bootloader
hs_flavour_checks kernelstub update-initramfs
hs_done
