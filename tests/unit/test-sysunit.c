// SPDX-License-Identifier: GPL-2.0-or-later
/* sysunit_plan() and sysunit_env_line(): what `vmctl enable` writes. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmctl/sysunit.h"

static void env_line(const char *value, const char *want, const char *what)
{
	char *got = sysunit_env_line("V", value);

	is_str(got, want, "env line: %s", what);
	free(got);
}

int main(void)
{
	struct sysunit_plan p;
	struct vmctl_error *err = NULL;

	env_line("/var/lib/x", "Environment=\"V=/var/lib/x\"", "plain");
	env_line("/a b/c", "Environment=\"V=/a b/c\"", "a space");
	env_line("/a\"b\\c", "Environment=\"V=/a\\\"b\\\\c\"", "quote, backslash");
	env_line("/50%", "Environment=\"V=/50%%\"", "a specifier's %");
	env_line("$HOME", "Environment=\"V=$HOME\"", "$ as is");
	ok(sysunit_env_line("V", "/a\nb") == NULL, "a newline is refused");
	ok(sysunit_env_line("V", "/a\tb") == NULL, "a tab is refused");

	/* root's default state dir: no drop-in */
	ok(sysunit_plan("web", "/lib/systemd/system/vmctl@.service",
			"/var/lib/vmctl", "/var/lib/vmctl", NULL, &p, &err) == 0,
	   "plan for the default state dir");
	is_str(p.link, "/etc/systemd/system/multi-user.target.wants/"
	       "vmctl@web.service", "the wants link");
	is_str(p.target, "/lib/systemd/system/vmctl@.service", "its target");
	is_str(p.dropin_dir, "/etc/systemd/system/vmctl@web.service.d",
	       "the drop-in dir");
	ok(p.dropin == NULL, "no drop-in in the default state dir");
	sysunit_plan_clear(&p);

	/* another state dir, and a tmux socket */
	ok(sysunit_plan("db-1.x", "/usr/lib/systemd/system/vmctl@.service",
			"/srv/vms", "/var/lib/vmctl", "sock", &p, &err) == 0,
	   "plan for another state dir");
	is_str(p.dropin, "# Written by `vmctl enable db-1.x`: where the VM "
	       "lives.\n[Service]\nEnvironment=\"VMCTL_STATE_DIR=/srv/vms\"\n"
	       "Environment=\"VMCTL_TMUX_SOCKET=sock\"\n", "the drop-in");
	sysunit_plan_clear(&p);

	ok(sysunit_plan("Bad/name", "/u", "/var/lib/vmctl", "/var/lib/vmctl",
			NULL, &p, &err) < 0 && err != NULL &&
	   err->status == VMCTL_EXIT_USAGE, "an invalid name: 64");
	vmctl_error_free(err);
	err = NULL;
	ok(sysunit_plan("ok", "/u", "/srv/a\nb", "/var/lib/vmctl", NULL, &p,
			&err) < 0 && err != NULL && p.link == NULL,
	   "a state dir with a newline: refused, nothing planned");
	vmctl_error_free(err);
	return tap_done();
}
