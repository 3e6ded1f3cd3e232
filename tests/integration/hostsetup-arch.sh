#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# host-setup on a fake Arch Linux on an AMD CPU (systemd-boot with /etc/kernel/cmdline, mkinitcpio) root (tests/hostsetup/arch/), for the host of
# tests/hostsetup/hosts/amd-nvidia.json: the plan (--dry-run), the files and
# commands of --yes, "Already configured", byte-exact --undo, SIGKILL at
# every step then a rerun, and a failing regeneration rolled back.  See
# hostsetup-lib.sh.
TEST_NAME=hostsetup-arch
. "$(dirname "$0")/hostsetup-lib.sh"
hs_init arch amd-nvidia
HS_SELECTOR=NVIDIA
hs_flavour_checks mkinitcpio
hs_done
