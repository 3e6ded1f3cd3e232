// SPDX-License-Identifier: GPL-2.0-or-later
/* ssh and vnc on a libvirt host: the ssh argv for local and remote URIs
 * (lvvm-ssh.c) and a domain's VNC server from its XML (lvvm-vnc.c). */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmctl/lvconn.h"
#include "vmctl/lvvm-ssh.h"
#include "vmctl/lvvm-vnc.h"
#include "vmctl/xalloc.h"

static void test_proxy_jump(void)
{
	static const struct {
		const char *uri, *want;
	} cases[] = {
		{ "qemu:///system", NULL },
		{ "qemu+unix:///system", NULL },
		{ "qemu+ssh://root@gpu1/system", "root@gpu1" },
		{ "qemu+ssh://ops@gpu1:2222/system?keyfile=/k", "ops@gpu1:2222" },
		{ "qemu+ssh://gpu1/system", "gpu1" },
		{ "qemu+libssh2://u@[2001:db8::1]:22/system",
		  "u@[2001:db8::1]:22" },
		{ "qemu+tcp://gpu2:16509/system", "gpu2" },
		{ "qemu+tls://sasl@[2001:db8::2]/system", "[2001:db8::2]" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = lvvm_ssh_proxy_jump(cases[i].uri);

		is_str(got, cases[i].want, "ProxyJump for %s", cases[i].uri);
		free(got);
	}
}

static char *argv_for(const char *uri, bool batch, const struct strv *cmd)
{
	const struct lvvm_ssh_dest d = {
		.uri = uri, .vm = "web", .keys_dir = "/s/libvirt/U",
		.user = "bob", .ip = "192.168.123.7",
	};
	struct strv argv = { 0 };
	char *joined;

	lvvm_ssh_argv(&d, batch, cmd, &argv);
	joined = strv_join(&argv, "|");
	strv_clear(&argv);
	return joined;
}

static void test_argv(void)
{
	struct strv cmd = { 0 };
	char *local, *remote;

	strv_push(&cmd, "cat");
	strv_push(&cmd, "/etc/host name");
	local = argv_for("qemu:///system", false, &cmd);
	remote = argv_for("qemu+ssh://ops@gpu1:2222/system", true, NULL);
	ok(strncmp(local, "ssh|", 4) == 0, "ssh itself, no shell: %s", local);
	ok(strstr(local, "|-o|IdentityFile=/s/libvirt/U/id_ed25519|") != NULL,
	   "the VM's key from its key directory");
	ok(strstr(local, "|-o|UserKnownHostsFile=/s/libvirt/U/known_hosts|") &&
	   strstr(local, "|-o|HostKeyAlias=vmctl-web|") &&
	   strstr(local, "|-o|StrictHostKeyChecking=yes|") &&
	   strstr(local, "|-o|GlobalKnownHostsFile=/dev/null|"),
	   "the pinned host key only");
	ok(strstr(local, "ProxyJump") == NULL, "local: straight to the guest");
	ok(strstr(local, "ssh|-o|HostName=192.168.123.7|-o|Port=22|-o|User=bob|")
	   && strstr(local, "|192.168.123.7|--|cat '/etc/host name'") != NULL,
	   "local: the lease, port 22, the words quoted: %s", local);
	ok(strstr(remote, "|-o|ProxyJump=ops@gpu1:2222|192.168.123.7") != NULL,
	   "remote: through the libvirt host as the URI reaches it: %s",
	   remote);
	ok(strstr(remote, "|-o|BatchMode=yes|") != NULL &&
	   strstr(remote, "|--|") == NULL, "remote, batch, no command");
	ok(strstr(remote, "HostKeyAlias=vmctl-web") != NULL &&
	   strstr(remote, "StrictHostKeyChecking=yes") != NULL,
	   "remote: the same pinning");
	ok(strstr(local, "StrictHostKeyChecking=no") == NULL &&
	   strstr(remote, "StrictHostKeyChecking=no") == NULL, "never off");
	free(local);
	free(remote);
	strv_clear(&cmd);
}

/* A URI that names its own ssh keys: the jump uses them too. */
static void test_jump_config(void)
{
	char *why = NULL, *c, *p;
	const struct lvvm_ssh_dest d = {
		.uri = "qemu+ssh://root@10.0.0.2/system?keyfile=/k", .vm = "web",
		.keys_dir = "/s/libvirt/U", .user = "bob", .ip = "192.168.124.9",
		.jump_config = "/s/libvirt/U/ssh-jump.conf",
	};
	struct strv argv = { 0 };

	p = lvconn_uri_param("qemu+ssh://h/system?no_tty=1&keyfile=/a%20b/"
			     "id&known_hosts=/kh#frag", "keyfile");
	is_str(p, "/a b/id", "a query parameter, %%XX decoded");
	free(p);
	p = lvconn_uri_param("qemu+ssh://h/system?xkeyfile=1&keyfile=", "keyfile");
	ok(p == NULL, "empty or only a longer name: none");
	free(p);
	ok(lvvm_ssh_jump_config("qemu+ssh://root@h/system", &why) == NULL &&
	   why == NULL, "no keys in the URI: the user's ssh config");
	ok(lvvm_ssh_jump_config("qemu:///system?keyfile=/k", &why) == NULL &&
	   why == NULL, "a local URI: no jump");
	c = lvvm_ssh_jump_config("qemu+ssh://ops@[fd00::2]:2222/system?"
				 "keyfile=/t/id&known_hosts=/t/kh&no_verify=0",
				 &why);
	ok(c != NULL && strstr(c, "Host vmctl-jump\n") &&
	   strstr(c, "\tHostName \"fd00::2\"\n\tPort 2222\n") &&
	   strstr(c, "\tUser \"ops\"\n") &&
	   strstr(c, "\tIdentityFile \"/t/id\"\n\tIdentitiesOnly yes\n") &&
	   strstr(c, "\tUserKnownHostsFile \"/t/kh\"\n") &&
	   strstr(c, "\tStrictHostKeyChecking yes\n"),
	   "the host, user, port, key and pinned keys: %s", c ? c : "NULL");
	free(c);
	c = lvvm_ssh_jump_config("qemu+ssh://h/system?keyfile=/k&no_verify=1",
				 &why);
	ok(c != NULL && strstr(c, "StrictHostKeyChecking no"),
	   "no_verify=1 as libvirt means it");
	free(c);
	c = lvvm_ssh_jump_config("qemu+ssh://h/system?keyfile=/k%22x", &why);
	ok(c == NULL && why != NULL, "a '\"' cannot be written: refused");
	free(why);
	lvvm_ssh_argv(&d, true, NULL, &argv);
	p = strv_join(&argv, "|");
	ok(strstr(p, "|-o|ProxyCommand=ssh -F /s/libvirt/U/ssh-jump.conf "
		  "-W '[%h]:%p' vmctl-jump|") != NULL &&
	   strstr(p, "ProxyJump") == NULL && strstr(p, "|-F|") == NULL,
	   "the jump reads that config and goes through its host: %s", p);
	free(p);
	strv_clear(&argv);
}

static void test_vnc(void)
{
	static const char running[] =
		"<domain type='qemu' id='4'><name>web</name><devices>"
		"<graphics type='spice' port='5930'/>"
		"<graphics type='vnc' port='5903' autoport='yes' "
		"listen='127.0.0.1' passwd='a&amp;b&lt;cdef'>"
		"<listen type='address' address='127.0.0.1'/></graphics>"
		"</devices></domain>";
	static const char stopped[] =
		"<domain type='qemu'><name>web</name><devices>"
		"<graphics type='vnc' port='-1' autoport='yes'>"
		"<listen type='address' address='0.0.0.0'/></graphics>"
		"</devices></domain>";
	static const char sock[] =
		"<domain type='qemu'><devices><graphics type='vnc' "
		"socket='/var/lib/libvirt/qemu/domain-4-web/vnc.sock'>"
		"<listen type='socket' socket='/var/lib/libvirt/qemu/"
		"domain-4-web/vnc.sock'/></graphics></devices></domain>";
	static const char none[] =
		"<domain type='qemu'><devices><video/></devices></domain>";
	struct lvvm_vnc v;

	ok(lvvm_vnc_parse(running, &v) == 0 && v.port == 5903 &&
	   v.socket == NULL, "running: its port (not spice's)");
	is_str(v.password, "a&b<cdef", "the password, unescaped");
	is_str(v.listen, "127.0.0.1", "the listen address");
	lvvm_vnc_clear(&v);
	ok(lvvm_vnc_parse(stopped, &v) == 0 && v.port == -1 &&
	   v.password == NULL, "stopped with autoport: no port yet");
	is_str(v.listen, "0.0.0.0", "the address from <listen>");
	lvvm_vnc_clear(&v);
	ok(lvvm_vnc_parse(sock, &v) == 0 && v.port == -1 && v.listen == NULL,
	   "a UNIX socket: no port");
	is_str(v.socket, "/var/lib/libvirt/qemu/domain-4-web/vnc.sock",
	       "the socket");
	lvvm_vnc_clear(&v);
	ok(lvvm_vnc_parse(none, &v) == 1, "no VNC graphics");
	ok(lvvm_vnc_parse("<vm/>", &v) == -1 && lvvm_vnc_parse("<x", &v) == -1,
	   "not a domain");
}

int main(void)
{
	test_proxy_jump();
	test_argv();
	test_jump_config();
	test_vnc();
	return tap_done();
}
