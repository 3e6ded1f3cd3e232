// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The VM lifecycle on a libvirt host (lvvm.h): reading vmctl's domains
 * (marked with <metadata>), start, stop, kill, destroy, list, status.
 * create is lvvm-create.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvirt/virterror.h>

#include "vmctl/checksum.h"
#include "vmctl/cmd.h"
#include "vmctl/firmware.h"
#include "vmctl/fsutil.h"
#include "vmctl/image.h"
#include "vmctl/imagecache.h"
#include "vmctl/interrupt.h"
#include "vmctl/lazylib.h"
#include "vmctl/lvclone.h"
#include "vmctl/lvconn.h"
#include "vmctl/lvstore.h"
#include "vmctl/lvvm-console.h"
#include "vmctl/lvvm-devices.h"
#include "vmctl/lvvm-media.h"
#include "vmctl/lvvm-ssh.h"
#include "vmctl/lvvm.h"
#include "vmctl/view.h"
#include "vmctl/vm-runtime.h"
#include "vmctl/vmdir.h"
#include "vmctl/xalloc.h"

#define POLL_MS 100

void lvvm_info_clear(struct lvvm_info *info)
{
	free(info->name);
	free(info->ip);
	libvirt_meta_clear(&info->meta);
	*info = (struct lvvm_info){ 0 };
}

enum vm_run_state lvvm_state_of(int s)
{
	switch (s) {
	case VIR_DOMAIN_SHUTOFF:
		return VM_STOPPED;
	case VIR_DOMAIN_CRASHED:
		return VM_CRASHED;
	default:
		/* running, blocked, paused, shutting down, suspended */
		return VM_RUNNING;
	}
}

static void add_string_or_null(cJSON *o, const char *key, const char *v)
{
	if (v != NULL)
		cJSON_AddStringToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

cJSON *lvvm_info_json(const struct lvvm_info *info, const char *uri,
		      bool detailed)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", info->name);
	cJSON_AddStringToObject(o, "state", vm_run_state_name(info->state));
	/* libvirt does not tell QEMU's pid, its start time or a port:
	 * the guest is on a libvirt network, reached at its address. */
	cJSON_AddNullToObject(o, "pid");
	cJSON_AddNumberToObject(o, "cpus", info->cpus);
	cJSON_AddNumberToObject(o, "memory_mib", (double)(info->memory >> 20));
	if (info->accel != NULL)
		cJSON_AddStringToObject(o, "accel", info->accel);
	cJSON_AddNullToObject(o, "ssh_port");
	cJSON_AddNullToObject(o, "vnc");
	cJSON_AddNullToObject(o, "uptime_s");
	cJSON_AddStringToObject(o, "backend", "libvirt");
	cJSON_AddStringToObject(o, "host", uri);
	add_string_or_null(o, "ip", info->ip);
	if (!detailed)
		return o;
	add_string_or_null(o, "image", info->meta.image);
	add_string_or_null(o, "digest", info->meta.digest);
	cJSON_AddNumberToObject(o, "created", (double)info->meta.created);
	return o;
}

/* ---- reading a domain ---------------------------------------------------- */

/* vmctl's mark on the domain: 0 and *meta, or 1 when it has none. */
static int domain_meta(virDomainPtr dom, struct libvirt_meta *meta)
{
	char *xml = sym_virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT,
					     LIBVIRT_XML_NS, 0);
	int ret;

	if (xml == NULL) {
		sym_virResetLastError();
		return 1;
	}
	ret = libvirt_xml_meta_parse(xml, meta) < 0 ? 1 : 0;
	free(xml);
	return ret;
}

/* The guest's first IPv4 address from the network's DHCP leases. */
static char *domain_ip(virDomainPtr dom)
{
	virDomainInterfacePtr *ifs = NULL;
	int n = sym_virDomainInterfaceAddresses(dom, &ifs,
			VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE, 0);
	char *ip = NULL;

	if (n < 0)
		sym_virResetLastError();
	for (int i = 0; i < n; i++) {
		for (unsigned j = 0; ip == NULL && j < ifs[i]->naddrs; j++)
			if (ifs[i]->addrs[j].type == VIR_IP_ADDR_TYPE_IPV4)
				ip = xstrdup(ifs[i]->addrs[j].addr);
		sym_virDomainInterfaceFree(ifs[i]);
	}
	free(ifs);
	return ip;
}

int lvvm_domain_info(virDomainPtr dom, const char *uri,
		     struct lvvm_info *out, struct vmctl_error **err)
{
	virDomainInfo di;
	char *xml;

	if (sym_virDomainGetInfo(dom, &di) < 0)
		return lvconn_error(err, uri, false, sym_virDomainGetName(dom));
	out->name = xstrdup(sym_virDomainGetName(dom));
	out->state = lvvm_state_of(di.state);
	/* libvirt's managed save (vmctl save): the next start resumes it */
	if (out->state == VM_STOPPED &&
	    sym_virDomainHasManagedSaveImage(dom, 0) == 1)
		out->state = VM_SAVED;
	sym_virResetLastError();
	out->cpus = di.nrVirtCpu;
	out->memory = (uint64_t)di.maxMem << 10;
	xml = sym_virDomainGetXMLDesc(dom, 0);
	if (xml != NULL)
		out->accel = strstr(xml, "<domain type='kvm'") ? "kvm" : "tcg";
	free(xml);
	if (out->state == VM_RUNNING)
		out->ip = domain_ip(dom);
	return 0;
}

int lvvm_find(virConnectPtr conn, const char *uri, const char *name,
		   virDomainPtr *out, struct libvirt_meta *meta,
		   struct vmctl_error **err)
{
	struct libvirt_meta ignored;

	*out = sym_virDomainLookupByName(conn, name);
	if (*out == NULL) {
		virErrorPtr e = sym_virGetLastError();

		if (e != NULL && e->code == VIR_ERR_NO_DOMAIN) {
			sym_virResetLastError();
			return vmctl_error_set(err, VMCTL_EXIT_FAILURE, ENOENT,
					       "%s: no VM named \"%s\"", uri,
					       name);
		}
		return lvconn_error(err, uri, false, name);
	}
	if (domain_meta(*out, meta ? meta : &ignored) == 0) {
		if (meta == NULL)
			libvirt_meta_clear(&ignored);
		return 0;
	}
	sym_virDomainFree(*out);
	*out = NULL;
	return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "%s: domain \"%s\" "
			       "is not a vmctl VM (no vmctl metadata); vmctl "
			       "leaves it alone", uri, name);
}

/* ---- the commands -------------------------------------------------------- */

void lvvm_print_result(const struct vmctl_env *env, const char *uri,
		       const struct lvvm_info *info, const char *headline)
{
	if (env->json) {
		cJSON *j = lvvm_info_json(info, uri, false);

		view_print_json(j);
		cJSON_Delete(j);
	} else if (env->verbosity >= 0) {
		printf("%s\n  host:    %s\n", headline, uri);
		if (info->ip != NULL)
			printf("  address: %s\n", info->ip);
		printf("  console: vmctl --connect %s console %s (Ctrl-] "
		       "detaches)\n", uri, info->name);
	}
}

/* A command's hold on one VM: the connection and the domain. */
struct target {
	virConnectPtr conn;
	char *uri;
	virDomainPtr dom;
	struct libvirt_meta meta;
};

int lvvm_open_vm(const struct vmctl_env *env, const char *name,
		 unsigned flags, virConnectPtr *conn, char **uri,
		 virDomainPtr *dom, struct vmctl_error **err)
{
	*dom = NULL;
	*uri = NULL;
	if (lvconn_open_env(env, flags, conn, uri, err) < 0)
		return -1;
	if (lvvm_find(*conn, *uri, name, dom, NULL, err) == 0)
		return 0;
	lvconn_close(*conn);
	*conn = NULL;
	free(*uri);
	*uri = NULL;
	return -1;
}

static int target_open(const struct vmctl_env *env, const char *name,
		       unsigned flags, struct target *t,
		       struct vmctl_error **err)
{
	*t = (struct target){ 0 };
	if (lvconn_open_env(env, flags, &t->conn, &t->uri, err) < 0)
		return -1;
	return lvvm_find(t->conn, t->uri, name, &t->dom, &t->meta, err);
}

static void target_close(struct target *t)
{
	if (t->dom != NULL)
		sym_virDomainFree(t->dom);
	lvconn_close(t->conn);
	free(t->uri);
	libvirt_meta_clear(&t->meta);
	*t = (struct target){ 0 };
}

int lvvm_domain_start(virConnectPtr conn, const char *uri, virDomainPtr dom,
		      const char *what, struct vmctl_error **err)
{
	if (lvvm_usb_refresh(conn, uri, dom, err) < 0)
		return -1;
	if (sym_virDomainCreate(dom) < 0)
		return lvconn_error(err, uri, false, what);
	return lvvm_boot_once(conn, uri, dom, err);
}

int lvvm_cmd_start(const struct vmctl_env *env, const char *name,
		   struct vmctl_error **err)
{
	struct target t;
	struct lvvm_info info = { 0 };
	bool was = false;
	int ret = -1;

	if (target_open(env, name, 0, &t, err) < 0)
		goto out;
	was = sym_virDomainIsActive(t.dom) == 1;
	if (!was && lvvm_domain_start(t.conn, t.uri, t.dom, name, err) < 0)
		goto out;
	if (lvvm_domain_info(t.dom, t.uri, &info, err) < 0)
		goto out;
	{
		cleanup_free char *headline = xasprintf(
			was ? "VM %s is already running" : "Started VM %s",
			name);

		lvvm_print_result(env, t.uri, &info, headline);
	}
	ret = VMCTL_EXIT_OK;
out:
	lvvm_info_clear(&info);
	target_close(&t);
	return ret;
}

/* Gone from running within timeout_ms (polled). */
static bool wait_shutoff(virDomainPtr dom, long long timeout_ms)
{
	long long deadline = vm_now_ms() + timeout_ms;

	for (;;) {
		if (sym_virDomainIsActive(dom) == 0)
			return true;
		if (vm_now_ms() >= deadline)
			return false;
		vm_sleep_ms(POLL_MS);
	}
}

int lvvm_stop_domain(virDomainPtr dom, const char *uri, int timeout_s,
		     enum vm_stop_step *how, struct vmctl_error **err)
{
	*how = VM_STOP_NOT_RUNNING;
	if (sym_virDomainIsActive(dom) != 1)
		return 0;
	if (timeout_s > 0) {
		if (sym_virDomainShutdown(dom) < 0)
			/* not listening yet (early boot): go on to destroy */
			sym_virResetLastError();
		else if (wait_shutoff(dom, (long long)timeout_s * 1000)) {
			*how = VM_STOP_POWERDOWN;
			return 0;
		}
	}
	if (sym_virDomainDestroy(dom) < 0 && sym_virDomainIsActive(dom) == 1)
		return lvconn_error(err, uri, false, "destroying the domain");
	sym_virResetLastError();
	*how = VM_STOP_KILL;
	return 0;
}

static const char *describe(enum vm_stop_step how)
{
	switch (how) {
	case VM_STOP_POWERDOWN:
		return "the guest shut down (ACPI power button)";
	case VM_STOP_QUIT:
	case VM_STOP_KILL:
		return "libvirt destroyed it (the guest did not shut down)";
	case VM_STOP_NOT_RUNNING:
		break;
	}
	return "it was not running";
}

int lvvm_cmd_stop(const struct vmctl_env *env, const char *name,
		  int timeout_s, struct vmctl_error **err)
{
	struct target t;
	enum vm_stop_step how;
	int ret = -1;

	if (target_open(env, name, 0, &t, err) < 0 ||
	    lvvm_stop_domain(t.dom, t.uri, timeout_s, &how, err) < 0)
		goto out;
	view_stop_result(env, env->json, name, how, describe(how), t.uri);
	ret = VMCTL_EXIT_OK;
out:
	target_close(&t);
	return ret;
}

/* The direct backend's restart: stop's steps (said in words, also with
 * --json), then start.  Not virDomainReboot: the guest may ignore the
 * ACPI request, libvirt would not say, and --timeout would mean nothing. */
int lvvm_cmd_restart(const struct vmctl_env *env, const char *name,
		     int timeout_s, struct vmctl_error **err)
{
	struct target t;
	enum vm_stop_step how;

	if (target_open(env, name, 0, &t, err) < 0 ||
	    lvvm_stop_domain(t.dom, t.uri, timeout_s, &how, err) < 0) {
		target_close(&t);
		return -1;
	}
	view_stop_result(env, false, name, how, describe(how), t.uri);
	target_close(&t);
	return lvvm_cmd_start(env, name, err);
}

int lvvm_cmd_kill(const struct vmctl_env *env, const char *name,
		  struct vmctl_error **err)
{
	struct target t;
	enum vm_stop_step how;
	int ret = -1;

	if (target_open(env, name, 0, &t, err) < 0 ||
	    lvvm_stop_domain(t.dom, t.uri, 0, &how, err) < 0)
		goto out;
	if (env->verbosity >= 0)
		printf(how == VM_STOP_KILL ? "Killed VM %s\n"
					   : "VM %s was not running\n", name);
	ret = VMCTL_EXIT_OK;
out:
	target_close(&t);
	return ret;
}

int lvvm_cmd_destroy(const struct vmctl_env *env, const char *name,
		     bool force, int timeout_s, struct vmctl_error **err)
{
	struct target t;
	virStoragePoolPtr pool = NULL;
	cleanup_free char *disk = NULL, *seed = NULL, *xml = NULL;
	struct strv files = { 0 };
	char uuid[VIR_UUID_STRING_BUFLEN];
	enum vm_stop_step how;
	int ret = -1;

	if (target_open(env, name, 0, &t, err) < 0 ||
	    lvvm_stop_domain(t.dom, t.uri, force ? 0 : timeout_s, &how,
			     err) < 0)
		goto out;
	/* the VM's SSH keys here are found by it (lvvm-ssh.h) */
	if (sym_virDomainGetUUIDString(t.dom, uuid) < 0)
		uuid[0] = '\0';
	/* the linked clones' layers it stands on (lvvm_layers_release) */
	xml = sym_virDomainGetXMLDesc(t.dom, VIR_DOMAIN_XML_INACTIVE);
	if (xml == NULL || lvclone_backing_files(xml, &files) < 0)
		sym_virResetLastError();
	/* the internal snapshots go with the disk below */
	if (sym_virDomainUndefineFlags(t.dom, VIR_DOMAIN_UNDEFINE_NVRAM |
				       VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
				       VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA) < 0) {
		lvconn_error(err, t.uri, false, "undefining the domain");
		goto out;
	}
	if (lvstore_pool(t.conn, t.uri, &pool, err) < 0)
		goto out;
	disk = lvstore_disk_name(name);
	seed = lvstore_seed_name(name);
	if (lvstore_delete(pool, t.uri, disk, err) < 0 ||
	    lvstore_delete(pool, t.uri, seed, err) < 0 ||
	    lvvm_console_delete_logs(pool, t.uri, name, err) < 0 ||
	    (uuid[0] != '\0' && lvvm_keys_remove(env, uuid, err) < 0))
		goto out;
	/* The last VM standing on a layer takes it along. */
	lvvm_layers_release(t.conn, &files);
	if (env->verbosity >= 0)
		printf("Destroyed VM %s\n", name);
	ret = VMCTL_EXIT_OK;
out:
	strv_clear(&files);
	if (pool != NULL)
		sym_virStoragePoolFree(pool);
	target_close(&t);
	return ret;
}

void lvvm_list_header(bool host)
{
	if (host)
		printf("%-12s ", "HOST");
	printf("%-20s %-9s %-8s %4s %7s %5s  %-21s %-6s %s\n", "NAME",
	       "STATE", "PID", "CPUS", "MEMORY", "SSH", "VNC", "UPTIME",
	       "ADDRESS");
}

void lvvm_list_row(const struct lvvm_info *i, const char *host)
{
	cleanup_free char *mem = xasprintf("%lluM", (unsigned long long)
					   (i->memory >> 20));

	if (host != NULL)
		printf("%-12s ", host);
	printf("%-20s %-9s %-8s %4u %7s %5s  %-21s %-6s %s\n", i->name,
	       vm_run_state_name(i->state), "-", i->cpus, mem, "-", "-", "-",
	       i->ip ? i->ip : "-");
}

int lvvm_list_read(virConnectPtr conn, const char *uri,
		   struct lvvm_info **out, size_t *n_out,
		   struct vmctl_error **err)
{
	virDomainPtr *doms = NULL;
	struct lvvm_info *v;
	size_t k = 0;
	int n;

	*out = NULL;
	*n_out = 0;
	n = sym_virConnectListAllDomains(conn, &doms, 0);
	if (n < 0)
		return lvconn_error(err, uri, false, "listing domains");
	v = xcalloc((size_t)n + 1, sizeof(*v));
	for (int i = 0; i < n; i++) {
		struct vmctl_error *e = NULL;

		if (domain_meta(doms[i], &v[k].meta) != 0) {
			/* not vmctl's */
		} else if (lvvm_domain_info(doms[i], uri, &v[k], &e) < 0) {
			/* One broken VM must not hide the others. */
			cmd_print_error(e);
			vmctl_error_free(e);
			lvvm_info_clear(&v[k]);
		} else {
			k++;
		}
		sym_virDomainFree(doms[i]);
	}
	free(doms);
	*out = v;
	*n_out = k;
	return 0;
}

int lvvm_cmd_list(const struct vmctl_env *env, struct vmctl_error **err)
{
	virConnectPtr conn = NULL;
	cleanup_free char *uri = NULL;
	struct lvvm_info *v = NULL;
	size_t n = 0;
	cJSON *arr = NULL;

	if (lvconn_open_env(env, LVCONN_READ_ONLY, &conn, &uri, err) < 0)
		return -1;
	if (lvvm_list_read(conn, uri, &v, &n, err) < 0) {
		lvconn_close(conn);
		return -1;
	}
	if (env->json)
		arr = cJSON_CreateArray();
	else
		lvvm_list_header(false);
	for (size_t i = 0; i < n; i++) {
		if (arr != NULL)
			cJSON_AddItemToArray(arr, lvvm_info_json(&v[i], uri,
								 false));
		else
			lvvm_list_row(&v[i], NULL);
		lvvm_info_clear(&v[i]);
	}
	free(v);
	if (arr != NULL) {
		view_print_json(arr);
		cJSON_Delete(arr);
	}
	lvconn_close(conn);
	return VMCTL_EXIT_OK;
}

int lvvm_cmd_status(const struct vmctl_env *env, const char *name,
		    struct vmctl_error **err)
{
	struct target t;
	struct lvvm_info info = { 0 };
	int ret = -1;

	if (target_open(env, name, LVCONN_READ_ONLY, &t, err) < 0 ||
	    lvvm_domain_info(t.dom, t.uri, &info, err) < 0)
		goto out;
	info.meta = t.meta;
	t.meta = (struct libvirt_meta){ 0 };
	if (env->json) {
		cJSON *j = lvvm_info_json(&info, t.uri, true);

		lvvm_media_status(t.dom, info.meta.cdrom_once, j);
		view_print_json(j);
		cJSON_Delete(j);
	} else {
		printf("name:       %s\nstate:      %s\nhost:       %s\n"
		       "cpus:       %u\nmemory:     %lluM\n", info.name,
		       vm_run_state_name(info.state), t.uri, info.cpus,
		       (unsigned long long)(info.memory >> 20));
		if (info.accel != NULL)
			printf("accel:      %s\n", info.accel);
		if (info.meta.image != NULL)
			printf("image:      %s\n", info.meta.image);
		lvvm_media_status(t.dom, info.meta.cdrom_once, NULL);
		if (info.ip != NULL)
			printf("address:    %s\n", info.ip);
		printf("  console: vmctl --connect %s console %s (Ctrl-] "
		       "detaches)\n", t.uri, name);
	}
	ret = VMCTL_EXIT_OK;
out:
	lvvm_info_clear(&info);
	target_close(&t);
	return ret;
}
