/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_HOSTSETUP_FACTS_H
#define VMCTL_HOSTSETUP_FACTS_H

#include "vmctl/env.h"

/*
 * What host-setup needs to know about the machine rather than its files:
 * the CPU, the modules behind PCI drivers.  Read through the roots in
 * struct vmctl_env (PROC, SYSFS).
 */

/* "GenuineIntel", "AuthenticAMD" from PROC/cpuinfo; NULL if unknown. */
char *hostsetup_cpu_vendor(const struct vmctl_env *env);

/* The module behind a driver: SYSFS/bus/pci/drivers/D/module, else D,
 * with '-' written '_' as modprobe.d wants it. */
char *hostsetup_driver_module(const struct vmctl_env *env, const char *driver);

#endif
