// SPDX-License-Identifier: GPL-2.0-or-later
/* ssh.c's one list of options for a VM and what is made of it: the ssh
 * and scp argv and the `ssh-config` block, values quoted as ssh reads
 * them. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmctl/ssh.h"
#include "vmctl/xalloc.h"

static void test_quote(void)
{
	static const struct {
		const char *in;
		bool tokens;
		const char *want;
	} cases[] = {
		{ "/var/lib/vmctl/vms/web/id_ed25519", true,
		  "/var/lib/vmctl/vms/web/id_ed25519" },
		{ "/home/a b/known_hosts", true, "\"/home/a b/known_hosts\"" },
		{ "/x/100%/k", true, "/x/100%%/k" },
		{ "/x/100%/k", false, "/x/100%/k" },
		{ "a\"b\\c", false, "\"a\\\"b\\\\c\"" },
		{ "it's", false, "\"it's\"" },
		{ "#x", false, "\"#x\"" },
		{ "a#x", false, "a#x" },
		{ "", false, "\"\"" },
		{ "tab\there", false, "\"tab\there\"" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = ssh_config_quote(cases[i].in, cases[i].tokens);

		is_str(got, cases[i].want, "quote [%s]%s", cases[i].in,
		       cases[i].tokens ? " (tokens)" : "");
		free(got);
	}
}

static const struct ssh_target direct = {
	.vm = "web", .vm_dir = "/st ate/vms/web", .user = "bob",
	.host = "127.0.0.1", .port = 2222,
};

static void test_options(void)
{
	struct ssh_opts o = { 0 };
	struct ssh_target jump = direct, cfg = direct;
	char *keys;

	ssh_options(&direct, false, &o);
	keys = strv_join(&o.keys, " ");
	is_str(keys, "HostName Port User IdentityFile IdentitiesOnly "
	       "UserKnownHostsFile GlobalKnownHostsFile StrictHostKeyChecking "
	       "HostKeyAlias PreferredAuthentications", "the options, in order");
	free(keys);
	ok(strcmp(o.values.v[3], "/st ate/vms/web/id_ed25519") == 0 &&
	   strcmp(o.written.v[3], "\"/st ate/vms/web/id_ed25519\"") == 0,
	   "a value as ssh is to use it and as written: %s", o.written.v[3]);
	ssh_opts_clear(&o);

	ssh_options(&direct, true, &o);
	keys = strv_join(&o.keys, " ");
	ok(strstr(keys, "BatchMode ConnectTimeout") != NULL, "batch: %s", keys);
	free(keys);
	ssh_opts_clear(&o);

	jump.proxy_jump = "ops@gpu1:2222";
	ssh_options(&jump, false, &o);
	is_str(o.keys.v[o.keys.n - 1], "ProxyJump", "a remote host: ProxyJump");
	is_str(o.written.v[o.keys.n - 1], "ops@gpu1:2222", "as the URI has it");
	ssh_opts_clear(&o);

	cfg.proxy_jump = "vmctl-jump";
	cfg.config = "/st ate/libvirt/U/ssh-jump.conf";
	ssh_options(&cfg, false, &o);
	is_str(o.keys.v[o.keys.n - 1], "ProxyCommand",
	       "the jump's own config: ProxyCommand");
	is_str(o.written.v[o.keys.n - 1], "ssh -F '/st ate/libvirt/U/ssh-jump."
	       "conf' -W '[%h]:%p' vmctl-jump", "ssh -F CONFIG -W, quoted for "
	       "the shell");
	ssh_opts_clear(&o);
	cfg.config = "/a'b/100%/j.conf";
	ssh_options(&cfg, false, &o);
	is_str(o.written.v[o.keys.n - 1], "ssh -F '/a'\\''b/100%%/j.conf' -W "
	       "'[%h]:%p' vmctl-jump", "a quote and a '%%' in the path");
	ssh_opts_clear(&o);
}

static void test_argv(void)
{
	struct strv argv = { 0 }, cmd = { 0 };
	char *j;

	strv_push(&cmd, "echo");
	strv_push(&cmd, "a b");
	ssh_argv(&direct, false, &cmd, &argv);
	j = strv_join(&argv, "|");
	ok(strncmp(j, "ssh|-o|HostName=127.0.0.1|-o|Port=2222|-o|User=bob|"
		   "-o|IdentityFile=\"/st ate/vms/web/id_ed25519\"|", 90) == 0,
	   "ssh: every option as -o KEY=VALUE, quoted: %s", j);
	ok(strstr(j, "|-o|UserKnownHostsFile=\"/st ate/vms/web/known_hosts\"|")
	   && strstr(j, "|-o|StrictHostKeyChecking=yes|") &&
	   strstr(j, "|-o|HostKeyAlias=vmctl-web|"), "the pinned key");
	ok(strstr(j, "|127.0.0.1|--|echo 'a b'") != NULL &&
	   strstr(j, "BatchMode") == NULL, "the host, then the command: %s", j);
	free(j);
	strv_clear(&argv);
	strv_clear(&cmd);
}

static void test_scp(void)
{
	struct strv argv = { 0 };
	struct ssh_target v6 = direct;
	char *j;

	ssh_scp_argv(&direct, "/tmp/a b$c", false, "dir/x y", true, &argv);
	j = strv_join(&argv, "|");
	ok(strncmp(j, "scp|-s|-r|-o|HostName=127.0.0.1|", 32) == 0,
	   "scp in SFTP mode, recursive: %s", j);
	ok(strstr(j, "|-o|UserKnownHostsFile=\"/st ate/vms/web/known_hosts\"|")
	   != NULL, "the same options as ssh");
	ok(strstr(j, "|--|/tmp/a b$c|127.0.0.1:dir/x y") != NULL &&
	   j[strlen(j) - 1] == 'y', "to the guest, the paths as given: %s", j);
	free(j);
	strv_clear(&argv);

	ssh_scp_argv(&direct, "l*g [1]?\\", true, "a:b", false, &argv);
	j = strv_join(&argv, "|");
	ok(strstr(j, "|--|127.0.0.1:l\\*g \\[1]\\?\\\\|./a:b") != NULL,
	   "from the guest: its glob escaped; a local a:b is ./a:b: %s", j);
	free(j);
	strv_clear(&argv);

	v6.host = "::1";
	ssh_scp_argv(&v6, "", true, "/abs:x", false, &argv);
	j = strv_join(&argv, "|");
	ok(strstr(j, "|--|[::1]:|/abs:x") != NULL,
	   "an IPv6 host in brackets; home; an absolute path as is: %s", j);
	free(j);
	strv_clear(&argv);
}

static void test_block(void)
{
	struct ssh_target t = direct;
	char *why = NULL, *b;

	b = ssh_config_block("web", &direct, &why);
	ok(b != NULL && why == NULL, "a block");
	ok(b && strncmp(b, "Host web\n\tHostName 127.0.0.1\n\tPort 2222\n"
			"\tUser bob\n\tIdentityFile \"/st ate/vms/web/"
			"id_ed25519\"\n\tIdentitiesOnly yes\n", 104) == 0,
	   "Host, then one option a line, quoted: %s", b ? b : "(none)");
	ok(b && strstr(b, "\tStrictHostKeyChecking yes\n\tHostKeyAlias "
		       "vmctl-web\n") && strstr(b, "BatchMode") == NULL &&
	   b[strlen(b) - 1] == '\n', "the pinned key, not batch");
	free(b);
	b = ssh_config_block("a b", &direct, &why);
	ok(b == NULL && why != NULL, "a Host name with a blank: refused: %s",
	   why ? why : "(no reason)");
	free(why);
	b = ssh_config_block("web*", &direct, &why);
	ok(b == NULL && why != NULL, "a pattern: refused");
	free(why);
	t.vm_dir = "/a\nb";
	b = ssh_config_block("web", &t, &why);
	ok(b == NULL && why != NULL && strstr(why, "control character"),
	   "a newline in a path: refused: %s", why ? why : "(no reason)");
	free(why);
}

int main(void)
{
	test_quote();
	test_options();
	test_argv();
	test_scp();
	test_block();
	return tap_done();
}
