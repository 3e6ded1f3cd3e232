// SPDX-License-Identifier: GPL-2.0-or-later
/* Placement over the fleet (lvfleet.h): pure, a spec's needs against
 * each host's facts; reading the hosts is lvfleet.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/broker.h"
#include "vmctl/lvfleet.h"
#include "vmctl/strv.h"
#include "vmctl/xalloc.h"

const char *lvfleet_status_name(const struct vmctl_error *e)
{
	if (e == NULL)
		return "ok";
	switch (e->status) {
	case VMCTL_EXIT_UNAVAILABLE:
		return "down";
	case VMCTL_EXIT_NOPERM:
		return "denied";
	default:
		return "failed";
	}
}

/* "NVIDIA Corporation 10de:2204 at 0000:01:00.0": what a gpu: entry
 * took on the host. */
static char *gpu_text(const struct pci_host *pci, const struct qemu_gpu *q)
{
	const struct pci_function *fn = pci_host_find(pci, &q->functions[0]);
	char a[PCI_ADDR_STRLEN];
	const char *vendor = fn && fn->vendor_name ? fn->vendor_name
			     : q->spec->selector == SPEC_GPU_VENDOR
			     ? q->spec->vendor : "GPU";

	pci_addr_format(&q->functions[0], a);
	if (fn == NULL)
		return xasprintf("%s at %s", vendor, a);
	return xasprintf("%s %04x:%04x at %s", vendor, fn->vendor_id,
			 fn->device_id, a);
}

/* Whether host h fits: 1 and *why what it offers, or 0 and *why the
 * first thing that does not fit. */
static int host_fits(const struct vmctl_spec *spec,
		     const struct lvfleet_host *h, char **why)
{
	struct vmctl_error *e = NULL;
	struct qemu_gpu *gpus = NULL;
	size_t n_gpus = 0;
	uint64_t huge = 0;
	struct strv parts = { 0 };
	cleanup_free char *free_mem = broker_size_format(h->mem_free);
	int fits = 0;

	if (h->error != NULL) {
		*why = xasprintf("%s: %s: %s", h->name,
				 lvfleet_status_name(h->error),
				 h->error->message);
		return 0;
	}
	if (spec->n_gpus > 0 &&
	    lvvm_gpus_match(&h->pci, h->holders.v, h->holders.n, spec,
			    h->name, &gpus, &n_gpus, &e) < 0)
		goto refused;
	if (lvvm_hugepages_pick(spec, h->huge_free[0], h->huge_free[1],
				h->name, &huge, &e) < 0)
		goto refused;
	if (huge == 0 && spec->memory > h->mem_free) {
		cleanup_free char *need = broker_size_format(spec->memory);

		*why = xasprintf("%s: not enough free memory: VM \"%s\" needs "
				 "%s, %s free", h->name, spec->name, need,
				 free_mem);
		goto out;
	}
	for (size_t i = 0; i < n_gpus; i++) {
		cleanup_free char *g = gpu_text(&h->pci, &gpus[i]);

		strv_pushf(&parts, "%s free", g);
	}
	if (huge != 0)
		strv_pushf(&parts, "%s hugepages free",
			   huge == HOSTINV_HUGE_1G ? "1G" : "2M");
	strv_pushf(&parts, "%s free memory", free_mem);
	{
		cleanup_free char *joined = strv_join(&parts, ", ");

		*why = xasprintf("%s: %s", h->name, joined);
	}
	fits = 1;
	goto out;
refused:
	/* the message names the host already */
	*why = xstrdup(e->message);
	vmctl_error_free(e);
out:
	for (size_t i = 0; i < n_gpus; i++)
		free(gpus[i].functions);
	free(gpus);
	strv_clear(&parts);
	return fits;
}

int lvfleet_place(const struct vmctl_spec *spec,
		  const struct lvfleet_host *hosts, size_t n,
		  struct lvfleet_placement *out)
{
	bool *fits = xcalloc(n + 1, sizeof(*fits));

	*out = (struct lvfleet_placement){ .chosen = -1, .n = n };
	out->why = xcalloc(n + 1, sizeof(*out->why));
	for (size_t i = 0; i < n; i++) {
		fits[i] = host_fits(spec, &hosts[i], &out->why[i]);
		if (fits[i] && (out->chosen < 0 || hosts[i].mem_free >
				hosts[out->chosen].mem_free))
			out->chosen = (int)i;
	}
	/* A host that fits but was not chosen says why not. */
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *free_mem = NULL;

		if (!fits[i] || (int)i == out->chosen)
			continue;
		free_mem = broker_size_format(hosts[i].mem_free);
		free(out->why[i]);
		out->why[i] = xasprintf("%s: fits, but %s free memory is less "
					"than %s's", hosts[i].name, free_mem,
					hosts[out->chosen].name);
	}
	free(fits);
	return out->chosen;
}

void lvfleet_placement_clear(struct lvfleet_placement *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->why[i]);
	free(p->why);
	*p = (struct lvfleet_placement){ .chosen = -1 };
}

char *lvfleet_placement_summary(const struct lvfleet_placement *p)
{
	struct strv parts = { 0 };
	char *s;

	if (p->chosen >= 0)
		strv_pushf(&parts, "placed on %s", p->why[p->chosen]);
	for (size_t i = 0; i < p->n; i++)
		if ((int)i != p->chosen)
			strv_push(&parts, p->why[i]);
	s = strv_join(&parts, "; ");
	strv_clear(&parts);
	return s;
}
