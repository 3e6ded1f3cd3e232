// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ssh and wait on a libvirt host (lvvm-ssh.h): the VM's keys kept here
 * under its domain UUID, the guest reached at its DHCP lease on the
 * `vmctl` network, through the libvirt host for a remote URI.  The keys,
 * the seed, the argv and the wait are ssh.c's and vm-runtime.h's, as for
 * a direct VM.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "vmctl/fsutil.h"
#include "vmctl/guest-ready.h"
#include "vmctl/interrupt.h"
#include "vmctl/lazylib.h"
#include "vmctl/lvconn.h"
#include "vmctl/lvvm-ssh.h"
#include "vmctl/lvvm.h"
#include "vmctl/ssh.h"
#include "vmctl/vm.h"
#include "vmctl/vm-runtime.h"
#include "vmctl/vmdir.h"
#include "vmctl/xalloc.h"

#define SSH_PORT 22
#define LEASE_POLL_MS 500

/* ---- the keys here -------------------------------------------------------- */

static char *keys_parent(const struct vmctl_env *env)
{
	return xasprintf("%s/" LVVM_KEYS_DIR, env->state_dir);
}

char *lvvm_keys_dir(const struct vmctl_env *env, const char *uuid)
{
	return xasprintf("%s/" LVVM_KEYS_DIR "/%s", env->state_dir, uuid);
}

void lvvm_uuid_random(char out[VIR_UUID_STRING_BUFLEN])
{
	unsigned char b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		abort();
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);   /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
	snprintf(out, VIR_UUID_STRING_BUFLEN,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4],
		 b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
		 b[14], b[15]);
}

/* Stages (".UUID.new-PID-XXXXXX") whose create is no longer running. */
static void sweep_stages(const char *parent)
{
	DIR *d = opendir(parent);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		const char *p = strstr(e->d_name, ".new-");
		char *end;
		long pid;

		if (e->d_name[0] != '.' || p == NULL)
			continue;
		pid = strtol(p + 5, &end, 10);
		if (pid <= 0 || *end != '-' ||
		    (kill((pid_t)pid, 0) < 0 && errno == ESRCH)) {
			cleanup_free char *path = xasprintf("%s/%s", parent,
							    e->d_name);
			struct vmctl_error *ignored = NULL;

			fs_remove_tree(path, &ignored);
			vmctl_error_free(ignored);
		}
	}
	closedir(d);
}

int lvvm_keys_prepare(const struct vmctl_env *env, const char *uuid,
		      const struct vmctl_spec *spec, struct lvvm_keys *k,
		      char **seed, struct vmctl_error **err)
{
	cleanup_free char *parent = keys_parent(env);
	cleanup_free char *text = NULL;
	cJSON *json;

	*k = (struct lvvm_keys){ 0 };
	if (fs_mkdir_p(parent, 0700, err) < 0)
		return -1;
	sweep_stages(parent);
	k->stage = xasprintf("%s/.%s.new-%ld-XXXXXX", parent, uuid,
			     (long)getpid());
	if (mkdtemp(k->stage) == NULL) {
		int e = errno;

		free(k->stage);
		k->stage = NULL;
		return vmctl_error_errno(err, vmctl_error_status_from_errno(
				e, VMCTL_EXIT_FAILURE), e, "%s", parent);
	}
	if (vm_cloud_init_files(k->stage, spec->name, spec, err) < 0)
		return -1;
	/* ssh reads the cloud-init user from it, as from a direct VM's */
	json = spec_to_json(spec);
	text = cJSON_Print(json);
	cJSON_Delete(json);
	if (fs_write_atomic(k->stage, VMDIR_SPEC, text, strlen(text), 0600,
			    err) < 0)
		return -1;
	*seed = xasprintf("%s/%s", k->stage, VMDIR_SEED);
	return 0;
}

int lvvm_keys_commit(const struct vmctl_env *env, const char *uuid,
		     struct lvvm_keys *k, struct vmctl_error **err)
{
	cleanup_free char *parent = keys_parent(env);
	cleanup_free char *dir = lvvm_keys_dir(env, uuid);
	static const char *const seed_only[] = { VMDIR_SEED, VMDIR_HOST_KEY };

	if (k->stage == NULL)
		return 0;
	/* The seed volume has them; nothing here needs them again. */
	for (size_t i = 0; i < sizeof(seed_only) / sizeof(seed_only[0]);
	     i++) {
		cleanup_free char *p = xasprintf("%s/%s", k->stage,
						 seed_only[i]);

		if (unlink(p) < 0 && errno != ENOENT)
			return vmctl_error_errno(err, VMCTL_EXIT_FAILURE,
						 errno, "%s", p);
	}
	if (rename(k->stage, dir) < 0)
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno, "%s",
					 dir);
	free(k->stage);
	k->stage = NULL;
	k->dir = steal_pointer(&dir);
	return fs_sync_dir(parent, err);
}

void lvvm_keys_undo(struct lvvm_keys *k)
{
	struct vmctl_error *ignored = NULL;

	if (k->stage != NULL)
		fs_remove_tree(k->stage, &ignored);
	vmctl_error_free(ignored);
	ignored = NULL;
	if (k->dir != NULL)
		fs_remove_tree(k->dir, &ignored);
	vmctl_error_free(ignored);
	lvvm_keys_clear(k);
}

void lvvm_keys_clear(struct lvvm_keys *k)
{
	free(k->stage);
	free(k->dir);
	*k = (struct lvvm_keys){ 0 };
}

int lvvm_keys_remove(const struct vmctl_env *env, const char *uuid,
		     struct vmctl_error **err)
{
	cleanup_free char *dir = lvvm_keys_dir(env, uuid);

	return fs_remove_tree(dir, err);
}

/* ---- the argv (pure) ------------------------------------------------------ */

char *lvvm_ssh_proxy_jump(const char *uri)
{
	cleanup_free char *host = NULL;
	const char *auth;
	unsigned port;

	if (!lvconn_uri_endpoint(uri, &host, &port))
		return NULL;
	if (lvconn_uri_ssh(uri)) {
		/* the user and port ssh reaches libvirtd with */
		auth = strstr(uri, "://") + 3;
		return xstrndup(auth, strcspn(auth, "/?#"));
	}
	/* tcp, tls: the port is libvirtd's, a user SASL's; ssh's own */
	if (strchr(host, ':') != NULL)
		return xasprintf("[%s]", host);
	return steal_pointer(&host);
}

/* A value an ssh_config line can hold: quoted, so no '"' and nothing
 * that ends a line. */
static bool config_value_ok(const char *v)
{
	for (; *v != '\0'; v++)
		if (*v == '"' || (unsigned char)*v < 0x20 || *v == 0x7f)
			return false;
	return true;
}

char *lvvm_ssh_jump_config(const char *uri, char **why)
{
	cleanup_free char *key = lvconn_uri_param(uri, "keyfile");
	cleanup_free char *known = lvconn_uri_param(uri, "known_hosts");
	cleanup_free char *no_verify = lvconn_uri_param(uri, "no_verify");
	cleanup_free char *host = NULL, *user = NULL;
	const char *auth, *at, *end;
	unsigned port;
	struct strv lines = { 0 };
	char *text;

	*why = NULL;
	if (!lvconn_uri_ssh(uri) || (key == NULL && known == NULL) ||
	    !lvconn_uri_endpoint(uri, &host, &port))
		return NULL;
	auth = strstr(uri, "://") + 3;
	end = auth + strcspn(auth, "/?#");
	at = memchr(auth, '@', (size_t)(end - auth));
	if (at != NULL)
		user = xstrndup(auth, (size_t)(at - auth));
	if (!config_value_ok(host) || (user && !config_value_ok(user)) ||
	    (key && !config_value_ok(key)) ||
	    (known && !config_value_ok(known))) {
		*why = xasprintf("%s: its host, user, keyfile or known_hosts "
				 "holds a '\"' or a control character, which "
				 "an ssh_config cannot", uri);
		return NULL;
	}
	strv_pushf(&lines, "# vmctl: how %s reaches its host", uri);
	strv_push(&lines, "Host " LVVM_SSH_JUMP_HOST);
	strv_pushf(&lines, "\tHostName \"%s\"", host);
	strv_pushf(&lines, "\tPort %u", port);
	if (user != NULL)
		strv_pushf(&lines, "\tUser \"%s\"", user);
	if (key != NULL) {
		strv_pushf(&lines, "\tIdentityFile \"%s\"", key);
		strv_push(&lines, "\tIdentitiesOnly yes");
	}
	if (known != NULL) {
		strv_pushf(&lines, "\tUserKnownHostsFile \"%s\"", known);
		strv_push(&lines, "\tGlobalKnownHostsFile /dev/null");
	}
	/* libvirt's no_verify=1: the host key is not checked */
	strv_pushf(&lines, "\tStrictHostKeyChecking %s",
		   no_verify && strcmp(no_verify, "1") == 0 ? "no" : "yes");
	strv_push(&lines, "");
	text = strv_join(&lines, "\n");
	strv_clear(&lines);
	return text;
}

/* ssh.c's target for a destination; `jump` is lvvm_ssh_proxy_jump()'s,
 * or the jump config's host. */
static struct ssh_target dest_target(const struct lvvm_ssh_dest *d,
				     const char *jump)
{
	return (struct ssh_target){
		.vm = d->vm,
		.vm_dir = d->keys_dir,
		.user = d->user,
		.host = d->ip,
		.port = SSH_PORT,
		.proxy_jump = d->jump_config ? LVVM_SSH_JUMP_HOST : jump,
		.config = d->jump_config,
	};
}

void lvvm_ssh_argv(const struct lvvm_ssh_dest *d, bool batch,
		   const struct strv *command, struct strv *argv)
{
	cleanup_free char *jump = lvvm_ssh_proxy_jump(d->uri);
	const struct ssh_target t = dest_target(d, jump);

	ssh_argv(&t, batch, command, argv);
}

/* ---- the commands --------------------------------------------------------- */

/* A VM to ssh to: the domain, and what vmctl keeps here for it. */
struct ssh_vm {
	const char *name;
	virConnectPtr conn;
	char *uri;
	virDomainPtr dom;
	char *keys_dir;
	char *jump_config;       /* KEYS_DIR/ssh-jump.conf, or NULL */
	struct vmctl_spec *spec;
};

static void ssh_vm_close(struct ssh_vm *v)
{
	if (v->dom != NULL)
		sym_virDomainFree(v->dom);
	lvconn_close(v->conn);
	free(v->uri);
	free(v->keys_dir);
	free(v->jump_config);
	spec_free(v->spec);
	*v = (struct ssh_vm){ 0 };
}

/* The URI's own ssh keys for the jump, written beside the VM's keys. */
static int ssh_vm_jump(struct ssh_vm *v, struct vmctl_error **err)
{
	cleanup_free char *why = NULL;
	cleanup_free char *text = lvvm_ssh_jump_config(v->uri, &why);

	if (why != NULL)
		return vmctl_error_set(err, VMCTL_EXIT_USAGE, 0, "%s", why);
	if (text == NULL)
		return 0;
	if (fs_write_atomic(v->keys_dir, LVVM_SSH_JUMP_CONFIG, text,
			    strlen(text), 0600, err) < 0)
		return -1;
	v->jump_config = xasprintf("%s/%s", v->keys_dir, LVVM_SSH_JUMP_CONFIG);
	return 0;
}

static int ssh_vm_open(const struct vmctl_env *env, const char *name,
		       struct ssh_vm *v, struct vmctl_error **err)
{
	char uuid[VIR_UUID_STRING_BUFLEN];
	cleanup_free char *spec_path = NULL;

	*v = (struct ssh_vm){ .name = name };
	if (lvvm_open_vm(env, name, LVCONN_READ_ONLY, &v->conn, &v->uri,
			 &v->dom, err) < 0)
		return -1;
	if (sym_virDomainGetUUIDString(v->dom, uuid) < 0)
		return lvconn_error(err, v->uri, false, name);
	v->keys_dir = lvvm_keys_dir(env, uuid);
	spec_path = xasprintf("%s/%s", v->keys_dir, VMDIR_SPEC);
	if (access(spec_path, F_OK) < 0)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "VM %s on "
				       "%s: vmctl holds no SSH key for it on "
				       "this machine (no %s): it was made "
				       "without cloud-init, or elsewhere",
				       name, v->uri, v->keys_dir);
	if (spec_load_file(spec_path, &v->spec, err) < 0)
		return vmctl_error_wrap(err, "VM %s", name);
	if (!v->spec->cloud_init.enabled)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "VM %s has no cloud-init, so vmctl "
				       "holds no key for it", name);
	return ssh_vm_jump(v, err);
}

/* Its state and lease now. */
static int ssh_vm_lease(struct ssh_vm *v, enum vm_run_state *state,
			char **ip, struct vmctl_error **err)
{
	struct lvvm_info info = { 0 };

	if (lvvm_domain_info(v->dom, v->uri, &info, err) < 0)
		return -1;
	*state = info.state;
	*ip = steal_pointer(&info.ip);
	lvvm_info_clear(&info);
	return 0;
}

static struct lvvm_ssh_dest ssh_vm_dest(const struct ssh_vm *v,
					const char *ip)
{
	return (struct lvvm_ssh_dest){
		.uri = v->uri, .vm = v->name, .keys_dir = v->keys_dir,
		.user = v->spec->cloud_init.user, .ip = ip,
		.jump_config = v->jump_config,
	};
}

int lvvm_ssh_target(const struct vmctl_env *env, const char *name,
		    struct ssh_target *t, struct strv *hold,
		    struct vmctl_error **err)
{
	struct ssh_vm v;
	enum vm_run_state state;
	cleanup_free char *ip = NULL, *jump = NULL;
	int ret = -1;

	if (ssh_vm_open(env, name, &v, err) < 0 ||
	    ssh_vm_lease(&v, &state, &ip, err) < 0)
		goto out;
	if (state != VM_RUNNING) {
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "VM %s is %s",
				name, vm_run_state_name(state));
		goto out;
	}
	if (ip == NULL) {
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "VM %s on %s has "
				"no address yet (no DHCP lease on network %s); "
				"`vmctl --connect %s wait %s` waits for it",
				name, v.uri, LVVM_NETWORK, v.uri, name);
		goto out;
	}
	{
		const struct lvvm_ssh_dest d = ssh_vm_dest(&v, ip);

		jump = lvvm_ssh_proxy_jump(v.uri);
		*t = dest_target(&d, jump);
		ssh_target_keep(t, hold);
	}
	ret = 0;
out:
	ssh_vm_close(&v);
	return ret;
}

int lvvm_ssh_command(const struct vmctl_env *env, const char *name,
		     const struct strv *command, struct strv *argv,
		     struct vmctl_error **err)
{
	struct strv hold = { 0 };
	struct ssh_target t;
	int ret = lvvm_ssh_target(env, name, &t, &hold, err);

	if (ret == 0)
		ssh_argv(&t, false, command, argv);
	strv_clear(&hold);
	return ret;
}

static bool domain_alive(void *data)
{
	return sym_virDomainIsActive(data) == 1;
}

/* Until the guest has a lease: *ip, or an error (stopped, timed out,
 * interrupted). */
static int wait_lease(struct ssh_vm *v, int timeout_s, bool progress,
		      char **ip, struct vmctl_error **err)
{
	long long start = vm_now_ms(), last_draw = start;
	bool drawn = false;
	enum vm_run_state state;
	int ret = -1;

	for (;;) {
		long long now = vm_now_ms();

		if (progress && now - last_draw >= 1000) {
			fprintf(stderr, "\rWaiting for an address for %s: %lld s",
				v->name, (now - start) / 1000);
			last_draw = now;
			drawn = true;
		}
		if (interrupt_pending()) {
			vmctl_error_set(err, VMCTL_EXIT_FAILURE, EINTR,
					"interrupted");
			break;
		}
		if (ssh_vm_lease(v, &state, ip, err) < 0)
			break;
		if (state != VM_RUNNING) {
			vmctl_error_set(err, VMCTL_EXIT_FAILURE, ESRCH,
					"VM %s stopped while waiting for SSH",
					v->name);
			break;
		}
		if (*ip != NULL) {
			ret = 0;
			break;
		}
		if (now - start >= (long long)timeout_s * 1000) {
			vmctl_error_set(err, VMCTL_EXIT_FAILURE, ETIMEDOUT,
					"VM %s: no address (DHCP lease on "
					"network %s) after %d s", v->name,
					LVVM_NETWORK, timeout_s);
			break;
		}
		vm_sleep_ms(LEASE_POLL_MS);
	}
	if (drawn)
		fputc('\n', stderr);
	return ret;
}

int lvvm_wait_ssh(const struct vmctl_env *env, const char *name,
		  enum wait_until until, int timeout_s, bool progress,
		  struct wait_report *rep, struct vmctl_error **err)
{
	struct ssh_vm v;
	cleanup_free char *ip = NULL, *jump = NULL;
	long long start = vm_now_ms();
	int ret = -1;

	if (ssh_vm_open(env, name, &v, err) < 0 ||
	    wait_lease(&v, timeout_s, progress, &ip, err) < 0)
		goto out;
	rep->lease_s = (double)(vm_now_ms() - start) / 1000.0;
	{
		const struct lvvm_ssh_dest d = ssh_vm_dest(&v, ip);
		struct ssh_target t;

		jump = lvvm_ssh_proxy_jump(v.uri);
		t = dest_target(&d, jump);
		ret = ssh_wait_ready(&t, until, timeout_s, start, progress,
				     domain_alive, v.dom, rep, err);
	}
out:
	if (ret < 0 && v.dom != NULL && err != NULL && *err != NULL &&
	    (*err)->errnum != 0) {
		/* The log is a volume on the libvirt host: `logs` reads it. */
		char *msg;

		vm_wait_ssh_failed(err, NULL, rep->ssh_ok);
		msg = xasprintf("%s\nthe serial log: vmctl --connect %s logs %s",
				(*err)->message, v.uri, name);
		free((*err)->message);
		(*err)->message = msg;
	}
	ssh_vm_close(&v);
	return ret;
}
