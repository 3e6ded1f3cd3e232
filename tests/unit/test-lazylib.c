// SPDX-License-Identifier: GPL-2.0-or-later
/* lazylib: nothing of libvirt, libxml2 or libcurl is reachable before it
 * is opened, every function vmctl calls is found in the installed
 * library once it is, and opening again changes nothing. */
#include <stdbool.h>
#include <stdlib.h>

#include "tap.h"
#include "vmctl/lazylib.h"

static int missing;
#define COUNT_MISSING(f)                                                     \
	if (sym_##f == NULL) {                                               \
		printf("# %s not resolved\n", #f);                           \
		missing++;                                                   \
	}

int main(void)
{
	struct vmctl_error *err = NULL;
	void *before;

	ok(sym_virConnectOpenAuth == NULL && sym_curl_easy_init == NULL &&
	   sym_xmlDocGetRootElement == NULL,
	   "no library function before lazylib_load");

	ok(lazylib_load(LAZYLIB_LIBVIRT, &err) == 0 && err == NULL,
	   "libvirt opens");
	ok(lazylib_load(LAZYLIB_LIBVIRT_QEMU, &err) == 0 && err == NULL,
	   "libvirt-qemu opens");
	ok(lazylib_load(LAZYLIB_LIBXML, &err) == 0 && err == NULL,
	   "libxml2 opens");
	ok(lazylib_load(LAZYLIB_CURL, &err) == 0 && err == NULL,
	   "libcurl opens");

	missing = 0;
	LAZYLIB_LIBVIRT_FUNCS(COUNT_MISSING)
	ok(missing == 0, "every libvirt function vmctl calls is resolved");
	missing = 0;
	LAZYLIB_LIBVIRT_QEMU_FUNCS(COUNT_MISSING)
	ok(missing == 0, "every libvirt-qemu function vmctl calls is resolved");
	missing = 0;
	LAZYLIB_LIBXML_FUNCS(COUNT_MISSING)
	ok(missing == 0, "every libxml2 function vmctl calls is resolved");
	missing = 0;
	LAZYLIB_CURL_FUNCS(COUNT_MISSING)
	ok(missing == 0, "every libcurl function vmctl calls is resolved");

	before = (void *)sym_virConnectOpenAuth;
	ok(lazylib_load(LAZYLIB_LIBVIRT, &err) == 0 &&
	   (void *)sym_virConnectOpenAuth == before,
	   "a second load is a no-op");
	ok(lazylib_virConnectAuthPtrDefault() != NULL,
	   "libvirt's default authentication (a variable) is reached");

	/* the wrappers: a document through sym_xmlReadMemory, freed */
	xmlDocPtr doc = sym_xmlReadMemory("<a>x</a>", 8, "t.xml", NULL, 0);
	xmlNodePtr root = doc ? sym_xmlDocGetRootElement(doc) : NULL;
	xmlChar *text = root ? sym_xmlNodeGetContent(root) : NULL;

	is_str((const char *)text, "x", "an XML document read and walked");
	sym_xmlFree(text);
	sym_xmlFreeDoc(doc);
	return tap_done();
}
