// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl ssh NAME [--print] [--host HOST] [-- CMD ARGS...] */
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
