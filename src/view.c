// SPDX-License-Identifier: GPL-2.0-or-later
#include <arpa/inet.h>
#include <inttypes.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmctl/broker.h"
#include "vmctl/pci.h"
#include "vmctl/tmux.h"
#include "vmctl/view.h"
#include "vmctl/vmdir.h"
#include "vmctl/xalloc.h"

char *view_host_address(void)
{
	struct ifaddrs *ifs, *i;
	char buf[INET_ADDRSTRLEN];
	char *found = NULL;

	if (getifaddrs(&ifs) == 0) {
		for (i = ifs; i != NULL && found == NULL; i = i->ifa_next) {
			if (i->ifa_addr == NULL ||
			    i->ifa_addr->sa_family != AF_INET ||
			    (i->ifa_flags & IFF_LOOPBACK) ||
			    !(i->ifa_flags & IFF_UP))
				continue;
			if (inet_ntop(AF_INET, &((struct sockaddr_in *)
						 (void *)i->ifa_addr)->sin_addr,
				      buf, sizeof(buf)) != NULL)
				found = xstrdup(buf);
		}
		freeifaddrs(ifs);
	}
	if (found == NULL) {
		char host[256];

		found = xstrdup(gethostname(host, sizeof(host)) == 0 ? host
								     : "localhost");
	}
	return found;
}

char *view_endpoint(const char *listen, unsigned port)
{
	cleanup_free char *host = NULL;

	if (strcmp(listen, "0.0.0.0") == 0 || strcmp(listen, "::") == 0)
		host = view_host_address();
	else
		host = xstrdup(listen);
	if (strchr(host, ':') != NULL)
		return xasprintf("[%s]:%u", host, port);
	return xasprintf("%s:%u", host, port);
}

static void add_nullable_number(cJSON *o, const char *key, double v, bool set)
{
	if (set)
		cJSON_AddNumberToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

cJSON *view_vm_json(const struct vmctl_env *env, const struct vm_info *vm,
		    bool detailed)
{
	const struct vmctl_spec *spec = vm->spec;
	bool running = vm->state == VM_RUNNING;
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", vm->name);
	cJSON_AddStringToObject(o, "state", vm_run_state_name(vm->state));
	add_nullable_number(o, "pid", vm->st.qemu.pid, running);
	if (spec != NULL) {
		cJSON_AddNumberToObject(o, "cpus", spec_cpu_count(spec));
		cJSON_AddNumberToObject(o, "memory_mib",
					(double)(spec->memory >> 20));
	}
	if (vm->st.accel != NULL)
		cJSON_AddStringToObject(o, "accel", vm->st.accel);
	add_nullable_number(o, "ssh_port", vm->st.ssh_port,
			    vm->st.ssh_port != 0);
	if (spec != NULL && spec->vnc.enabled && !spec->vnc.password) {
		cJSON *vnc = cJSON_AddObjectToObject(o, "vnc");
		cleanup_free char *sock = state_vm_file(env, vm->name,
							VMDIR_VNC_SOCKET);

		cJSON_AddStringToObject(vnc, "socket", sock);
		cJSON_AddBoolToObject(vnc, "password", false);
	} else if (spec != NULL && spec->vnc.enabled &&
		   vm->st.vnc_display >= 0) {
		cJSON *vnc = cJSON_AddObjectToObject(o, "vnc");
		unsigned port = 5900 + (unsigned)vm->st.vnc_display;
		cleanup_free char *ep = view_endpoint(spec->vnc.listen, port);
		cleanup_free char *url = xasprintf("vnc://%s", ep);

		cJSON_AddStringToObject(vnc, "listen", spec->vnc.listen);
		cJSON_AddNumberToObject(vnc, "display", vm->st.vnc_display);
		cJSON_AddNumberToObject(vnc, "port", port);
		cJSON_AddStringToObject(vnc, "endpoint", ep);
		cJSON_AddStringToObject(vnc, "url", url);
		cJSON_AddBoolToObject(vnc, "password", spec->vnc.password);
	} else {
		cJSON_AddNullToObject(o, "vnc");
	}
	add_nullable_number(o, "uptime_s",
			    (double)(time(NULL) - vm->st.started), running);
	cJSON_AddStringToObject(o, "backend", "direct");
	if (!detailed)
		return o;
	cJSON_AddStringToObject(o, "qmp_status",
				vm->qmp_status ? vm->qmp_status : "");
	{
		cleanup_free char *dir = state_vm_dir(env, vm->name);
		cleanup_free char *session = tmux_session_name(vm->name);
		cJSON *t = cJSON_AddObjectToObject(o, "tmux");

		cJSON_AddStringToObject(o, "dir", dir);
		cJSON_AddStringToObject(t, "socket", env->tmux_socket);
		cJSON_AddStringToObject(t, "session", session);
	}
	cJSON_AddItemToObject(o, "claim", view_claim_json(&vm->st.claim));
	if (vm->st.last_exit.known) {
		cJSON *x = cJSON_AddObjectToObject(o, "last_exit");

		add_nullable_number(x, "status", vm->st.last_exit.status,
				    vm->st.last_exit.status >= 0);
		add_nullable_number(x, "signal", vm->st.last_exit.signal,
				    vm->st.last_exit.signal > 0);
		cJSON_AddNumberToObject(x, "time",
					(double)vm->st.last_exit.time);
		if (vm->st.last_exit.stopped_by)
			cJSON_AddStringToObject(x, "stopped_by",
						vm->st.last_exit.stopped_by);
		else
			cJSON_AddNullToObject(x, "stopped_by");
	} else {
		cJSON_AddNullToObject(o, "last_exit");
	}
	return o;
}

/* ---- the broker's claim ------------------------------------------------ */

static void addrs_json(cJSON *o, const char *key, const struct pci_addr *v,
		       size_t n)
{
	cJSON *a = cJSON_AddArrayToObject(o, key);

	for (size_t i = 0; i < n; i++) {
		char buf[PCI_ADDR_STRLEN];

		cJSON_AddItemToArray(a, cJSON_CreateString(
			pci_addr_format(&v[i], buf)));
	}
}

static void cpus_json(cJSON *o, const char *key, const struct cpulist *l)
{
	cleanup_free char *text = NULL;

	if (l->n == 0) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	text = cpulist_format(l->v, l->n);
	cJSON_AddStringToObject(o, key, text);
}

cJSON *view_claim_json(const struct vm_claim *c)
{
	cJSON *o, *v;

	if (!c->recorded)
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "memory", (double)c->memory);
	addrs_json(o, "gpu_functions", c->gpus, c->n_gpus);
	addrs_json(o, "bound", c->bound, c->n_bound);
	cpus_json(o, "cpus", &c->cpus);
	v = cJSON_AddArrayToObject(o, "vcpu_cpus");
	for (size_t i = 0; i < c->n_vcpus; i++)
		cJSON_AddItemToArray(v, cJSON_CreateNumber(c->vcpu_cpus[i]));
	cpus_json(o, "emulator_cpus", &c->emulator_cpus);
	add_nullable_number(o, "node", c->node, c->node >= 0);
	if (c->hugepage_size != 0) {
		cJSON *h = cJSON_AddObjectToObject(o, "hugepages");

		cJSON_AddNumberToObject(h, "size", (double)c->hugepage_size);
		cJSON_AddNumberToObject(h, "count", (double)c->hugepages);
		cJSON_AddNumberToObject(h, "node", c->hugepage_node);
	} else {
		cJSON_AddNullToObject(o, "hugepages");
	}
	v = cJSON_AddArrayToObject(o, "usb");
	for (size_t i = 0; i < c->usb.n; i++)
		cJSON_AddItemToArray(v, cJSON_CreateString(c->usb.v[i]));
	return o;
}

static void print_addrs(FILE *out, const struct pci_addr *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char buf[PCI_ADDR_STRLEN];

		fprintf(out, "%s%s", i ? ", " : "", pci_addr_format(&v[i], buf));
	}
}

void view_claim_print(const struct vm_claim *c, FILE *out)
{
	cleanup_free char *mem = NULL;

	if (!c->recorded)
		return;
	mem = broker_size_format(c->memory);
	fprintf(out, "claim:      %s of memory", mem);
	if (c->n_gpus > 0) {
		fprintf(out, "; GPU functions ");
		print_addrs(out, c->gpus, c->n_gpus);
	}
	fputc('\n', out);
	if (c->n_bound > 0) {
		fprintf(out, "bound:      ");
		print_addrs(out, c->bound, c->n_bound);
		fprintf(out, " (to vfio-pci by this start; given back at "
			"stop)\n");
	}
	if (c->n_vcpus > 0) {
		cleanup_free char *cores = cpulist_format(c->cpus.v,
							  c->cpus.n);
		cleanup_free char *emu = cpulist_format(c->emulator_cpus.v,
							c->emulator_cpus.n);

		fprintf(out, "pinning:    ");
		for (size_t i = 0; i < c->n_vcpus; i++)
			fprintf(out, "%svCPU %zu on CPU %u", i ? ", " : "", i,
				c->vcpu_cpus[i]);
		fprintf(out, "\n            cores %s held (exclusive)", cores);
		if (c->node >= 0)
			fprintf(out, " on NUMA node %d", c->node);
		fprintf(out, "; QEMU's other threads on %s\n", emu);
	}
	if (c->hugepage_size != 0) {
		cleanup_free char *size = broker_size_format(c->hugepage_size);

		fprintf(out, "hugepages:  %" PRIu64 " of %s on NUMA node %d\n",
			c->hugepages, size, c->hugepage_node);
	}
	if (c->usb.n > 0) {
		cleanup_free char *usb = strv_join(&c->usb, ", ");

		fprintf(out, "usb:        %s (bus-port)\n", usb);
	}
}


cJSON *view_vm_status_json(const struct vmctl_env *env,
			   const struct vm_info *vm, const uint64_t *balloon)
{
	cJSON *o = view_vm_json(env, vm, true);

	add_nullable_number(o, "balloon", balloon ? (double)*balloon : 0,
			    balloon != NULL);
	return o;
}

void view_vm_endpoints(const struct vmctl_env *env, const struct vm_info *vm,
		       FILE *out)
{
	const struct vmctl_spec *spec = vm->spec;

	if (spec == NULL)
		return;
	if (vm->st.ssh_port != 0) {
		cleanup_free char *ep = view_endpoint(spec->network.ssh_listen,
						      vm->st.ssh_port);

		fprintf(out, "  ssh:     %s (vmctl ssh %s)\n", ep, vm->name);
	}
	if (spec->vnc.enabled && !spec->vnc.password) {
		cleanup_free char *sock = state_vm_file(env, vm->name,
							VMDIR_VNC_SOCKET);

		fprintf(out, "  vnc:     UNIX socket %s (no password)\n", sock);
	} else if (spec->vnc.enabled && vm->st.vnc_display >= 0) {
		cleanup_free char *ep = view_endpoint(
			spec->vnc.listen, 5900 + (unsigned)vm->st.vnc_display);

		fprintf(out, "  vnc:     vnc://%s (password: vmctl vnc %s)\n",
			ep, vm->name);
	}
	fprintf(out, "  console: vmctl attach %s (Ctrl-b d detaches)\n",
		vm->name);
}

void view_print_json(cJSON *json)
{
	char *text = cJSON_Print(json);

	puts(text);
	free(text);
}

void view_stop_result(const struct vmctl_env *env, bool json,
		      const char *name, enum vm_stop_step how,
		      const char *how_text, const char *host)
{
	if (json) {
		cJSON *j = cJSON_CreateObject();

		cJSON_AddStringToObject(j, "name", name);
		cJSON_AddStringToObject(j, "stopped_by", vm_stop_step_name(how));
		cJSON_AddStringToObject(j, "backend", host ? "libvirt"
							   : "direct");
		if (host != NULL)
			cJSON_AddStringToObject(j, "host", host);
		view_print_json(j);
		cJSON_Delete(j);
	} else if (env->verbosity >= 0) {
		printf("%s %s: %s\n", how == VM_STOP_NOT_RUNNING ? "Did not stop"
								 : "Stopped",
		       name, how_text);
	}
}

void view_vm_result(const struct vmctl_env *env, const struct vm_info *vm,
		    const char *headline)
{
	if (env->json) {
		cJSON *j = view_vm_json(env, vm, false);

		view_print_json(j);
		cJSON_Delete(j);
	} else if (env->verbosity >= 0) {
		printf("%s\n", headline);
		view_vm_endpoints(env, vm, stdout);
	}
}

void view_vnc_result(const struct vmctl_env *env, const struct view_vnc *v)
{
	bool running = v->state == VM_RUNNING;

	if (env->json) {
		cJSON *j = cJSON_CreateObject();

		cJSON_AddStringToObject(j, "name", v->name);
		if (v->socket != NULL) {
			cJSON_AddStringToObject(j, "socket", v->socket);
		} else {
			cleanup_free char *url = xasprintf("vnc://%s",
							   v->endpoint);

			cJSON_AddStringToObject(j, "endpoint", v->endpoint);
			cJSON_AddStringToObject(j, "url", url);
			cJSON_AddNumberToObject(j, "port", v->port);
		}
		if (v->password != NULL)
			cJSON_AddStringToObject(j, "password", v->password);
		else
			cJSON_AddNullToObject(j, "password");
		cJSON_AddBoolToObject(j, "running", running);
		cJSON_AddStringToObject(j, "backend", v->host ? "libvirt"
							     : "direct");
		if (v->host != NULL)
			cJSON_AddStringToObject(j, "host", v->host);
		view_print_json(j);
		cJSON_Delete(j);
		return;
	}
	if (v->socket != NULL)
		printf("socket:   %s (UNIX socket, no password)\n"
		       "from another machine: ssh -L 5900:%s root@%s, then "
		       "vnc://localhost:5900\n", v->socket, v->socket,
		       v->where ? v->where : "THIS-HOST");
	else
		printf("endpoint: %s\nurl:      vnc://%s\n", v->endpoint,
		       v->endpoint);
	if (v->socket == NULL && v->password != NULL)
		printf("password: %s\n", v->password);
	if (!running)
		printf("(VM %s is %s)\n", v->name, vm_run_state_name(v->state));
}
