// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vmctl ssh NAME [--print] [--host HOST] [-- CMD ARGS...]
 * vmctl ssh-config [--prefix PREFIX] NAME...
 * vmctl cp [--print] SRC DST
 * All three from ssh.c's one list of options for a VM (ssh_options()).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmctl/cmd.h"
#include "vmctl/lvvm-ssh.h"
#include "vmctl/quote.h"
#include "vmctl/ssh.h"
#include "vmctl/view.h"
#include "vmctl/vm.h"
#include "vmctl/xalloc.h"

extern char **environ;

/* Keep the last `cap` bytes seen; n is never more than cap. */
static void keep_tail(char *tail, size_t *len, size_t cap, const char *buf,
		      size_t n)
{
	if (*len + n > cap) {
		size_t drop = *len + n - cap;

		memmove(tail, tail + drop, *len - drop);
		*len -= drop;
	}
	memcpy(tail + *len, buf, n);
	*len += n;
}

/*
 * Run ssh with our terminal, relaying its stderr so a host key that is
 * not the pinned one can be named as such.  Returns ssh's exit status.
 */
static int run_ssh(const struct strv *argv, const char *vm,
		   struct vmctl_error **err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t dflt;
	char tail[4096] = "", buf[1024];
	size_t tail_len = 0;
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_int, old_quit;
	int pipefd[2], status, rc;
	pid_t pid;
	ssize_t r;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno, "pipe");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	posix_spawnattr_init(&attr);
	sigemptyset(&dflt);
	sigaddset(&dflt, SIGINT);
	sigaddset(&dflt, SIGQUIT);
	posix_spawnattr_setsigdefault(&attr, &dflt);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
	/* Ctrl-C belongs to the remote side while ssh runs. */
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	rc = posix_spawnp(&pid, argv->v[0], &fa, &attr, argv->v, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(pipefd[1]);
	if (rc != 0) {
		close(pipefd[0]);
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGQUIT, &old_quit, NULL);
		return vmctl_error_errno(err, rc == ENOENT
					 ? VMCTL_EXIT_UNAVAILABLE
					 : VMCTL_EXIT_FAILURE, rc,
					 "cannot run ssh");
	}
	while ((r = read(pipefd[0], buf, sizeof(buf))) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		keep_tail(tail, &tail_len, sizeof(tail) - 1, buf, (size_t)r);
		/* If our own stderr is gone, keep draining ssh's anyway. */
		(void)!write(STDERR_FILENO, buf, (size_t)r);
		tail[tail_len] = '\0';
	}
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	status = WIFEXITED(status) ? WEXITSTATUS(status)
				   : 128 + WTERMSIG(status);
	if (status == 255 && ssh_stderr_says_key_mismatch(tail))
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "VM %s: its SSH host key is not the one "
				       "vmctl pinned when it created the VM; "
				       "refusing to connect", vm);
	return status;
}

static void print_argv(const struct strv *argv)
{
	char *line = quote_shell_argv(argv);

	puts(line);
	free(line);
}

/* ssh.c's target for VM `name`, as `ssh` reaches it (with --connect:
 * lvvm_ssh_target()); its strings kept in *hold. */
static int ssh_target_of(const struct vmctl_env *env, const char *name,
			 struct ssh_target *t, struct strv *hold,
			 struct vmctl_error **err)
{
	struct vm_info vm = { 0 };
	cleanup_free char *dir = NULL;
	int ret;

	if (env->connect != NULL)
		return lvvm_ssh_target(env, name, t, hold, err);
	if (vm_inspect(env, name, &vm, err) < 0)
		return -1;
	ret = vm_ssh_target(env, &vm, &dir, t, err);
	if (ret == 0)
		ssh_target_keep(t, hold);
	vm_info_clear(&vm);
	return ret;
}

static const struct option options[] = {
	{ "print", no_argument, NULL, 'p' },
	{ "host", required_argument, NULL, 'H' },
	{ NULL, 0, NULL, 0 },
};

static int cmd_ssh_exec(struct vmctl_env *env, int argc, char **argv,
			struct vmctl_error **err)
{
	struct vm_info vm = { 0 };
	struct ssh_target t;
	struct strv ssh = { 0 }, command = { 0 };
	cleanup_free char *dir = NULL, *host = NULL;
	const char *host_opt = NULL;
	bool print = false;
	int opt, ret;

	/* "+": stop at NAME, so the remote command's options stay its own. */
	while ((opt = cmd_getopt(&cmd_ssh_entry, env, argc, argv, "+",
				 options)) != -1) {
		if (opt == 'p')
			print = true;
		else if (opt == 'H')
			host_opt = optarg;
		else
			return cmd_done(opt);
	}
	if (optind >= argc)
		return cmd_usage_error(&cmd_ssh_entry, err, "no VM name given");
	for (int i = optind + 1; i < argc; i++) {
		if (i == optind + 1 && strcmp(argv[i], "--") == 0)
			continue;
		strv_push(&command, argv[i]);
	}
	if (env->connect != NULL) {
		/* the guest's lease on the libvirt host (lvvm-ssh.c) */
		ret = host_opt != NULL
			? cmd_usage_error(&cmd_ssh_entry, err, "--host: not "
					  "with --connect (the guest is reached "
					  "at its address on the libvirt host)")
			: lvvm_ssh_command(env, argv[optind], &command, &ssh,
					   err);
		if (ret == 0 && print)
			print_argv(&ssh);
		else if (ret == 0)
			ret = run_ssh(&ssh, argv[optind], err);
		strv_clear(&ssh);
		strv_clear(&command);
		return ret;
	}
	if (vm_inspect(env, argv[optind], &vm, err) < 0) {
		strv_clear(&command);
		return -1;
	}
	if (vm_ssh_target(env, &vm, &dir, &t, err) < 0) {
		strv_clear(&command);
		vm_info_clear(&vm);
		return -1;
	}
	if (print) {
		/* For another machine: this host's address, not loopback. */
		host = host_opt ? xstrdup(host_opt)
			: strcmp(vm.spec->network.ssh_listen, "0.0.0.0") == 0
			? view_host_address() : xstrdup(t.host);
		t.host = host;
		ssh_argv(&t, false, &command, &ssh);
		print_argv(&ssh);
		ret = VMCTL_EXIT_OK;
	} else {
		if (host_opt != NULL)
			t.host = host_opt;
		ssh_argv(&t, false, &command, &ssh);
		ret = run_ssh(&ssh, vm.name, err);
	}
	strv_clear(&ssh);
	strv_clear(&command);
	vm_info_clear(&vm);
	return ret;
}

const struct cmd_entry cmd_ssh_entry = {
	.name = "ssh",
	.usage = "NAME [--print] [--host HOST] [-- COMMAND [ARGS...]]",
	.summary = "log in to a VM over SSH, its host key pinned",
	.help = "Runs OpenSSH with the VM's own key and a known_hosts that "
		"holds the host key\nvmctl gave the guest at create "
		"(StrictHostKeyChecking=yes): no trust on\nfirst use. With "
		"COMMAND, runs it (its words reach the guest as given) and\n"
		"exits with its status. --print prints the ssh command instead, "
		"with this\nhost's address (or --host) for use from another "
		"machine.\nWith --connect: the guest's address on the libvirt "
		"host's network `vmctl`\n(its DHCP lease), through the host "
		"(ProxyJump) for a remote URI.\n",
	.remote = true,
	.options = options,
	.exec = cmd_ssh_exec,
};

/* ---- ssh-config -------------------------------------------------------- */

static const struct option config_options[] = {
	{ "prefix", required_argument, NULL, 'P' },
	{ NULL, 0, NULL, 0 },
};

static cJSON *config_json(const char *host, const struct ssh_target *t,
			  const char *block)
{
	cJSON *o = cJSON_CreateObject(), *opts = cJSON_CreateObject();
	struct ssh_opts so = { 0 };

	ssh_options(t, false, &so);
	for (size_t i = 0; i < so.keys.n; i++)
		cJSON_AddStringToObject(opts, so.keys.v[i], so.values.v[i]);
	ssh_opts_clear(&so);
	cJSON_AddStringToObject(o, "name", t->vm);
	cJSON_AddStringToObject(o, "host", host);
	cJSON_AddItemToObject(o, "options", opts);
	cJSON_AddStringToObject(o, "config", block);
	return o;
}

static int cmd_ssh_config_exec(struct vmctl_env *env, int argc, char **argv,
			       struct vmctl_error **err)
{
	struct strv hold = { 0 }, blocks = { 0 };
	const char *prefix = "";
	cJSON *arr = NULL;
	int opt, ret = VMCTL_EXIT_OK;

	while ((opt = cmd_getopt(&cmd_ssh_config_entry, env, argc, argv, "",
				 config_options)) != -1) {
		if (opt == 'P')
			prefix = optarg;
		else
			return cmd_done(opt);
	}
	if (optind >= argc)
		return cmd_usage_error(&cmd_ssh_config_entry, err,
				       "no VM name given");
	if (env->json)
		arr = cJSON_CreateArray();
	/* every VM first: an error prints no half a config */
	for (int i = optind; i < argc && ret == VMCTL_EXIT_OK; i++) {
		struct ssh_target t;
		cleanup_free char *host = xasprintf("%s%s", prefix, argv[i]);
		cleanup_free char *why = NULL;
		char *block;

		if (ssh_target_of(env, argv[i], &t, &hold, err) < 0) {
			ret = -1;
			break;
		}
		block = ssh_config_block(host, &t, &why);
		if (block == NULL) {
			ret = vmctl_error_set(err, VMCTL_EXIT_USAGE, 0, "%s",
					      why);
			break;
		}
		if (arr != NULL)
			cJSON_AddItemToArray(arr, config_json(host, &t, block));
		strv_take(&blocks, block);
	}
	if (ret == VMCTL_EXIT_OK && arr != NULL) {
		view_print_json(arr);
		arr = NULL;
	} else if (ret == VMCTL_EXIT_OK) {
		for (size_t i = 0; i < blocks.n; i++)
			printf("%s%s", i > 0 ? "\n" : "", blocks.v[i]);
	}
	cJSON_Delete(arr);
	strv_clear(&blocks);
	strv_clear(&hold);
	return ret;
}

const struct cmd_entry cmd_ssh_config_entry = {
	.name = "ssh-config",
	.usage = "[--prefix PREFIX] NAME... [--json]",
	.summary = "print an OpenSSH config for VMs, their host keys pinned",
	.help = "Prints a `Host PREFIXNAME` block per VM (no PREFIX: the "
		"VM's name) with the\nsame options `vmctl ssh` runs ssh with: "
		"HostName, Port, User, the VM's\nIdentityFile, its pinned "
		"UserKnownHostsFile and HostKeyAlias,\nStrictHostKeyChecking "
		"yes, IdentitiesOnly yes and, for a VM on a remote\nlibvirt "
		"host, the jump through that host. For ssh, scp, rsync and "
		"editors:\n  vmctl ssh-config web > web.conf; ssh -F web.conf "
		"web; scp -F web.conf f web:\nor an `Include` of the file in "
		"~/.ssh/config. A file: ssh closes inherited\ndescriptors "
		"before it reads -F, so `ssh -F <(vmctl ssh-config web)` "
		"cannot\nwork. Each VM must be running (its port, or its lease "
		"with --connect, is in\nthe config); with a VM vmctl holds no "
		"key for, or one not running, nothing\nis printed (exit 1). "
		"--json: the options and the block per VM.\n",
	.remote = true,
	.options = config_options,
	.exec = cmd_ssh_config_exec,
};

/* ---- cp ---------------------------------------------------------------- */

/* One `cp` operand: NAME:PATH names a path in VM NAME (NAME holds no
 * '/', as in scp and docker cp); anything else is local. */
struct cp_operand {
	char *vm;                /* NULL: local */
	const char *path;
};

static void cp_operand_parse(const char *arg, struct cp_operand *o)
{
	const char *colon = strchr(arg, ':');

	*o = (struct cp_operand){ .path = arg };
	if (colon != NULL && colon != arg &&
	    memchr(arg, '/', (size_t)(colon - arg)) == NULL) {
		o->vm = xstrndup(arg, (size_t)(colon - arg));
		o->path = colon + 1;
	}
}

static const struct option cp_options[] = {
	{ "print", no_argument, NULL, 'p' },
	{ NULL, 0, NULL, 0 },
};

static int cmd_cp_exec(struct vmctl_env *env, int argc, char **argv,
		       struct vmctl_error **err)
{
	struct cp_operand src, dst;
	struct strv hold = { 0 }, scp = { 0 };
	struct ssh_target t;
	const char *vm;
	bool print = false;
	int opt, ret;

	while ((opt = cmd_getopt(&cmd_cp_entry, env, argc, argv, "",
				 cp_options)) != -1) {
		if (opt == 'p')
			print = true;
		else
			return cmd_done(opt);
	}
	if (argc - optind != 2)
		return cmd_usage_error(&cmd_cp_entry, err, "want SRC and DST");
	cp_operand_parse(argv[optind], &src);
	cp_operand_parse(argv[optind + 1], &dst);
	if ((src.vm == NULL) == (dst.vm == NULL)) {
		ret = cmd_usage_error(&cmd_cp_entry, err, src.vm == NULL
				      ? "neither SRC nor DST is NAME:PATH "
				      "(a path in a VM)"
				      : "SRC and DST are both in a VM; one "
				      "must be local");
		goto out;
	}
	vm = src.vm != NULL ? src.vm : dst.vm;
	if ((src.vm == NULL && src.path[0] == '\0') ||
	    (dst.vm == NULL && dst.path[0] == '\0')) {
		ret = cmd_usage_error(&cmd_cp_entry, err, "an empty local path");
		goto out;
	}
	ret = ssh_target_of(env, vm, &t, &hold, err);
	if (ret < 0)
		goto out;
	ssh_scp_argv(&t, src.path, src.vm != NULL, dst.path, dst.vm != NULL,
		     &scp);
	if (print) {
		print_argv(&scp);
		ret = VMCTL_EXIT_OK;
	} else {
		ret = run_ssh(&scp, vm, err);
	}
out:
	free(src.vm);
	free(dst.vm);
	strv_clear(&scp);
	strv_clear(&hold);
	return ret;
}

const struct cmd_entry cmd_cp_entry = {
	.name = "cp",
	.usage = "[--print] SRC DST",
	.summary = "copy files to or from a VM over SSH (scp)",
	.help = "One of SRC and DST is NAME:PATH, a path in VM NAME (NAME: "
		"alone is the\nuser's home there); the other is a path here "
		"(write ./a:b for a local name\nwith a colon). Directories are "
		"copied whole (like docker cp; scp -r). Runs\nscp in SFTP mode "
		"(-s: no shell in the guest reads the path, so spaces,\n'$' "
		"and quotes need no quoting) with the options `vmctl ssh` "
		"uses: the\nVM's key, its host key pinned. Exits with scp's "
		"status; 64 when neither\nor both operands are in a VM. "
		"--print prints the scp command instead.\n",
	.remote = true,
	.options = cp_options,
	.exec = cmd_cp_exec,
};
