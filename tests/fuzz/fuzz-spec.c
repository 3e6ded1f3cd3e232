// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for the pure spec pipeline:
 *
 *   bytes -> spec_load_buffer() (as YAML, then as JSON)
 *         -> qemu_argv_build() on a hand-made host -> quote_shell_argv()
 *         -> libvirt_xml_build() on hand-made facts
 *
 * Every input is tried in both syntaxes, so corpus files stay plain specs
 * that `vmctl validate` accepts as reproducers.  Everything is freed, so
 * LeakSanitizer (on by default under libFuzzer + ASan) checks ownership.
 *
 * Besides crashes, the target checks the loader's promises and aborts when
 * one is broken: a failure sets an error with a message, a success
 * sets none, a loaded spec is complete and valid, and spec_to_json() of it
 * loads back to the same spec (spec.h).
 *
 *   make fuzz && build/fuzz/fuzz-spec -dict=tests/fuzz/spec.dict \
 *       tests/fuzz/corpus
 *   build/fuzz/fuzz-spec CRASH-FILE        # replay one input
 */
#include <cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/error.h"
#include "vmctl/libvirt-xml.h"
#include "vmctl/qemu-argv.h"
#include "vmctl/quote.h"
#include "vmctl/spec.h"
#include "vmctl/strv.h"
#include "vmctl/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: invariant broken: %s\n", \
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

static void check_spec(const struct vmctl_spec *spec)
{
	unsigned cpus = spec_cpu_count(spec);

	CHECK(spec->name != NULL && spec_name_valid(spec->name));
	CHECK(cpus >= 1 && cpus <= 255);
	CHECK(spec->memory >= (16ULL << 20) && spec->memory % (1ULL << 20) == 0);
	CHECK(spec->machine != NULL && spec->machine[0] != '\0');
	CHECK(spec->firmware != SPEC_FIRMWARE_DEFAULT);
	CHECK(spec->qemu.binary != NULL && spec->qemu.binary[0] != '\0');
	CHECK(spec->network.ssh_listen != NULL && spec->vnc.listen != NULL);
	CHECK(spec->network.ssh_port <= 65535);
	CHECK(spec->vnc.display >= -1 && spec->vnc.display <= 99);
	CHECK(spec->n_gpus == 0 || spec->gpus != NULL);
	/* memory and cpus.pin (spec-schema.c's cross-key checks) */
	CHECK(spec->hugepages == SPEC_HUGE_NONE || !spec->overcommit);
	CHECK(spec->hugepages == SPEC_HUGE_NONE ||
	      spec->memory % (2ULL << 20) == 0);
	CHECK(spec->hugepages != SPEC_HUGE_1G ||
	      spec->memory % (1ULL << 30) == 0);
	CHECK(!spec->balloon || spec->n_gpus == 0);
	CHECK(spec->cpus.pin == SPEC_PIN_LIST
	      ? spec->cpus.pin_list.n == cpus : spec->cpus.pin_list.n == 0);
	for (size_t i = 0; i < spec->n_gpus; i++)
		CHECK(spec->gpus[i].selector != SPEC_GPU_VENDOR ||
		      spec->gpus[i].vendor != NULL);
	for (size_t i = 0; i < spec->network.n_forwards; i++) {
		const struct spec_forward *f = &spec->network.forwards[i];

		CHECK(f->proto != NULL && f->host_addr != NULL);
		CHECK(f->host_port >= 1 && f->host_port <= 65535);
		CHECK(f->guest_port >= 1 && f->guest_port <= 65535);
	}
}

/* The host facts `cmdline` would gather, fixed: TCG, no probing. */
/*
 * The domain XML for the same host.  Every spec string is escaped, so the
 * only '<' and '>' are the tags' own (one of each a tag) and the only
 * apostrophes are the attribute quotes (two an attribute).
 */
static void build_xml(const struct vmctl_spec *spec,
		      const struct qemu_gpu *gpus)
{
	struct libvirt_facts facts = {
		.name = spec->name,
		.accel = SPEC_ACCEL_KVM,
		.emulator = "/usr/bin/qemu-system-x86_64",
		.overlay = "/x/disk.qcow2",
		.base = spec->disk.image,
		.base_format = "qcow2",
		.seed = "/x/seed.iso",
		.ovmf_code = "/ovmf",
		.nvram = "/x/vars",
		.serial_log = "/x/serial.log",
		.vnc_password = "pw",
		.hugepage_size = spec->hugepages == SPEC_HUGE_NONE ? 0
				 : 2ULL << 20,
		.gpus = gpus,
		.n_gpus = spec->n_gpus,
	};
	struct vmctl_error *err = NULL;
	char *xml = NULL;

	if (libvirt_xml_build(spec, &facts, &xml, &err) == 0) {
		size_t lt = 0, gt = 0, apos = 0;

		CHECK(err == NULL);
		CHECK(strncmp(xml, "<domain ", 8) == 0);
		for (const char *p = xml; *p; p++) {
			lt += *p == '<';
			gt += *p == '>';
			apos += *p == '\'';
		}
		CHECK(lt == gt && apos % 2 == 0);
		free(xml);
	} else {
		CHECK(err != NULL && err->message != NULL);
	}
	vmctl_error_free(err);
}

static void build_argv(const struct vmctl_spec *spec)
{
	struct qemu_gpu *gpus = NULL;
	struct qemu_host host = {
		.vm_dir = "/x",
		.accel = SPEC_ACCEL_TCG,
		.ssh_port = 2222,
		.vnc_display = 0,
		.ovmf_code = "/ovmf",
		/* what hostfacts.c picks on a host without 1G pages */
		.hugepage_size = spec->hugepages == SPEC_HUGE_NONE ? 0
				 : spec->hugepages == SPEC_HUGE_1G
				 ? 1ULL << 30 : 2ULL << 20,
		.mem_node = spec->hugepages == SPEC_HUGE_2M ? 1 : -1,
	};
	struct strv argv = { 0 };
	struct vmctl_error *err = NULL;

	if (spec->n_gpus > 0) {
		gpus = xcalloc(spec->n_gpus, sizeof(*gpus));
		for (size_t i = 0; i < spec->n_gpus; i++) {
			gpus[i].functions = xmalloc(sizeof(*gpus[i].functions));
			gpus[i].functions[0] = spec->gpus[i].address;
			gpus[i].n_functions = 1;
			gpus[i].spec = &spec->gpus[i];
		}
	}
	host.gpus = gpus;
	host.n_gpus = spec->n_gpus;

	if (qemu_argv_build(spec, &host, &argv, &err) == 0) {
		char *line;

		CHECK(err == NULL);
		CHECK(argv.n > 0 && argv.v[argv.n] == NULL);
		CHECK(strcmp(argv.v[0], spec->qemu.binary) == 0);
		line = quote_shell_argv(&argv);
		free(line);
	} else {
		CHECK(err != NULL && err->message != NULL);
	}
	vmctl_error_free(err);
	strv_clear(&argv);
	build_xml(spec, gpus);
	for (size_t i = 0; i < spec->n_gpus; i++)
		free(gpus[i].functions);
	free(gpus);
}

static char *normalized(const struct vmctl_spec *spec)
{
	cJSON *json = spec_to_json(spec);
	char *text;

	CHECK(json != NULL);
	text = cJSON_PrintUnformatted(json);
	cJSON_Delete(json);
	CHECK(text != NULL);
	return text;
}

/* The normalized JSON a VM's state keeps must load back to the same spec:
 * same normalized text, with nothing refused on the way. */
static void check_round_trip(const struct vmctl_spec *spec)
{
	struct vmctl_spec *again = NULL;
	struct vmctl_error *err = NULL;
	char *first = normalized(spec), *second;

	if (spec_load_buffer("normalized.json", first, strlen(first),
			     SPEC_SYNTAX_JSON, &again, &err) < 0) {
		fprintf(stderr, "normalized spec does not load back:\n%s\n%s\n",
			first, err->message);
		abort();
	}
	second = normalized(again);
	if (strcmp(first, second) != 0) {
		fprintf(stderr, "normalized spec changes when reloaded:\n"
			"%s\n%s\n", first, second);
		abort();
	}
	free(first);
	free(second);
	spec_free(again);
}

static void load(const uint8_t *data, size_t size, enum spec_syntax syntax)
{
	struct vmctl_spec *spec = NULL;
	struct vmctl_error *err = NULL;
	const char *file = syntax == SPEC_SYNTAX_JSON ? "fuzz.json"
						      : "fuzz.yaml";

	if (spec_load_buffer(file, (const char *)data, size, syntax, &spec,
			     &err) == 0) {
		CHECK(spec != NULL && err == NULL);
		check_spec(spec);
		build_argv(spec);
		check_round_trip(spec);
	} else {
		CHECK(spec == NULL);
		CHECK(err != NULL && err->message != NULL);
	}
	vmctl_error_free(err);
	spec_free(spec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	load(data, size, SPEC_SYNTAX_YAML);
	load(data, size, SPEC_SYNTAX_JSON);
	return 0;
}
