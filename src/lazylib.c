// SPDX-License-Identifier: GPL-2.0-or-later
/* libvirt, libxml2, libcurl, libcrypto and libisofs opened when first
 * needed (lazylib.h). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "vmctl/lazylib.h"

#define LAZYLIB_DEFINE(f) __typeof__(f) *sym_##f;
LAZYLIB_LIBVIRT_FUNCS(LAZYLIB_DEFINE)
LAZYLIB_LIBVIRT_QEMU_FUNCS(LAZYLIB_DEFINE)
LAZYLIB_LIBXML_FUNCS(LAZYLIB_DEFINE)
LAZYLIB_CURL_FUNCS(LAZYLIB_DEFINE)
LAZYLIB_CRYPTO_FUNCS(LAZYLIB_DEFINE)
LAZYLIB_ISOFS_FUNCS(LAZYLIB_DEFINE)
#undef LAZYLIB_DEFINE

static virConnectAuthPtr *auth_default;
static __typeof__(xmlReadMemory) *read_memory;
static xmlFreeFunc *xml_free;

struct lazysym {
	const char *name;
	void **slot;
};

#define LAZYLIB_ENTRY(f) { #f, (void **)&sym_##f },
static const struct lazysym libvirt_syms[] = {
	LAZYLIB_LIBVIRT_FUNCS(LAZYLIB_ENTRY)
	{ "virConnectAuthPtrDefault", (void **)&auth_default },
};
static const struct lazysym libvirt_qemu_syms[] = {
	LAZYLIB_LIBVIRT_QEMU_FUNCS(LAZYLIB_ENTRY)
};
static const struct lazysym libxml_syms[] = {
	LAZYLIB_LIBXML_FUNCS(LAZYLIB_ENTRY)
	{ "xmlReadMemory", (void **)&read_memory },
	{ "xmlFree", (void **)&xml_free },
};
static const struct lazysym curl_syms[] = {
	LAZYLIB_CURL_FUNCS(LAZYLIB_ENTRY)
};
static const struct lazysym crypto_syms[] = {
	LAZYLIB_CRYPTO_FUNCS(LAZYLIB_ENTRY)
};
static const struct lazysym isofs_syms[] = {
	LAZYLIB_ISOFS_FUNCS(LAZYLIB_ENTRY)
};
#undef LAZYLIB_ENTRY

static const struct lazylib_def {
	const char *soname;
	const char *package;   /* Debian's, for the error */
	const struct lazysym *syms;
	size_t n;
} libs[] = {
	[LAZYLIB_LIBVIRT] = { "libvirt.so.0", "libvirt0", libvirt_syms,
			      sizeof(libvirt_syms) / sizeof(libvirt_syms[0]) },
	[LAZYLIB_LIBVIRT_QEMU] = { "libvirt-qemu.so.0", "libvirt0",
				   libvirt_qemu_syms,
				   sizeof(libvirt_qemu_syms) /
					   sizeof(libvirt_qemu_syms[0]) },
	[LAZYLIB_LIBXML] = { "libxml2.so.2", "libxml2", libxml_syms,
			     sizeof(libxml_syms) / sizeof(libxml_syms[0]) },
	[LAZYLIB_CURL] = { "libcurl.so.4", "libcurl4", curl_syms,
			   sizeof(curl_syms) / sizeof(curl_syms[0]) },
	[LAZYLIB_CRYPTO] = { "libcrypto.so.3", "libssl3", crypto_syms,
			     sizeof(crypto_syms) / sizeof(crypto_syms[0]) },
	[LAZYLIB_ISOFS] = { "libisofs.so.6", "libisofs6", isofs_syms,
			    sizeof(isofs_syms) / sizeof(isofs_syms[0]) },
};

/* Whether each library is open; set once under the lock (the fleet's
 * threads may meet here). */
static bool opened[sizeof(libs) / sizeof(libs[0])];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static int open_lib(const struct lazylib_def *l, struct vmctl_error **err)
{
	/* Never closed: its functions are used until exit. */
	void *h = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);

	if (h == NULL)
		return vmctl_error_set(err, VMCTL_EXIT_UNAVAILABLE, 0,
				       "%s (install the %s package)",
				       dlerror(), l->package);
	for (size_t i = 0; i < l->n; i++) {
		void *p = dlsym(h, l->syms[i].name);

		if (p == NULL)
			return vmctl_error_set(err, VMCTL_EXIT_UNAVAILABLE,
					       0, "%s has no %s: a %s older "
					       "than vmctl was built for",
					       l->soname, l->syms[i].name,
					       l->package);
		*l->syms[i].slot = p;
	}
	return 0;
}

int lazylib_load(enum lazylib lib, struct vmctl_error **err)
{
	int rc = 0;

	pthread_mutex_lock(&lock);
	if (!opened[lib]) {
		rc = open_lib(&libs[lib], err);
		opened[lib] = rc == 0;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

void lazylib_need(enum lazylib lib)
{
	struct vmctl_error *err = NULL;

	if (lazylib_load(lib, &err) == 0)
		return;
	fprintf(stderr, "vmctl: %s\n", err->message);
	exit(VMCTL_EXIT_UNAVAILABLE);
}

virConnectAuthPtr lazylib_virConnectAuthPtrDefault(void)
{
	lazylib_need(LAZYLIB_LIBVIRT);
	return *auth_default;
}

xmlDocPtr sym_xmlReadMemory(const char *buffer, int size, const char *url,
			    const char *encoding, int options)
{
	lazylib_need(LAZYLIB_LIBXML);
	return read_memory(buffer, size, url, encoding, options);
}

void sym_xmlFree(void *p)
{
	(*xml_free)(p);
}
