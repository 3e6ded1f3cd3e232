// SPDX-License-Identifier: GPL-2.0-or-later
/* A UTF-8 locale for tmux on hosts that have none (see utf8locale.h). */
#include <langinfo.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "vmctl/fsutil.h"
#include "vmctl/utf8locale.h"
#include "vmctl/xalloc.h"

/* Can this process load a UTF-8 LC_CTYPE named `name` ("" = from the
 * environment)?  newlocale() leaves vmctl's own locale alone. */
static bool loads_utf8(const char *name)
{
	locale_t loc = newlocale(LC_CTYPE_MASK, name, (locale_t)0);
	const char *codeset;
	bool utf8;

	if (loc == (locale_t)0)
		return false;
	codeset = nl_langinfo_l(CODESET, loc);
	utf8 = strcasecmp(codeset, "UTF-8") == 0 ||
	       strcasecmp(codeset, "UTF8") == 0;
	freelocale(loc);
	return utf8;
}

int utf8locale_path(const struct vmctl_env *env, char **locpath,
		    struct vmctl_error **err)
{
	cleanup_free char *base = NULL, *dir = NULL, *file = NULL;
	struct stat st;

	*locpath = NULL;
	/* What tmux tries, in its order. */
	if (loads_utf8("en_US.UTF-8") || loads_utf8("C.UTF-8") ||
	    loads_utf8(""))
		return 0;
	if (utf8locale_ctype_len == 0)
		return vmctl_error_set(err, VMCTL_EXIT_UNAVAILABLE, 0,
				       "tmux needs a UTF-8 locale and this "
				       "host has none (Debian: the C.UTF-8 "
				       "locale comes with libc-bin)");
	base = xasprintf("%s/locale", env->state_dir);
	dir = xasprintf("%s/C.utf8", base);
	file = xasprintf("%s/LC_CTYPE", dir);
	if (stat(file, &st) != 0 || (size_t)st.st_size != utf8locale_ctype_len) {
		if (fs_mkdir_p(dir, 0755, err) < 0 ||
		    fs_write_atomic(dir, "LC_CTYPE", utf8locale_ctype,
				    utf8locale_ctype_len, 0644, err) < 0)
			return vmctl_error_wrap(err, "installing a UTF-8 "
						"locale for tmux");
	}
	*locpath = steal_pointer(&base);
	return 0;
}
