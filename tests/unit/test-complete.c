// SPDX-License-Identifier: GPL-2.0-or-later
/* Completion: what an operand may be, read from a command's usage. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmctl/complete.h"
#include "vmctl/spec-schema.h"

static const struct option snap_options[] = {
	{ "memory", no_argument, NULL, 'm' },
	{ NULL, 0, NULL, 0 },
};

static const struct cmd_entry snapshot = {
	.name = "snapshot",
	.usage = "create NAME SNAP [--memory] | list NAME [--json] | "
		 "revert NAME SNAP | delete NAME SNAP",
	.options = snap_options,
};

static const struct option create_options[] = {
	{ "name", required_argument, NULL, 'n' },
	{ "wait", optional_argument, NULL, 'w' },
	{ "host", required_argument, NULL, 'H' },
	{ NULL, 0, NULL, 0 },
};

static const struct cmd_entry create = {
	.name = "create",
	.usage = "[SPEC] [--name NAME] [--wait[=SECONDS]] [--host NAME|auto]",
	.options = create_options,
};

static const struct cmd_entry host = {
	.name = "host",
	.usage = "[--json] | --all-hosts [--json] |\n       ksm "
		 "on|off|status [--unmerge] |\n       "
		 "reserve [SIZE|PERCENT%|default] [--dry-run] [--json]",
};

static const struct option setup_options[] = {
	{ "root", required_argument, NULL, 'r' },
	{ NULL, 0, NULL, 0 },
};

static const struct cmd_entry setup = {
	.name = "host-setup",
	.usage = "[SELECTOR...] [--root DIR]\n"
		 "       vmctl host-setup --confirm [--yes]",
	.options = setup_options,
};

/* The kind at operand n_done, and the literal words joined by ' '. */
static enum complete_kind at(const struct cmd_entry *cmd, const char *typed,
			     char **words, const char **vm)
{
	char *copy = strdup(typed), *argv[8], *save = NULL;
	size_t n = 0;
	struct strv w = { 0 };
	enum complete_kind k;
	static char vm_buf[64];

	for (char *t = strtok_r(copy, " ", &save); t != NULL && n < 8;
	     t = strtok_r(NULL, " ", &save))
		argv[n++] = t;
	k = complete_operand(cmd, argv, n, &w, vm);
	if (*vm != NULL) {
		strncpy(vm_buf, *vm, sizeof(vm_buf) - 1);
		*vm = vm_buf;
	}
	*words = w.n > 0 ? strv_join(&w, " ") : strdup("");
	strv_clear(&w);
	free(copy);
	return k;
}

static void test_operands(void)
{
	char *words;
	const char *vm;

	ok(at(&snapshot, "", &words, &vm) == COMPLETE_WORDS,
	   "snapshot: a subcommand first");
	is_str(words, "create list revert delete", "its subcommands");
	free(words);
	ok(at(&snapshot, "list", &words, &vm) == COMPLETE_VM, "list NAME");
	free(words);
	ok(at(&snapshot, "revert web", &words, &vm) == COMPLETE_SNAPSHOT,
	   "revert NAME SNAP");
	is_str(vm, "web", "the snapshots of the VM named before");
	free(words);
	ok(at(&snapshot, "list web", &words, &vm) == COMPLETE_NONE,
	   "list takes one operand");
	free(words);
	ok(at(&snapshot, "bogus", &words, &vm) == COMPLETE_NONE,
	   "no form starts with bogus");
	free(words);
	/* --name NAME is the option's argument, not a VM operand. */
	ok(at(&create, "", &words, &vm) == COMPLETE_SPEC, "create [SPEC]");
	free(words);
	ok(at(&create, "a.yaml", &words, &vm) == COMPLETE_NONE,
	   "create: one spec only");
	free(words);
	ok(at(&host, "", &words, &vm) == COMPLETE_WORDS, "host: subcommands");
	is_str(words, "ksm reserve", "ksm and reserve");
	free(words);
	ok(at(&host, "ksm", &words, &vm) == COMPLETE_WORDS, "host ksm");
	is_str(words, "on off status", "its choices");
	free(words);
	ok(at(&host, "reserve", &words, &vm) == COMPLETE_WORDS,
	   "host reserve");
	is_str(words, "default", "only the literal of SIZE|PERCENT%%|default");
	free(words);
	ok(at(&setup, "NVIDIA", &words, &vm) == COMPLETE_GPU,
	   "SELECTOR... repeats");
	free(words);
	ok(complete_option_takes_arg(&create, "--name") &&
	   !complete_option_takes_arg(&create, "--wait") &&
	   !complete_option_takes_arg(&create, "--name=x") &&
	   complete_option_takes_arg(NULL, "--state-dir") &&
	   !complete_option_takes_arg(NULL, "--json"),
	   "options that take an argument");
}

struct seen {
	int top, nested, pin_depth;
	bool cpus_has_keys, gpu_has_keys, name_has_keys;
};

static void count(void *ctx, const char *path, const char *name, int depth,
		  bool has_keys)
{
	struct seen *s = ctx;

	(void)name;
	*(depth == 0 ? &s->top : &s->nested) += 1;
	if (strcmp(path, "cpus.pin") == 0)
		s->pin_depth = depth;
	if (strcmp(path, "cpus") == 0)
		s->cpus_has_keys = has_keys;
	if (strcmp(path, "gpu") == 0)
		s->gpu_has_keys = has_keys;
	if (strcmp(path, "name") == 0)
		s->name_has_keys = has_keys;
}

static void test_schema_keys(void)
{
	struct seen s = { 0 };

	spec_schema_keys(count, &s);
	ok(s.top >= 20, "top-level keys: %d", s.top);
	ok(s.nested >= 30, "nested keys: %d", s.nested);
	ok(s.pin_depth == 1, "cpus.pin one level down");
	ok(s.cpus_has_keys && s.gpu_has_keys && !s.name_has_keys,
	   "a mapping (cpus) and a list of them (gpu) have keys; name not");
}

int main(void)
{
	test_operands();
	test_schema_keys();
	return tap_done();
}
