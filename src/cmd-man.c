// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl __man 1 [DATE] | 5 SPEC_MD [DATE]: the man pages (make). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/fsutil.h"
#include "vmctl/manpage.h"
#include "vmctl/xalloc.h"

int manpage_main(int argc, char **argv)
{
	struct vmctl_error *err = NULL;
	cleanup_free char *md = NULL;
	size_t len;

	if (argc >= 2 && argc <= 3 && strcmp(argv[1], "1") == 0) {
		manpage_vmctl(stdout, cmd_table, argc == 3 ? argv[2] : "");
		return VMCTL_EXIT_OK;
	}
	if (argc < 3 || argc > 4 || strcmp(argv[1], "5") != 0) {
		fprintf(stderr, "usage: vmctl __man 1 [DATE] | "
			"5 SPEC_MD [DATE]\n");
		return VMCTL_EXIT_USAGE;
	}
	if (fs_read_file(argv[2], 1 << 20, &md, &len,
			 VMCTL_EXIT_NOINPUT, &err) < 0) {
		cmd_print_error(err);
		vmctl_error_free(err);
		return VMCTL_EXIT_NOINPUT;
	}
	manpage_spec(stdout, md, argc == 4 ? argv[3] : "");
	return VMCTL_EXIT_OK;
}
