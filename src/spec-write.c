// SPDX-License-Identifier: GPL-2.0-or-later
/* A loaded spec back to JSON: the normalized spec a VM's state keeps.
 * Every default is written out, so reading it back gives the same VM even
 * if a later vmctl changes its defaults. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "vmctl/broker.h"
#include "vmctl/cpulist.h"
#include "vmctl/spec.h"
#include "vmctl/xalloc.h"

static void add_size(cJSON *obj, const char *key, uint64_t bytes)
{
	static const char units[] = "KMGT";
	char text[32];
	int u = 3;

	/* The largest unit that divides it: 2048M reads back as 2G. */
	while (u > 0 && bytes % (1ULL << (10 * (u + 1))) != 0)
		u--;
	snprintf(text, sizeof(text), "%" PRIu64 "%c", bytes >> (10 * (u + 1)),
		 units[u]);
	cJSON_AddStringToObject(obj, key, text);
}

static void add_opt_string(cJSON *obj, const char *key, const char *value)
{
	if (value != NULL)
		cJSON_AddStringToObject(obj, key, value);
}

static void add_strv(cJSON *obj, const char *key, const struct strv *sv)
{
	cJSON *arr = cJSON_AddArrayToObject(obj, key);

	for (size_t i = 0; i < sv->n; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(sv->v[i]));
}

static const char *const disk_buses[] = { "virtio", "sata", "scsi" };
static const char *const nic_models[] = { "virtio", "e1000e" };

static cJSON *gpu_to_json(const struct spec_gpu *g)
{
	cJSON *o = cJSON_CreateObject();
	char text[32];

	switch (g->selector) {
	case SPEC_GPU_VENDOR:
		cJSON_AddStringToObject(o, "vendor", g->vendor);
		break;
	case SPEC_GPU_ID:
		snprintf(text, sizeof(text), "%04x:%04x", g->vendor_id,
			 g->device_id);
		cJSON_AddStringToObject(o, "id", text);
		break;
	case SPEC_GPU_ADDRESS:
		snprintf(text, sizeof(text), "%04x:%02x:%02x.%x",
			 g->address.domain, g->address.bus, g->address.dev,
			 g->address.func);
		cJSON_AddStringToObject(o, "address", text);
		break;
	}
	if (g->selector != SPEC_GPU_ADDRESS)
		cJSON_AddNumberToObject(o, "index", g->index);
	cJSON_AddBoolToObject(o, "x_vga", g->x_vga);
	add_opt_string(o, "rom", g->rom);
	cJSON_AddBoolToObject(o, "managed", g->managed);
	return o;
}

cJSON *spec_to_json(const struct vmctl_spec *spec)
{
	cJSON *o = cJSON_CreateObject(), *sub, *arr;

	cJSON_AddStringToObject(o, "name", spec->name);
	cJSON_AddStringToObject(o, "backend", spec_backend_name(spec->backend));
	if (spec->connect != NULL)
		cJSON_AddStringToObject(o, "connect", spec->connect);
	sub = cJSON_AddObjectToObject(o, "cpus");
	cJSON_AddNumberToObject(sub, "sockets", spec->cpus.sockets);
	cJSON_AddNumberToObject(sub, "cores", spec->cpus.cores);
	cJSON_AddNumberToObject(sub, "threads", spec->cpus.threads);
	if (spec->cpus.pin == SPEC_PIN_LIST) {
		char *pins = cpulist_format(spec->cpus.pin_list.v,
					    spec->cpus.pin_list.n);

		cJSON_AddStringToObject(sub, "pin", pins);
		free(pins);
	} else {
		cJSON_AddStringToObject(sub, "pin",
					spec->cpus.pin == SPEC_PIN_AUTO
					? "auto" : "none");
	}
	sub = cJSON_AddObjectToObject(o, "memory");
	add_size(sub, "size", spec->memory);
	cJSON_AddStringToObject(sub, "hugepages",
				broker_huge_name(spec->hugepages));
	cJSON_AddBoolToObject(sub, "merge", spec->mem_merge);
	cJSON_AddBoolToObject(sub, "balloon", spec->balloon);
	cJSON_AddStringToObject(o, "machine", spec->machine);
	cJSON_AddStringToObject(o, "accel", spec_accel_name(spec->accel));
	cJSON_AddStringToObject(o, "firmware",
				spec_firmware_name(spec->firmware));
	if (spec->disk.image != NULL) {
		sub = cJSON_AddObjectToObject(o, "disk");
		cJSON_AddStringToObject(sub, "image", spec->disk.image);
		add_opt_string(sub, "sha256", spec->disk.sha256);
		add_opt_string(sub, "sha512", spec->disk.sha512);
		add_opt_string(sub, "checksum_url", spec->disk.checksum_url);
		add_opt_string(sub, "checksum_sig_url",
			       spec->disk.checksum_sig_url);
		add_opt_string(sub, "keyring", spec->disk.keyring);
		if (spec->disk.size != 0)
			add_size(sub, "size", spec->disk.size);
		cJSON_AddStringToObject(sub, "bus",
					disk_buses[spec->disk.bus]);
	}
	if (spec->cdrom_drive)
		cJSON_AddStringToObject(o, "cdrom", spec->cdrom != NULL
					? spec->cdrom : "empty");
	cJSON_AddStringToObject(o, "boot", spec_boot_name(spec->boot));
	if (spec->kernel.image != NULL) {
		sub = cJSON_AddObjectToObject(o, "kernel");
		cJSON_AddStringToObject(sub, "image", spec->kernel.image);
		add_opt_string(sub, "initrd", spec->kernel.initrd);
		add_opt_string(sub, "cmdline", spec->kernel.cmdline);
	}
	if (spec->cloud_init.enabled) {
		sub = cJSON_AddObjectToObject(o, "cloud_init");
		cJSON_AddStringToObject(sub, "user", spec->cloud_init.user);
		add_strv(sub, "ssh_authorized_keys",
			 &spec->cloud_init.ssh_authorized_keys);
		add_opt_string(sub, "password_hash",
			       spec->cloud_init.password_hash);
		add_strv(sub, "packages", &spec->cloud_init.packages);
		add_opt_string(sub, "user_data", spec->cloud_init.user_data);
	} else {
		cJSON_AddFalseToObject(o, "cloud_init");
	}
	sub = cJSON_AddObjectToObject(o, "network");
	if (spec->network.ssh_port != 0)
		cJSON_AddNumberToObject(sub, "ssh_port", spec->network.ssh_port);
	else
		cJSON_AddStringToObject(sub, "ssh_port", "auto");
	cJSON_AddStringToObject(sub, "ssh_listen", spec->network.ssh_listen);
	cJSON_AddStringToObject(sub, "model",
				nic_models[spec->network.model]);
	arr = cJSON_AddArrayToObject(sub, "forwards");
	for (size_t i = 0; i < spec->network.n_forwards; i++) {
		const struct spec_forward *f = &spec->network.forwards[i];
		char *text = *f->host_addr
			? xasprintf("%s:%s:%u:%u", f->proto, f->host_addr,
				    f->host_port, f->guest_port)
			: xasprintf("%s:%u:%u", f->proto, f->host_port,
				    f->guest_port);

		cJSON_AddItemToArray(arr, cJSON_CreateString(text));
		free(text);
	}
	sub = cJSON_AddObjectToObject(o, "vnc");
	cJSON_AddBoolToObject(sub, "enabled", spec->vnc.enabled);
	/* Without a password VNC is a UNIX socket: no address, no display
	 * (and the schema refuses them there). */
	if (spec->vnc.password) {
		cJSON_AddStringToObject(sub, "listen", spec->vnc.listen);
		if (spec->vnc.display >= 0)
			cJSON_AddNumberToObject(sub, "display",
						spec->vnc.display);
		else
			cJSON_AddStringToObject(sub, "display", "auto");
	}
	cJSON_AddBoolToObject(sub, "password", spec->vnc.password);
	if (spec->n_gpus > 0) {
		arr = cJSON_AddArrayToObject(o, "gpu");
		for (size_t i = 0; i < spec->n_gpus; i++)
			cJSON_AddItemToArray(arr, gpu_to_json(&spec->gpus[i]));
	}
	if (spec->n_usb > 0) {
		arr = cJSON_AddArrayToObject(o, "usb");
		for (size_t i = 0; i < spec->n_usb; i++) {
			const struct spec_usb *u = &spec->usb[i];
			cJSON *x = cJSON_CreateObject();
			char id[16];

			if (u->port != NULL) {
				cJSON_AddNumberToObject(x, "bus", u->bus);
				cJSON_AddStringToObject(x, "port", u->port);
			} else {
				snprintf(id, sizeof(id), "%04x:%04x",
					 u->vendor_id, u->product_id);
				cJSON_AddStringToObject(x, "id", id);
			}
			cJSON_AddItemToArray(arr, x);
		}
	}
	cJSON_AddBoolToObject(o, "hide_hypervisor", spec->hide_hypervisor);
	cJSON_AddBoolToObject(o, "hyperv", spec->hyperv);
	cJSON_AddBoolToObject(o, "tpm", spec->tpm);
	cJSON_AddBoolToObject(o, "overcommit", spec->overcommit);
	sub = cJSON_AddObjectToObject(o, "qemu");
	cJSON_AddStringToObject(sub, "binary", spec->qemu.binary);
	add_strv(sub, "extra_args", &spec->qemu.extra_args);
	return o;
}
