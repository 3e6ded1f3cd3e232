// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vmctl completion bash|zsh|fish: the script; vmctl __complete WORD...:
 * what the script offers at a TAB (complete.h).
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vmctl/cmd.h"
#include "vmctl/complete.h"
#include "vmctl/proc.h"
#include "vmctl/strv.h"
#include "vmctl/xalloc.h"

static const char bash_script[] =
	"# bash completion for vmctl (vmctl completion bash)\n"
	"_vmctl() {\n"
	"\tlocal line cur\n"
	"\tlocal -a words\n"
	"\tCOMPREPLY=()\n"
	"\t# Split the line on blanks only: ':' and '=' are parts of GPU\n"
	"\t# addresses and options, not word breaks.\n"
	"\tif [[ -n ${COMP_LINE-} ]]; then\n"
	"\t\tline=${COMP_LINE:0:COMP_POINT}\n"
	"\t\tread -ra words <<< \"$line\"\n"
	"\t\t[[ $line == *[[:space:]] || ${#words[@]} -eq 0 ]] && words+=('')\n"
	"\telse\n"
	"\t\twords=(\"${COMP_WORDS[@]:0:COMP_CWORD+1}\")\n"
	"\tfi\n"
	"\tcur=${words[${#words[@]}-1]}\n"
	"\t# bash replaces only what follows the last word break.\n"
	"\tlocal cut=${cur%\"${COMP_WORDS[COMP_CWORD]}\"}\n"
	"\t[[ $cut == \"$cur\" ]] && cut=\n"
	"\twhile IFS= read -r line; do\n"
	"\t\tline=${line%%$'\\t'*}\n"
	"\t\tCOMPREPLY+=(\"${line#\"$cut\"}\")\n"
	"\tdone < <(\"${words[0]}\" __complete \"${words[@]:1}\" 2>/dev/null)\n"
	"\tif [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == */ ]]; then\n"
	"\t\tcompopt -o nospace 2>/dev/null\n"
	"\tfi\n"
	"\treturn 0\n"
	"}\n"
	"complete -F _vmctl vmctl\n";

static const char zsh_script[] =
	"#compdef vmctl\n"
	"# zsh completion for vmctl (vmctl completion zsh)\n"
	"_vmctl() {\n"
	"\tlocal line word desc\n"
	"\tlocal -a cands\n"
	"\tfor line in \"${(@f)$(${words[1]} __complete "
	"\"${(@)words[2,CURRENT]}\" 2>/dev/null)}\"; do\n"
	"\t\t[[ -z $line ]] && continue\n"
	"\t\tword=${line%%$'\\t'*}\n"
	"\t\tdesc=\n"
	"\t\t[[ $line == *$'\\t'* ]] && desc=${line#*$'\\t'}\n"
	"\t\tcands+=(\"${word//:/\\\\:}${desc:+:$desc}\")\n"
	"\tdone\n"
	"\t(( ${#cands} )) || return 1\n"
	"\t_describe -t vmctl vmctl cands\n"
	"}\n"
	"if [[ ${zsh_eval_context[-1]} == loadautofunc ]]; then\n"
	"\t_vmctl \"$@\"\n"
	"else\n"
	"\tcompdef _vmctl vmctl\n"
	"fi\n";

static const char fish_script[] =
	"# fish completion for vmctl (vmctl completion fish)\n"
	"complete -c vmctl -e\n"
	"function __vmctl_complete\n"
	"\tset -l words (commandline -opc)\n"
	"\t$words[1] __complete $words[2..-1] (commandline -ct) "
	"2>/dev/null\n"
	"end\n"
	"complete -c vmctl -f -a '(__vmctl_complete)'\n";

int complete_script(FILE *out, const char *shell)
{
	const char *s = strcmp(shell, "bash") == 0 ? bash_script
			: strcmp(shell, "zsh") == 0 ? zsh_script
			: strcmp(shell, "fish") == 0 ? fish_script : NULL;

	if (s == NULL)
		return -1;
	fputs(s, out);
	return 0;
}

/* ---- candidates ------------------------------------------------------ */

static void offer(const char *word, const char *desc, const char *cur)
{
	if (strncmp(word, cur, strlen(cur)) != 0)
		return;
	if (desc != NULL)
		printf("%s\t%s\n", word, desc);
	else
		printf("%s\n", word);
}

/* `vmctl GLOBALS... ARGS... --json`, parsed; NULL if it fails. */
static cJSON *run_json(const struct strv *globals, const char *const *args)
{
	struct strv argv = { 0 };
	struct proc_result r = { 0 };
	struct vmctl_error *e = NULL;
	cJSON *json = NULL;

	strv_push(&argv, "/proc/self/exe");
	strv_extend(&argv, globals);
	for (; *args != NULL; args++)
		strv_push(&argv, *args);
	strv_push(&argv, "--json");
	if (proc_run(&argv, &r, &e) == 0 && r.status == 0)
		json = cJSON_Parse(r.out);
	vmctl_error_free(e);
	proc_result_clear(&r);
	strv_clear(&argv);
	return json;
}

/* The string `key` of each object in the array `json` (or in the array
 * `list` of the object `json`). */
static void offer_field(const cJSON *json, const char *list, const char *key,
			const char *cur)
{
	const cJSON *item;

	if (cJSON_IsObject(json))
		json = cJSON_GetObjectItemCaseSensitive(json, list);
	cJSON_ArrayForEach(item, json) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, key);

		if (cJSON_IsString(v))
			offer(v->valuestring, NULL, cur);
	}
}

static void offer_gpus(const struct strv *globals, const char *cur)
{
	static const char *const args[] = { "gpu", "list", NULL };
	static const char *const vendors[] = { "NVIDIA", "AMD", "Intel" };
	cJSON *json = run_json(globals, args);
	const cJSON *gpus = cJSON_IsArray(json) ? json : NULL, *gpu;

	for (size_t i = 0; i < sizeof(vendors) / sizeof(vendors[0]); i++)
		offer(vendors[i], NULL, cur);
	offer_field(json, "gpus", "address", cur);
	cJSON_ArrayForEach(gpu, gpus) {
		const cJSON *v = cJSON_GetObjectItem(gpu, "vendor_id");
		const cJSON *d = cJSON_GetObjectItem(gpu, "device_id");

		if (cJSON_IsString(v) && cJSON_IsString(d)) {
			cleanup_free char *id = xasprintf(
				"%s:%s", v->valuestring + (strncmp(
				v->valuestring, "0x", 2) == 0 ? 2 : 0),
				d->valuestring + (strncmp(d->valuestring,
							  "0x", 2) == 0
						  ? 2 : 0));

			offer(id, NULL, cur);
		}
	}
	cJSON_Delete(json);
}

/* Files under cur's directory: directories, and with `exts` only files
 * ending so; dirs_only for directories alone. */
static void offer_files(const char *cur, const char *const *exts,
			bool dirs_only)
{
	const char *slash = strrchr(cur, '/');
	cleanup_free char *dir = slash == NULL ? xstrdup(".")
				 : slash == cur ? xstrdup("/")
				 : xstrndup(cur, (size_t)(slash - cur));
	const char *base = slash == NULL ? cur : slash + 1;
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		cleanup_free char *path = NULL, *word = NULL;
		struct stat st;
		bool ok = false;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strncmp(de->d_name, base, strlen(base)) != 0 ||
		    (de->d_name[0] == '.' && base[0] != '.'))
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		if (stat(path, &st) < 0)
			continue;
		word = slash == NULL ? xstrdup(de->d_name)
		       : xasprintf("%.*s%s", (int)(slash - cur + 1), cur,
				   de->d_name);
		if (S_ISDIR(st.st_mode)) {
			printf("%s/\n", word);
			continue;
		}
		if (dirs_only)
			continue;
		for (size_t i = 0; exts == NULL || exts[i] != NULL; i++) {
			size_t n = strlen(de->d_name), e;

			if (exts == NULL) {
				ok = true;
				break;
			}
			e = strlen(exts[i]);
			if (n > e && strcmp(de->d_name + n - e, exts[i]) == 0)
				ok = true;
		}
		if (ok)
			printf("%s\n", word);
	}
	closedir(d);
}

static void offer_options(const struct cmd_entry *cmd, const char *cur)
{
	for (const struct option *o = cmd != NULL ? cmd->options : NULL;
	     o != NULL && o->name != NULL; o++) {
		cleanup_free char *w = xasprintf("--%s", o->name);

		offer(w, NULL, cur);
	}
	for (const struct cmd_doc *d = cmd_global_docs; d->term; d++) {
		cleanup_free char *terms = xstrdup(d->term);
		char *save = NULL;

		for (char *t = strtok_r(terms, ", ", &save); t != NULL;
		     t = strtok_r(NULL, ", ", &save))
			if (t[0] == '-' && t[1] == '-' &&
			    (cmd == NULL || strcmp(t, "--version") != 0) &&
			    (cmd == NULL || cmd->remote ||
			     strcmp(t, "--connect") != 0))
				offer(t, d->text, cur);
	}
}

static void offer_operand(const struct cmd_entry *cmd, const struct strv *done,
			  const struct strv *globals, const char *cur)
{
	static const char *const spec_exts[] = { ".yaml", ".yml", ".json",
						 NULL };
	static const char *const list[] = { "list", NULL };
	struct strv words = { 0 };
	const char *vm = NULL;
	cJSON *json;

	switch (complete_operand(cmd, done->v, done->n, &words, &vm)) {
	case COMPLETE_VM:
		json = run_json(globals, list);
		offer_field(json, "vms", "name", cur);
		cJSON_Delete(json);
		break;
	case COMPLETE_SNAPSHOT:
		if (vm != NULL) {
			const char *const args[] = { "snapshot", "list", vm,
						     NULL };

			json = run_json(globals, args);
			offer_field(json, "snapshots", "name", cur);
			cJSON_Delete(json);
		}
		break;
	case COMPLETE_GPU:
		offer_gpus(globals, cur);
		break;
	case COMPLETE_SPEC:
		offer_files(cur, spec_exts, false);
		break;
	case COMPLETE_FILE:
		offer_files(cur, NULL, false);
		break;
	case COMPLETE_DIR:
		offer_files(cur, NULL, true);
		break;
	case COMPLETE_WORDS:
	case COMPLETE_NONE:
		break;
	}
	for (size_t i = 0; i < words.n; i++)
		offer(words.v[i], NULL, cur);
	strv_clear(&words);
}

/* argv: "__complete", the words after "vmctl", the last being completed. */
int complete_main(int argc, char **argv)
{
	const struct cmd_entry *cmd = NULL;
	struct strv globals = { 0 }, done = { 0 };
	const char *cur = argc > 1 ? argv[argc - 1] : "";
	const char *prev = argc > 2 ? argv[argc - 2] : NULL;
	bool help = false, passthrough = false;

	for (int i = 1; i < argc - 1; i++) {
		const char *w = argv[i];
		cleanup_free char *name = xstrndup(w, strcspn(w, "="));
		/* --state-dir and --connect go to what lists VMs. */
		bool global = complete_option_takes_arg(NULL, name);

		if (passthrough) {
			continue;
		} else if (strcmp(w, "--") == 0 && (cmd != NULL || help)) {
			passthrough = true;
		} else if (w[0] == '-' && w[1] != '\0') {
			bool arg = complete_option_takes_arg(cmd, w);

			if (global)
				strv_push(&globals, w);
			if (arg && i + 1 < argc - 1) {
				if (global)
					strv_push(&globals, argv[i + 1]);
				i++;
			}
		} else if (cmd == NULL && !help) {
			help = strcmp(w, "help") == 0;
			cmd = help ? NULL : cmd_find(cmd_table, w);
			if (cmd == NULL && !help)
				goto out;
		} else {
			strv_push(&done, w);
		}
	}
	if (passthrough)
		goto out;
	if (prev != NULL && complete_option_takes_arg(cmd, prev)) {
		if (strstr(prev, "dir") != NULL || strstr(prev, "root") != NULL)
			offer_files(cur, NULL, true);
		else if (strcmp(prev, "--connect") != 0 &&
			 strcmp(prev, "--to") != 0 &&
			 strcmp(prev, "--host") != 0)
			offer_files(cur, NULL, false);
	} else if (cur[0] == '-') {
		offer_options(cmd, cur);
	} else if (cmd == NULL && (!help || done.n == 0)) {
		for (size_t i = 0; cmd_table[i] != NULL; i++)
			offer(cmd_table[i]->name, cmd_table[i]->summary, cur);
		if (!help)
			offer("help", "the help of one command", cur);
	} else if (cmd != NULL) {
		offer_operand(cmd, &done, &globals, cur);
	}
out:
	strv_clear(&globals);
	strv_clear(&done);
	return VMCTL_EXIT_OK;
}

static int cmd_completion_exec(struct vmctl_env *env, int argc, char **argv,
			       struct vmctl_error **err)
{
	int opt;

	while ((opt = cmd_getopt(&cmd_completion_entry, env, argc, argv, "",
				 NULL)) != -1)
		return cmd_done(opt);
	if (argc - optind != 1)
		return cmd_usage_error(&cmd_completion_entry, err,
				       "give one shell: bash, zsh or fish");
	if (complete_script(stdout, argv[optind]) < 0)
		return cmd_usage_error(&cmd_completion_entry, err,
				       "no completion for %s (bash, zsh or "
				       "fish)", argv[optind]);
	return VMCTL_EXIT_OK;
}

const struct cmd_entry cmd_completion_entry = {
	.name = "completion",
	.usage = "bash|zsh|fish",
	.summary = "print the shell completion script for bash, zsh or fish",
	.help = "Commands, options, VM names, spec files, GPU selectors and "
		"snapshot names.\n"
		"  bash: source <(vmctl completion bash)\n"
		"  zsh:  source <(vmctl completion zsh)  (after compinit)\n"
		"  fish: vmctl completion fish | source\n"
		"make install puts the scripts where each shell looks.\n",
	.exec = cmd_completion_exec,
};
