// SPDX-License-Identifier: GPL-2.0-or-later
/* Pure parts of images, cloud-init and ssh. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmctl/checksum.h"
#include "vmctl/cloudinit.h"
#include "vmctl/imagecache.h"
#include "vmctl/ssh.h"

static void test_sums(void)
{
	const char *list =
		"# Debian SHA512SUMS\n"
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
		"  debian-12-genericcloud-amd64.raw\n"
		"FEDCBA9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
		"fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
		" *debian-12-genericcloud-amd64.qcow2\r\n"
		"aaaa  short.img\n";
	char *hex = NULL;
	enum checksum_algo algo;

	ok(checksum_find_in_list(list, "debian-12-genericcloud-amd64.qcow2",
				 &hex, &algo) == 0 && algo == CHECKSUM_SHA512,
	   "binary-mode line found, sha512 by length");
	ok(hex && strncmp(hex, "fedcba98", 8) == 0 && strlen(hex) == 128,
	   "digest lowercased");
	free(hex);
	hex = NULL;
	ok(checksum_find_in_list(list, "debian-12-genericcloud-amd64", &hex,
				 &algo) < 0, "a prefix is not a match");
	ok(checksum_find_in_list(list, "short.img", &hex, &algo) < 0,
	   "a digest of the wrong length is not one");
	ok(checksum_find_in_list("", "x", &hex, &algo) < 0, "empty list");
}

static void test_cache_name(void)
{
	char *a = imagecache_name("https://e.org/d/img.qcow2");
	char *b = imagecache_name("https://f.org/d/img.qcow2");
	char *c = imagecache_name("https://e.org/d/?x=../../etc");

	ok(strlen(a) == 16 + 1 + 9 && strcmp(a + 17, "img.qcow2") == 0,
	   "hash prefix and basename: %s", a);
	ok(strcmp(a, b) != 0, "same basename, other URL: other file");
	ok(strchr(c, '/') == NULL, "no slash from a hostile URL: %s", c);
	free(a);
	free(b);
	free(c);
}

static void test_user_data(void)
{
	struct vmctl_spec *spec = NULL;
	struct vmctl_error *err = NULL;
	const char *yaml = "name: web\ndisk: /x.qcow2\n"
			   "cloud_init: {user: bob, packages: [nginx],\n"
			   "  ssh_authorized_keys: ['ssh-ed25519 AAAA \"q\"']}\n";
	struct cloudinit_keys keys = {
		.client_pub = "ssh-ed25519 CLIENT vmctl-web",
		.host_private = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n"
				"-----END OPENSSH PRIVATE KEY-----\n",
		.host_public = "ssh-ed25519 HOST root@web\n",
	};
	char *ud, *multi, *meta, *net;

	ok(spec_load_buffer("t", yaml, strlen(yaml), SPEC_SYNTAX_YAML, &spec,
			    &err) == 0, "spec loads");
	if (spec == NULL)
		return;
	ud = cloudinit_user_data(spec, &keys, NULL);
	ok(strncmp(ud, "#cloud-config\n{", 15) == 0, "cloud-config as JSON");
	ok(strchr(ud, '\t') == NULL, "no tabs (YAML forbids them)");
	ok(strstr(ud, "\"name\":  \"bob\"") != NULL, "the user");
	ok(strstr(ud, "NOPASSWD:ALL") != NULL, "passwordless sudo");
	ok(strstr(ud, "\"ssh-ed25519 CLIENT vmctl-web\"") != NULL &&
	   strstr(ud, "CLIENT") < strstr(ud, "AAAA \\\"q\\\""),
	   "vmctl's key first, the spec's keys after, quotes escaped");
	ok(strstr(ud, "OPENSSH PRIVATE KEY-----\\nabc\\n") != NULL,
	   "host key pinned, newlines escaped");
	ok(strstr(ud, "\"lock_passwd\":  true") != NULL &&
	   strstr(ud, "ssh_pwauth") == NULL,
	   "no password at all, so sshd is left alone (no restart)");
	ok(strstr(ud, "\"nginx\"") != NULL, "packages");
	multi = cloudinit_user_data(spec, &keys, "#cloud-config\nruncmd: [x]");
	ok(strncmp(multi, "Content-Type: multipart/mixed", 29) == 0 &&
	   strstr(multi, "Merge-Type: list(append)") != NULL &&
	   strstr(multi, "runcmd: [x]\n--==vmctl-user-data==--\n") != NULL,
	   "user's cloud-config merged as a second part");
	meta = cloudinit_meta_data(spec, "vmctl-web-1234");
	ok(strstr(meta, "\"instance-id\":  \"vmctl-web-1234\"") &&
	   strstr(meta, "\"local-hostname\":  \"web\""), "meta-data");
	net = cloudinit_network_config("52:54:00:aa:bb:cc");
	ok(strstr(net, "\"macaddress\":  \"52:54:00:aa:bb:cc\"") &&
	   strstr(net, "\"version\":  2"), "network-config matches the MAC");
	free(ud);
	free(multi);
	free(meta);
	free(net);
	spec_free(spec);
}

static void test_ssh(void)
{
	struct ssh_target t = { .vm = "web", .vm_dir = "/s/vms/web",
				.user = "bob", .host = "127.0.0.1",
				.port = 2222 };
	struct strv argv = { 0 }, cmd = { 0 };
	char *joined = NULL, *line;
	size_t len = 0;

	strv_push(&cmd, "echo");
	strv_push(&cmd, "a b");
	strv_push(&cmd, "$HOME");
	ssh_argv(&t, true, &cmd, &argv);
	for (size_t i = 0; i < argv.n; i++) {
		joined = realloc(joined, len + strlen(argv.v[i]) + 2);
		strcpy(joined + len, argv.v[i]);
		len += strlen(argv.v[i]);
		joined[len++] = '|';
		joined[len] = '\0';
	}
	ok(strstr(joined, "StrictHostKeyChecking=yes|") != NULL,
	   "host keys are checked");
	ok(strstr(joined, "UserKnownHostsFile=/s/vms/web/known_hosts|") &&
	   strstr(joined, "HostKeyAlias=vmctl-web|"), "pinned per VM");
	ok(strstr(joined, "-o|IdentityFile=/s/vms/web/id_ed25519|") != NULL,
	   "VM's key");
	ok(strstr(joined, "-o|Port=2222|-o|User=bob|") &&
	   strstr(joined, "|127.0.0.1|--|echo 'a b' '$HOME'|") != NULL,
	   "remote words quoted for the remote shell: %s", joined);
	ok(strstr(joined, "StrictHostKeyChecking=no") == NULL, "never off");
	line = ssh_known_hosts_line("web", "ssh-ed25519 AAAAC3 root@web\n");
	is_str(line, "vmctl-web ssh-ed25519 AAAAC3 root@web\n",
	       "known_hosts line under the alias");
	ok(ssh_stderr_says_key_mismatch("Host key verification failed.\r\n"),
	   "mismatch recognised");
	free(line);
	free(joined);
	strv_clear(&argv);
	strv_clear(&cmd);
}

int main(void)
{
	test_sums();
	test_cache_name();
	test_user_data();
	test_ssh();
	return tap_done();
}
