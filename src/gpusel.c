// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vmctl/gpusel.h"
#include "vmctl/xalloc.h"

static int matches(const struct gpu_info *g, const char *sel, bool *match,
		   struct vmctl_error **err)
{
	struct pci_addr a;
	unsigned v, d;
	char tail;

	*match = false;
	if (pci_addr_parse(sel, &a) == 0) {
		for (size_t i = 0; i < g->n_slot; i++)
			if (pci_addr_cmp(&g->slot[i]->addr, &a) == 0)
				*match = true;
		return 0;
	}
	if (strlen(sel) == 9 && sscanf(sel, "%4x:%4x%c", &v, &d, &tail) == 2) {
		*match = g->gpu->vendor_id == v && g->gpu->device_id == d;
		return 0;
	}
	if (strcasecmp(sel, "nvidia") == 0 || strcasecmp(sel, "amd") == 0 ||
	    strcasecmp(sel, "intel") == 0) {
		*match = gpu_vendor_matches(sel, g->gpu->vendor_id) &&
			 !g->boot_display;
		return 0;
	}
	return vmctl_error_set(err, VMCTL_EXIT_USAGE, 0,
			       "\"%s\" is not a GPU selector (NVIDIA, AMD, "
			       "Intel, VVVV:DDDD or a PCI address)", sel);
}

int gpusel_select(const struct gpu_list *list, char *const *selectors,
		  size_t n, struct gpusel *out, struct vmctl_error **err)
{
	struct gpusel s = { 0 };
	size_t cap_fns = 0;

	for (size_t g = 0; g < list->n; g++) {
		const struct gpu_info *gi = &list->v[g];
		bool selected = false;

		for (size_t i = 0; i < n; i++) {
			bool m;

			if (matches(gi, selectors[i], &m, err) < 0) {
				gpusel_clear(&s);
				return -1;
			}
			selected |= m;
		}
		if (!selected)
			continue;
		s.gpus = xreallocarray(s.gpus, s.n_gpus + 1, sizeof(*s.gpus));
		s.gpus[s.n_gpus++] = gi;
		cap_fns += gi->n_slot;
		s.fns = xreallocarray(s.fns, cap_fns, sizeof(*s.fns));
		for (size_t f = 0; f < gi->n_slot; f++)
			s.fns[s.n_fns++] = gi->slot[f];
	}
	if (s.n_gpus == 0) {
		gpusel_clear(&s);
		return vmctl_error_set(err, VMCTL_EXIT_UNAVAILABLE, 0,
				       "no GPU matches %s%s (see vmctl gpu "
				       "list)", n ? selectors[0] : "",
				       n > 1 ? " ..." : "");
	}
	*out = s;
	return 0;
}

void gpusel_clear(struct gpusel *sel)
{
	free(sel->gpus);
	free(sel->fns);
	*sel = (struct gpusel){ 0 };
}
