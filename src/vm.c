// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The VM lifecycle.  Plans come from the pure modules (qemu-argv.c for
 * QEMU, image.c for qemu-img, tmux.c for tmux); this file carries them out
 * in order, and undoes what it did when a step fails.
 *
 * Locking: STATE_DIR/lock is held only while a VM's ports are chosen and
 * recorded, so parallel creates get distinct ports; each VM's own lock is
 * held for the whole of any command that changes it.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vmctl/fsutil.h"
#include "vmctl/hostfacts.h"
#include "vmctl/cloudinit.h"
#include "vmctl/gpu.h"
#include "vmctl/pci.h"
#include "vmctl/vfio.h"
#include "vmctl/image.h"
#include "vmctl/interrupt.h"
#include "vmctl/imagecache.h"
#include "vmctl/ssh.h"
#include "vmctl/qemu-argv.h"
#include "vmctl/qemu-run.h"
#include "vmctl/qmp.h"
#include "vmctl/termsafe.h"
#include "vmctl/tmux.h"
#include "vmctl/vm.h"
#include "vmctl/vm-claims.h"
#include "vmctl/vmdir.h"
#include "vmctl/xalloc.h"

#define LAUNCH_TIMEOUT_MS 30000
#define QUIT_TIMEOUT_MS 10000
#define KILL_TIMEOUT_MS 5000

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

const char *vm_run_state_name(enum vm_run_state s)
{
	switch (s) {
	case VM_RUNNING: return "running";
	case VM_CRASHED: return "crashed";
	case VM_CREATING: return "creating";
	case VM_INCOMPLETE: return "incomplete";
	case VM_STOPPED: break;
	}
	return "stopped";
}

const char *vm_stop_step_name(enum vm_stop_step s)
{
	switch (s) {
	case VM_STOP_POWERDOWN: return "powerdown";
	case VM_STOP_QUIT: return "quit";
	case VM_STOP_KILL: return "kill";
	case VM_STOP_NOT_RUNNING: break;
	}
	return "not-running";
}

void vm_info_clear(struct vm_info *info)
{
	free(info->name);
	state_clear(&info->st);
	spec_free(info->spec);
	free(info->qmp_status);
	free(info->vnc_password);
	*info = (struct vm_info){ 0 };
}

static bool file_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static void unlink_vm_file(const struct vmctl_env *env, const char *name,
			   const char *file)
{
	cleanup_free char *path = state_vm_file(env, name, file);

	unlink(path);
}

static int load_spec(const struct vmctl_env *env, const char *name,
		     struct vmctl_spec **spec, struct vmctl_error **err)
{
	cleanup_free char *path = state_vm_file(env, name, VMDIR_SPEC);

	if (spec_load_file(path, spec, err) < 0)
		return vmctl_error_wrap(err, "VM %s: saved spec", name);
	return 0;
}

static int require_vm(const struct vmctl_env *env, const char *name,
		      struct vmctl_error **err)
{
	if (!spec_name_valid(name))
		return vmctl_error_set(err, VMCTL_EXIT_USAGE, 0,
				       "invalid VM name \"%s\"", name);
	if (!state_vm_exists(env, name))
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, ENOENT,
				       "no VM named \"%s\" (see vmctl list)",
				       name);
	return 0;
}

/* ---- runtime bookkeeping --------------------------------------------- */

static bool wait_gone(const struct vmctl_env *env, const struct proc_id *id,
		      long long timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;

	while (proc_alive(env, id)) {
		if (now_ms() >= deadline)
			return false;
		sleep_ms(50);
	}
	return true;
}

/* Forget a QEMU that is gone: its session, sockets and pidfile (a QEMU
 * that gave up root could not remove them), and give back what it
 * claimed (the caller writes the state). */
static void clear_runtime(const struct vmctl_env *env, const char *name,
			  struct vm_state *st)
{
	struct vmctl_error *ignored = NULL;

	bool had_qemu = st->qemu.pid > 0;

	tmux_kill(env, name, &ignored);
	vmctl_error_free(ignored);
	unlink_vm_file(env, name, VMDIR_QMP);
	unlink_vm_file(env, name, VMDIR_VNC_SOCKET);
	unlink_vm_file(env, name, VMDIR_PIDFILE);
	st->qemu = (struct proc_id){ 0 };
	/* QEMU is gone: what its start moved to vfio-pci goes back. */
	if (had_qemu || st->claim.recorded)
		vm_claims_release(env, name, st);
}

static void record_exit(const struct vmctl_env *env, const char *name,
			struct vm_state *st, const char *stopped_by)
{
	struct tmux_pane pane;
	struct vmctl_error *ignored = NULL;

	cleanup_free char *pidfile = state_vm_file(env, name, VMDIR_PIDFILE);

	free(st->last_exit.stopped_by);
	st->last_exit = (struct vm_exit){
		.known = true, .status = -1, .time = time(NULL),
	};
	/* QEMU can be gone (a zombie) before tmux has seen its pane die:
	 * give tmux a moment to collect the status. */
	for (int i = 0; i < 50; i++) {
		if (tmux_query(env, name, &pane, &ignored) < 0 || !pane.exists)
			break;
		if (pane.dead && (pane.status >= 0 || pane.signal > 0)) {
			st->last_exit.status = pane.status;
			st->last_exit.signal = pane.signal;
			break;
		}
		sleep_ms(20);
	}
	vmctl_error_free(ignored);
	/* Without tmux's word: QEMU removes its pidfile when it exits
	 * cleanly, never when it is killed or crashes.  (A QEMU that gave
	 * up root for env->qemu_user cannot remove it from the VM's 0700
	 * directory, so its pidfile says nothing.) */
	if (st->last_exit.status < 0 && st->last_exit.signal == 0 &&
	    env->qemu_user == NULL && !file_exists(pidfile))
		st->last_exit.status = 0;
	if (stopped_by != NULL)
		st->last_exit.stopped_by = xstrdup(stopped_by);
	else if (st->last_exit.status == 0 && st->last_exit.signal == 0)
		st->last_exit.stopped_by = xstrdup("guest");
}

/*
 * A QEMU that vmctl stopped is gone: put how on record, then clear its
 * session and files.  In that order: a vmctl killed in between leaves a
 * stopped VM and a dead session for the next command to clean, where the
 * other order would leave a QEMU that vanished without a word (crashed).
 */
static int record_stop(const struct vmctl_env *env, const char *name,
		       struct vm_state *st, const char *how,
		       struct vmctl_error **err)
{
	struct proc_id qemu = st->qemu;
	int ret;

	record_exit(env, name, st, how);
	st->qemu = (struct proc_id){ 0 };
	/* The claim counts until it is given back: this vmctl holds it. */
	vm_claims_own(env, st);
	ret = state_write(env, name, st, err);
	st->qemu = qemu;   /* so clear_runtime gives the claim back */
	clear_runtime(env, name, st);
	if (ret == 0)
		ret = state_write(env, name, st, err);
	return ret;
}

/* Kill a pane's process (and wait for it), only while it is still the
 * tmux server's child: a pid tmux reported may have been reused since. */
static void kill_pane(const struct vmctl_env *env, pid_t pid, pid_t server)
{
	struct proc_id id;

	if (pid > 0 && proc_identify(env, pid, &id) == 0 && id.ppid == server) {
		proc_signal(env, &id, SIGKILL);
		wait_gone(env, &id, KILL_TIMEOUT_MS);
	}
}

/*
 * The QEMU this VM's pidfile names, if it is one: a live process whose
 * command line holds this very pidfile path (every QEMU vmctl starts
 * names its own), so a stale pidfile never gets another process killed.
 */
static int pidfile_qemu(const struct vmctl_env *env, const char *name,
			struct proc_id *id)
{
	cleanup_free char *path = state_vm_file(env, name, VMDIR_PIDFILE);
	cleanup_free char *text = NULL, *cmdline = NULL, *cpath = NULL;
	struct vmctl_error *ignored = NULL;
	size_t len;
	long v;

	if (fs_read_file(path, 64, &text, &len, VMCTL_EXIT_FAILURE,
			 &ignored) < 0) {
		vmctl_error_free(ignored);
		return -1;
	}
	v = strtol(text, NULL, 10);
	if (v <= 0 || v > INT32_MAX || proc_identify(env, (pid_t)v, id) < 0)
		return -1;
	cpath = xasprintf("%s/%ld/cmdline", env->proc, v);
	if (fs_read_file(cpath, 1u << 20, &cmdline, &len, VMCTL_EXIT_FAILURE,
			 &ignored) < 0) {
		vmctl_error_free(ignored);
		return -1;
	}
	for (size_t off = 0; off < len; off += strlen(cmdline + off) + 1)
		if (strcmp(cmdline + off, path) == 0)
			return 0;
	return -1;
}

static void kill_by_pidfile(const struct vmctl_env *env, const char *name)
{
	struct proc_id id;

	if (pidfile_qemu(env, name, &id) == 0) {
		proc_signal(env, &id, SIGKILL);
		wait_gone(env, &id, KILL_TIMEOUT_MS);
	}
}

/*
 * Catch up with a QEMU that died on its own (killed, crashed, the guest
 * powered off): record how, and clean its leftovers.  Needs the VM lock.
 */
static int refresh(const struct vmctl_env *env, const char *name,
		   struct vm_state *st, struct vmctl_error **err)
{
	struct tmux_pane pane;

	if (st->qemu.pid > 0 && !proc_alive(env, &st->qemu)) {
		record_exit(env, name, st, NULL);
		clear_runtime(env, name, st);
		return state_write(env, name, st, err);
	}
	if (st->qemu.pid == 0 && tmux_query(env, name, &pane, err) == 0 &&
	    pane.exists) {
		/* A session no launch finished with: vmctl was killed. */
		if (!pane.dead)
			kill_pane(env, pane.pid, pane.server);
		kill_by_pidfile(env, name);
		clear_runtime(env, name, st);
	}
	if (st->qemu.pid == 0 && st->claim.recorded) {
		/* A claim no QEMU holds, under our lock: the start or stop
		 * that held it was killed. */
		vm_claims_release(env, name, st);
		return state_write(env, name, st, err);
	}
	return 0;
}

static enum vm_run_state run_state(const struct vmctl_env *env,
				   const char *name, const struct vm_state *st)
{
	cleanup_free char *marker = state_vm_file(env, name, VMDIR_CREATING);

	if (file_exists(marker))
		return VM_CREATING;
	if (st->qemu.pid > 0)
		return proc_alive(env, &st->qemu) ? VM_RUNNING : VM_CRASHED;
	if (!st->last_exit.known || st->last_exit.stopped_by != NULL)
		return VM_STOPPED;
	return VM_CRASHED;
}

/* ---- ports ------------------------------------------------------------ */

/* Ports every other VM holds (running or not, so a stopped VM gets its
 * ports back when it starts). */
static void collect_taken(const struct vmctl_env *env, const char *self,
			  struct port_set *taken)
{
	struct strv names = { 0 };
	struct vmctl_error *ignored = NULL;

	state_list(env, &names, &ignored);
	vmctl_error_free(ignored);
	for (size_t i = 0; i < names.n; i++) {
		struct vm_state st;

		ignored = NULL;
		if (strcmp(names.v[i], self) == 0 ||
		    state_read(env, names.v[i], &st, &ignored) < 0) {
			vmctl_error_free(ignored);
			continue;
		}
		if (st.ssh_port)
			port_set_add(taken, st.ssh_port);
		if (st.vnc_display >= 0)
			port_set_add(taken, 5900 + (unsigned)st.vnc_display);
		state_clear(&st);
	}
	strv_clear(&names);
}

/* ---- launch ------------------------------------------------------------ */

static char *random_password(void)
{
	static const char alphabet[] = "abcdefghijkmnopqrstuvwxyz"
				       "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	unsigned char raw[8];
	char *pw = xmalloc(sizeof(raw) + 1);

	/* VNC authentication uses at most 8 characters. */
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		abort();
	for (size_t i = 0; i < sizeof(raw); i++)
		pw[i] = alphabet[raw[i] % (sizeof(alphabet) - 1)];
	pw[sizeof(raw)] = '\0';
	return pw;
}

static char *read_vnc_password(const struct vmctl_env *env, const char *name)
{
	cleanup_free char *path = state_vm_file(env, name, VMDIR_VNC_PASSWORD);
	char *text = NULL;
	size_t len;
	struct vmctl_error *ignored = NULL;

	if (fs_read_file(path, 4096, &text, &len, VMCTL_EXIT_FAILURE,
			 &ignored) < 0) {
		vmctl_error_free(ignored);
		return NULL;
	}
	text[strcspn(text, "\n")] = '\0';
	return text;
}

/*
 * QEMU's own words, from its pane, for a QEMU that died before it answered
 * on QMP: its last line, whatever its prefix ("qemu-system-x86_64: ...",
 * "qemu: could not load PC BIOS ...", or vmctl's launcher's "vmctl: ...").
 * The guest has not run yet, so nothing else writes there (but tmux's
 * "Pane is dead" notice, which is skipped).  Control
 * characters are dropped: the text goes to the user's terminal.
 */
static char *qemu_error(const struct vmctl_env *env, const char *name)
{
	cleanup_free char *raw = NULL, *text = NULL;
	char *best = NULL, *save = NULL;
	struct vmctl_error *ignored = NULL;

	if (tmux_capture(env, name, 200, &raw, &ignored) < 0) {
		vmctl_error_free(ignored);
		return NULL;
	}
	text = termsafe_string(raw, strlen(raw));
	for (char *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		size_t len = strlen(line);

		while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
			line[--len] = '\0';
		/* tmux's own remain-on-exit notice is not QEMU's word. */
		if (len > 0 && strncmp(line, "Pane is dead", 12) != 0) {
			free(best);
			best = xstrdup(line);
		}
	}
	return best;
}

static int resolve_ports(const struct vmctl_env *env, const char *name,
			 const struct vmctl_spec *spec, struct vm_state *st,
			 const struct port_set *avoid, struct hostfacts *facts,
			 struct vmctl_error **err)
{
	struct port_set *taken = xcalloc(1, sizeof(*taken));
	struct hostfacts_want want = {
		.taken = taken,
		.ssh_port = st->ssh_port,
		.vnc_display = st->vnc_display,
	};
	int lock, ret;

	lock = state_lock_global(env, err);
	if (lock < 0) {
		free(taken);
		return -1;
	}
	if (avoid != NULL)
		*taken = *avoid;
	collect_taken(env, name, taken);
	ret = hostfacts_gather(env, spec, &want, facts, err);
	if (ret == 0) {
		st->ssh_port = facts->qemu.ssh_port;
		st->vnc_display = facts->qemu.vnc_display;
		free(st->accel);
		st->accel = xstrdup(spec_accel_name(facts->qemu.accel));
		ret = state_write(env, name, st, err);
	}
	close(lock);
	free(taken);
	return ret;
}

static int wait_for_qmp(const struct vmctl_env *env, const char *name,
			struct qmp **out, struct vmctl_error **err)
{
	cleanup_free char *sock = state_vm_file(env, name, VMDIR_QMP);
	long long deadline = now_ms() + LAUNCH_TIMEOUT_MS;

	for (;;) {
		struct tmux_pane pane;
		struct vmctl_error *ignored = NULL;

		if (tmux_query(env, name, &pane, err) < 0)
			return -1;
		if (!pane.exists) {
			cleanup_free char *session = tmux_session_name(name);

			return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					       "QEMU's tmux session %s is gone",
					       session);
		}
		if (pane.dead) {
			cleanup_free char *why = qemu_error(env, name);

			if (why != NULL)
				return vmctl_error_set(err, VMCTL_EXIT_FAILURE,
						       0, "QEMU failed to "
						       "start: %s", why);
			return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					       "QEMU exited at once (status "
					       "%d)", pane.status);
		}
		if (file_exists(sock) &&
		    qmp_open(sock, 2000, out, &ignored) == 0)
			return 0;
		vmctl_error_free(ignored);
		if (interrupt_pending())
			return vmctl_error_set(err, VMCTL_EXIT_FAILURE, EINTR,
					       "interrupted");
		if (now_ms() >= deadline)
			return vmctl_error_set(err, VMCTL_EXIT_FAILURE,
					       ETIMEDOUT, "QEMU did not answer "
					       "on %s within %d s", sock,
					       LAUNCH_TIMEOUT_MS / 1000);
		sleep_ms(50);
	}
}

static int wait_running(struct qmp *q, struct vmctl_error **err)
{
	long long deadline = now_ms() + LAUNCH_TIMEOUT_MS;

	for (;;) {
		cleanup_free char *status = NULL;

		if (qmp_query_status(q, &status, err) < 0)
			return -1;
		if (strcmp(status, "running") == 0)
			return 0;
		if (interrupt_pending())
			return vmctl_error_set(err, VMCTL_EXIT_FAILURE, EINTR,
					       "interrupted");
		if (now_ms() >= deadline)
			return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					       "QEMU is %s, not running",
					       status);
		sleep_ms(50);
	}
}

static int set_vnc_password(const struct vmctl_env *env, const char *name,
			    struct qmp *q, struct vmctl_error **err)
{
	cleanup_free char *pw = read_vnc_password(env, name);
	cJSON *args;

	if (pw == NULL)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "VM %s has no VNC password file", name);
	args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "protocol", "vnc");
	cJSON_AddStringToObject(args, "password", pw);
	return qmp_execute(q, "set_password", args, NULL, err);
}

/* ---- GPUs ---------------------------------------------------------------- */

/*
 * Undo a launch that failed after tmux started QEMU: kill whatever QEMU is
 * there (the identified one, the one its pidfile names, the pane's
 * process as tmux reported it at start), then drop the session, by name
 * and by the id tmux gave it, so no QEMU and no session outlive the VM.
 */
static void abandon_launch(const struct vmctl_env *env, const char *name,
			   struct vm_state *st,
			   const struct tmux_started *started)
{
	struct tmux_pane pane = { 0 };
	struct vmctl_error *ignored = NULL;

	if (st->qemu.pid > 0)
		proc_signal(env, &st->qemu, SIGKILL);
	kill_by_pidfile(env, name);
	if (tmux_query(env, name, &pane, &ignored) == 0 && pane.exists &&
	    !pane.dead)
		kill_pane(env, pane.pid, pane.server);
	vmctl_error_free(ignored);
	ignored = NULL;
	kill_pane(env, started->pane_pid, started->server);
	wait_gone(env, &st->qemu, KILL_TIMEOUT_MS);
	if (started->session_id != NULL)
		tmux_kill_id(env, started->session_id, &ignored);
	vmctl_error_free(ignored);
	ignored = NULL;
	clear_runtime(env, name, st);
	state_write(env, name, st, &ignored);
	vmctl_error_free(ignored);
}

/* Socket paths must fit a sockaddr_un (108 bytes with its NUL). */
static int check_socket_paths(const struct vmctl_env *env, const char *name,
			      struct vmctl_error **err)
{
	static const char *const socks[] = { VMDIR_QMP, VMDIR_VNC_SOCKET };

	for (size_t i = 0; i < sizeof(socks) / sizeof(socks[0]); i++) {
		cleanup_free char *path = state_vm_file(env, name, socks[i]);

		if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return vmctl_error_set(err, VMCTL_EXIT_USAGE,
					       ENAMETOOLONG,
					       "%s is %zu bytes long, more than "
					       "a UNIX socket path may be (%zu): "
					       "use a shorter --state-dir or VM "
					       "name", path, strlen(path),
					       sizeof(((struct sockaddr_un *)0)
							      ->sun_path) - 1);
	}
	return 0;
}

/* The pane's command: vmctl's launcher, then QEMU (qemu-run.h). */
static void pane_command(const struct vmctl_env *env, const char *name,
			 const struct vmctl_spec *spec,
			 const struct strv *qemu, struct strv *argv)
{
	cleanup_free char *self = qemu_run_self();
	cleanup_free char *log = state_vm_file(env, name, VMDIR_SERIAL_LOG);
	struct qemu_run_opts o = {
		.self = self,
		.log = log,
		.log_max = env->serial_log_max ? env->serial_log_max
					       : QEMU_RUN_LOG_MAX_DEFAULT,
	};

	/* VFIO pins all guest RAM (and QEMU's own mappings of the cards):
	 * what libvirt allows, guest RAM plus 1 GiB. */
	if (spec->n_gpus > 0)
		o.memlock = spec->memory + (1ull << 30);
	qemu_run_argv(&o, qemu, argv);
}

/* Start QEMU for a VM whose files are in place; on failure, nothing of
 * that QEMU is left running. */
static int launch_once(const struct vmctl_env *env, const char *name,
		       const struct vmctl_spec *spec, struct vm_state *st,
		       const struct port_set *avoid, struct vmctl_error **err)
{
	struct hostfacts facts = { 0 };
	struct strv qemu = { 0 }, argv = { 0 };
	struct tmux_started started = { 0 };
	struct qmp *q = NULL;
	int ret = -1;

	if (check_socket_paths(env, name, err) < 0)
		return -1;
	if (env->qemu_user != NULL &&
	    qemu_run_ensure_user(env->qemu_user, err) < 0)
		return -1;
	if (resolve_ports(env, name, spec, st, avoid, &facts, err) < 0)
		return -1;
	if (qemu_argv_build(spec, &facts.qemu, &qemu, err) < 0)
		goto out;
	pane_command(env, name, spec, &qemu, &argv);
	clear_runtime(env, name, st);
	/* Claim, then bind: a refusal leaves everything as it was. */
	if (vm_claims_take(env, name, spec, st, err) < 0)
		goto out;
	if (vm_claims_bind(env, name, spec, st, err) < 0 ||
	    tmux_start(env, name, &argv, &started, err) < 0) {
		struct vmctl_error *ignored = NULL;

		vm_claims_release(env, name, st);
		state_write(env, name, st, &ignored);
		vmctl_error_free(ignored);
		goto out;
	}
	if (wait_for_qmp(env, name, &q, err) < 0)
		goto fail;
	if (pidfile_qemu(env, name, &st->qemu) < 0) {
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				"QEMU answered but its pidfile is unusable");
		goto fail;
	}
	if (wait_running(q, err) < 0)
		goto fail;
	if (spec->vnc.enabled && spec->vnc.password &&
	    set_vnc_password(env, name, q, err) < 0)
		goto fail;
	st->started = time(NULL);
	if (state_write(env, name, st, err) < 0)
		goto fail;
	ret = 0;
	goto out;
fail:
	/* Gives back what this start claimed and bound, whether or not
	 * QEMU lived long enough for vmctl to know its pid. */
	abandon_launch(env, name, st, &started);
out:
	qmp_close(q);
	tmux_started_clear(&started);
	strv_clear(&qemu);
	strv_clear(&argv);
	hostfacts_clear(&facts);
	return ret;
}

/*
 * A port vmctl picked can be taken between the pick and QEMU's bind (by
 * anything outside this state dir).  Ports the spec left to vmctl are
 * then picked again, a few times; fixed ports fail with QEMU's words.
 */
static int launch(const struct vmctl_env *env, const char *name,
		  const struct vmctl_spec *spec, struct vm_state *st,
		  struct vmctl_error **err)
{
	struct port_set *avoid = xcalloc(1, sizeof(*avoid));
	int ret = -1;

	for (int attempt = 0; attempt < 4; attempt++) {
		struct vmctl_error *e = NULL;
		bool ssh_busy, vnc_busy;

		ret = launch_once(env, name, spec, st, avoid, &e);
		if (ret == 0)
			break;
		ssh_busy = strstr(e->message, "host forwarding rule") != NULL &&
			   spec->network.ssh_port == 0;
		vnc_busy = strstr(e->message, "Failed to find an available "
				  "port") != NULL && spec->vnc.display < 0;
		if (attempt == 3 || interrupt_pending() ||
		    !(ssh_busy || vnc_busy)) {
			*err = e;
			break;
		}
		vmctl_error_free(e);
		if (ssh_busy) {
			port_set_add(avoid, st->ssh_port);
			st->ssh_port = 0;
		}
		if (vnc_busy && st->vnc_display >= 0) {
			port_set_add(avoid, 5900 + (unsigned)st->vnc_display);
			st->vnc_display = -1;
		}
	}
	free(avoid);
	return ret;
}

/* ---- create ------------------------------------------------------------ */

static int check_file(const char *what, const char *path,
		      struct vmctl_error **err)
{
	if (access(path, R_OK) == 0)
		return 0;
	return vmctl_error_errno(err, vmctl_error_status_from_errno(
			errno, VMCTL_EXIT_NOINPUT), errno, "%s %s", what, path);
}

static bool on_path(const char *prog)
{
	const char *path = getenv("PATH");
	cleanup_free char *copy = NULL;
	char *save = NULL;

	if (strchr(prog, '/') != NULL)
		return access(prog, X_OK) == 0;
	copy = xstrdup(path ? path : "/usr/bin:/bin");
	for (char *dir = strtok_r(copy, ":", &save); dir;
	     dir = strtok_r(NULL, ":", &save)) {
		cleanup_free char *full = xasprintf("%s/%s", dir, prog);

		if (access(full, X_OK) == 0)
			return true;
	}
	return false;
}

/* Everything that can be checked before a single file is written.
 * `base_path` is the local (downloaded, verified) disk image. */
static int preflight(const struct vmctl_spec *spec, const char *base_path,
		     struct image_info *base, struct vmctl_error **err)
{
	if (!on_path(spec->qemu.binary))
		return vmctl_error_set(err, VMCTL_EXIT_UNAVAILABLE, ENOENT,
				       "%s not found (Debian: apt-get install "
				       "qemu-system-x86)", spec->qemu.binary);
	if (!on_path("tmux"))
		return vmctl_error_set(err, VMCTL_EXIT_UNAVAILABLE, ENOENT,
				       "tmux not found (Debian: apt-get "
				       "install tmux)");
	if (spec->cloud_init.enabled && !on_path("ssh-keygen"))
		return vmctl_error_set(err, VMCTL_EXIT_UNAVAILABLE, ENOENT,
				       "ssh-keygen not found (Debian: apt-get "
				       "install openssh-client)");
	if (base_path != NULL) {
		if (base_path[0] != '/')
			return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					       "disk.image: %s is not an "
					       "absolute path", base_path);
		if (check_file("disk image", base_path, err) < 0 ||
		    image_info(base_path, base, err) < 0)
			return -1;
		if (spec->disk.size != 0 &&
		    spec->disk.size < base->virtual_size)
			return vmctl_error_set(err, VMCTL_EXIT_SPEC, 0,
					       "disk.size is smaller than the "
					       "image %s (%llu bytes)",
					       base_path,
					       (unsigned long long)
						       base->virtual_size);
	}
	if (spec->cdrom != NULL && check_file("cdrom", spec->cdrom, err) < 0)
		return -1;
	if (spec->kernel.image != NULL &&
	    check_file("kernel", spec->kernel.image, err) < 0)
		return -1;
	if (spec->kernel.initrd != NULL &&
	    check_file("initrd", spec->kernel.initrd, err) < 0)
		return -1;
	return 0;
}

/* A create that has not finished: its marker is there, or it died
 * before even the marker and the first state file were written. */
static bool create_unfinished(const struct vmctl_env *env, const char *name)
{
	cleanup_free char *marker = state_vm_file(env, name, VMDIR_CREATING);
	cleanup_free char *state = state_vm_file(env, name, VMDIR_STATE);

	return file_exists(marker) || !file_exists(state);
}

/*
 * Remove a VM's directory: renamed out of the way first, then emptied.
 * Should the rename be impossible, vm.json goes first, so that a vmctl
 * killed halfway leaves what reads as an unfinished create (which list
 * shows as incomplete and create or destroy finish), never a created VM
 * with files missing.
 */
static int remove_vm_dir(const struct vmctl_env *env, const char *name,
			 struct vmctl_error **err)
{
	cleanup_free char *dir = state_vm_dir(env, name);
	cleanup_free char *state = state_vm_file(env, name, VMDIR_STATE);
	cleanup_free char *gone = xasprintf("%s/vms/.%s.gone-XXXXXX",
					    env->state_dir, name);

	/* Away at once, by one rename over an empty directory of ours: no
	 * command can see half a VM (a `list` recreating its lock file
	 * inside while it is emptied, say).  A killed vmctl leaves a hidden
	 * directory for state_sweep(). */
	if (mkdtemp(gone) != NULL) {
		if (rename(dir, gone) == 0)
			return fs_remove_tree(gone, err);
		rmdir(gone);
	}
	if (unlink(state) < 0 && errno != ENOENT)
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno, "%s",
					 state);
	return fs_remove_tree(dir, err);
}

/*
 * Make the VM's directory appear already holding its `creating` marker
 * and already locked by this create: filled under a hidden name, then
 * renamed into place, so no other command ever sees it unmarked or takes
 * its lock first.  Needs the state-wide lock.
 */
static int make_vm_dir(const struct vmctl_env *env, const char *name,
		       int *lock, struct vmctl_error **err)
{
	cleanup_free char *dir = state_vm_dir(env, name);
	cleanup_free char *stage = xasprintf("%s/vms/.%s.new-XXXXXX",
					     env->state_dir, name);
	cleanup_free char *lock_path = NULL;
	struct vmctl_error *ignored = NULL;

	if (mkdtemp(stage) == NULL)
		return vmctl_error_errno(err, vmctl_error_status_from_errno(
				errno, VMCTL_EXIT_FAILURE), errno, "%s", stage);
	lock_path = xasprintf("%s/%s", stage, VMDIR_LOCK);
	if (fs_write_atomic(stage, VMDIR_CREATING, "", 0, 0600, err) < 0)
		goto fail;
	*lock = state_lock_path(lock_path, LOCK_EX, err);
	if (*lock < 0)
		goto fail;
	if (rename(stage, dir) == 0)
		return 0;
	vmctl_error_errno(err, vmctl_error_status_from_errno(errno,
			  VMCTL_EXIT_FAILURE), errno, "%s", dir);
	close(*lock);
	*lock = -1;
fail:
	fs_remove_tree(stage, &ignored);
	vmctl_error_free(ignored);
	return -1;
}

/* A `creating` VM whose creator is gone (killed, crashed): undo it. */
static int reclaim_stale(const struct vmctl_env *env, const char *name,
			 struct vmctl_error **err)
{
	struct vm_state st = { 0 };
	struct vmctl_error *ignored = NULL;
	int lock;

	if (!create_unfinished(env, name))
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, EEXIST,
				       "a VM named \"%s\" already exists",
				       name);
	/* A creator that was just killed may take a moment to let go of
	 * the lock; a live one keeps it, and is left alone. */
	for (int tries = 0;; tries++) {
		lock = state_lock_vm(env, name, false, err);
		if (lock >= 0 || tries == 40)
			break;
		vmctl_error_free(*err);
		*err = NULL;
		sleep_ms(50);
	}
	if (lock < 0)
		return vmctl_error_wrap(err, "VM %s is being created", name);
	if (state_read(env, name, &st, &ignored) < 0) {
		vmctl_error_free(ignored);
		ignored = NULL;
	}
	if (st.qemu.pid > 0 && proc_alive(env, &st.qemu)) {
		proc_signal(env, &st.qemu, SIGKILL);
		wait_gone(env, &st.qemu, KILL_TIMEOUT_MS);
	}
	refresh(env, name, &st, &ignored);
	vmctl_error_free(ignored);
	clear_runtime(env, name, &st);
	state_clear(&st);
	if (remove_vm_dir(env, name, err) < 0) {
		close(lock);
		return -1;
	}
	close(lock);
	return 0;
}

static char *read_small(const char *path, struct vmctl_error **err)
{
	char *text = NULL;
	size_t len;

	if (fs_read_file(path, 1u << 20, &text, &len, VMCTL_EXIT_NOINPUT,
			 err) < 0)
		return NULL;
	return text;
}

/* The VM's keys, its pinned known_hosts and the cloud-init seed. */
static int prepare_cloud_init(const struct vmctl_env *env, const char *name,
			      const struct vmctl_spec *spec,
			      struct vmctl_error **err)
{
	cleanup_free char *dir = state_vm_dir(env, name);
	cleanup_free char *key = state_vm_file(env, name, VMDIR_SSH_KEY);
	cleanup_free char *hkey = state_vm_file(env, name, VMDIR_HOST_KEY);
	cleanup_free char *key_pub = NULL, *hkey_pub = NULL, *hkey_priv = NULL;
	cleanup_free char *comment = xasprintf("vmctl-%s", name);
	cleanup_free char *host_comment = xasprintf("root@%s", name);
	cleanup_free char *extra = NULL, *known = NULL, *user_data = NULL;
	cleanup_free char *meta = NULL, *net = NULL, *instance = NULL;
	cleanup_free char *pub_path = NULL, *hpub_path = NULL;
	unsigned char rnd[4];
	char mac[18];

	if (ssh_keygen(key, comment, err) < 0 ||
	    ssh_keygen(hkey, host_comment, err) < 0)
		return -1;
	pub_path = xasprintf("%s.pub", key);
	hpub_path = xasprintf("%s.pub", hkey);
	key_pub = read_small(pub_path, err);
	hkey_pub = key_pub ? read_small(hpub_path, err) : NULL;
	hkey_priv = hkey_pub ? read_small(hkey, err) : NULL;
	if (hkey_priv == NULL)
		return -1;
	if (spec->cloud_init.user_data != NULL) {
		extra = read_small(spec->cloud_init.user_data, err);
		if (extra == NULL)
			return vmctl_error_wrap(err, "cloud_init.user_data");
	}
	known = ssh_known_hosts_line(name, hkey_pub);
	if (fs_write_atomic(dir, VMDIR_KNOWN_HOSTS, known, strlen(known),
			    0600, err) < 0)
		return -1;
	key_pub[strcspn(key_pub, "\n")] = '\0';
	user_data = cloudinit_user_data(spec, &(struct cloudinit_keys){
		.client_pub = key_pub, .host_private = hkey_priv,
		.host_public = hkey_pub }, extra);
	/* A fresh instance id per create: cloud-init runs its first-boot
	 * modules once per instance, and a re-created VM is a new one. */
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		abort();
	instance = xasprintf("vmctl-%s-%02x%02x%02x%02x", name, rnd[0], rnd[1],
			     rnd[2], rnd[3]);
	meta = cloudinit_meta_data(spec, instance);
	qemu_mac_for_name(name, mac);
	net = cloudinit_network_config(mac);
	return cloudinit_write_seed(dir, VMDIR_SEED, user_data, meta, net,
				    err);
}

static int prepare_files(const struct vmctl_env *env, const char *name,
			 const struct vmctl_spec *spec, const char *base_path,
			 const struct image_info *base, struct vm_state *st,
			 struct vmctl_error **err)
{
	cleanup_free char *dir = state_vm_dir(env, name);
	cJSON *json = spec_to_json(spec);
	char *text = cJSON_Print(json);
	int ret;

	cJSON_Delete(json);
	ret = fs_write_atomic(dir, VMDIR_SPEC, text, strlen(text), 0600, err);
	free(text);
	if (ret < 0)
		return -1;
	if (base_path != NULL) {
		cleanup_free char *overlay = state_vm_file(env, name,
							   VMDIR_DISK);

		st->base_image = xstrdup(base_path);
		st->base_format = xstrdup(base->format);
		if (image_create_overlay(base_path, base->format, overlay,
					 spec->disk.size, err) < 0)
			return -1;
	}
	if (spec->cloud_init.enabled &&
	    prepare_cloud_init(env, name, spec, err) < 0)
		return -1;
	if (spec->firmware == SPEC_FIRMWARE_UEFI) {
		struct firmware_ovmf fw;

		if (firmware_find_ovmf(env, &fw) < 0)
			return vmctl_error_set(err, VMCTL_EXIT_UNAVAILABLE, 0,
					       "UEFI firmware (OVMF) is not "
					       "installed (Debian: apt-get "
					       "install ovmf)");
		ret = fs_copy_file(fw.vars, dir, VMDIR_OVMF_VARS, 0600, err);
		firmware_ovmf_clear(&fw);
		if (ret < 0)
			return -1;
	}
	if (spec->vnc.enabled && spec->vnc.password) {
		cleanup_free char *pw = random_password();
		cleanup_free char *line = xasprintf("%s\n", pw);

		if (fs_write_atomic(dir, VMDIR_VNC_PASSWORD, line, strlen(line),
				    0600, err) < 0)
			return -1;
	}
	return state_write(env, name, st, err);
}

static int fill_info(const struct vmctl_env *env, const char *name,
		     struct vm_info *out, struct vmctl_error **err);

int vm_create(const struct vmctl_env *env, struct vmctl_spec *spec,
	      const struct vm_create_opts *opts, struct vm_info *out,
	      struct vmctl_error **err)
{
	struct image_info base = { 0 };
	struct imagecache_result image = { 0 };
	struct vm_state st = { .vnc_display = -1 };
	cleanup_free char *vms = xasprintf("%s/vms", env->state_dir);
	cleanup_free char *dir = NULL, *marker = NULL;
	const char *name;
	int glock = -1, lock = -1, ret = -1;
	bool made = false;

	if (opts->name != NULL) {
		if (!spec_name_valid(opts->name))
			return vmctl_error_set(err, VMCTL_EXIT_USAGE, 0,
					       "invalid VM name \"%s\"",
					       opts->name);
		free(spec->name);
		spec->name = xstrdup(opts->name);
	}
	name = spec->name;
	dir = state_vm_dir(env, name);
	marker = state_vm_file(env, name, VMDIR_CREATING);
	/* Before a download that could take minutes: is the name free,
	 * and can its sockets be made at all? */
	if (state_vm_exists(env, name) && !create_unfinished(env, name)) {
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, EEXIST,
				"a VM named \"%s\" already exists", name);
		goto out;
	}
	if (check_socket_paths(env, name, err) < 0)
		goto out;
	if (spec->disk.image != NULL &&
	    imagecache_get(env, &spec->disk, opts->progress, &image, err) < 0)
		goto out;
	if (preflight(spec, image.path, &base, err) < 0)
		goto out;

	/* Claim the name. */
	if (fs_mkdir_p(vms, 0755, err) < 0)
		goto out;
	glock = state_lock_global(env, err);
	if (glock < 0)
		goto out;
	state_sweep(env);
	if (state_vm_exists(env, name) && reclaim_stale(env, name, err) < 0)
		goto out;
	if (make_vm_dir(env, name, &lock, err) < 0)
		goto out;
	made = true;
	close(glock);
	glock = -1;

	st.created = time(NULL);
	imagecache_record_base(&image, &st);
	if (prepare_files(env, name, spec, image.path, &base, &st, err) < 0)
		goto out;
	if (!opts->no_start && launch(env, name, spec, &st, err) < 0)
		goto out;
	if (interrupt_pending()) {
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, EINTR, "interrupted");
		if (st.qemu.pid > 0) {
			proc_signal(env, &st.qemu, SIGKILL);
			wait_gone(env, &st.qemu, KILL_TIMEOUT_MS);
		}
		goto out;
	}
	if (unlink(marker) < 0) {
		vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno, "%s", marker);
		goto out;
	}
	ret = fill_info(env, name, out, err);
out:
	if (ret < 0 && made) {
		struct vmctl_error *ignored = NULL;

		clear_runtime(env, name, &st);
		remove_vm_dir(env, name, &ignored);
		vmctl_error_free(ignored);
	}
	if (lock >= 0)
		close(lock);
	if (glock >= 0)
		close(glock);
	state_clear(&st);
	image_info_clear(&base);
	imagecache_result_clear(&image);
	return ret;
}

/* ---- inspect ------------------------------------------------------------ */

static int fill_info(const struct vmctl_env *env, const char *name,
		     struct vm_info *out, struct vmctl_error **err)
{
	struct vm_info info = { .name = xstrdup(name) };

	if (state_read(env, name, &info.st, err) < 0) {
		/* Between mkdir and the first state write of a create. */
		if (!create_unfinished(env, name)) {
			vm_info_clear(&info);
			return -1;
		}
		vmctl_error_free(*err);
		*err = NULL;
		info.state = VM_CREATING;
		*out = info;
		return 0;
	}
	info.state = run_state(env, name, &info.st);
	if (info.state != VM_CREATING && load_spec(env, name, &info.spec,
						   err) < 0) {
		vm_info_clear(&info);
		return -1;
	}
	info.vnc_password = read_vnc_password(env, name);
	if (info.state == VM_RUNNING) {
		cleanup_free char *sock = state_vm_file(env, name, VMDIR_QMP);
		struct qmp *q = NULL;
		struct vmctl_error *ignored = NULL;

		if (qmp_open(sock, 2000, &q, &ignored) == 0)
			qmp_query_status(q, &info.qmp_status, &ignored);
		vmctl_error_free(ignored);
		qmp_close(q);
	}
	*out = info;
	return 0;
}

int vm_inspect(const struct vmctl_env *env, const char *name,
	       struct vm_info *out, struct vmctl_error **err)
{
	struct vm_state st;
	struct vmctl_error *busy = NULL;
	int lock;

	if (require_vm(env, name, err) < 0)
		return -1;
	/* Clean up after a dead QEMU if nobody else is busy with the VM;
	 * otherwise just report what is there. */
	lock = state_lock_vm(env, name, false, &busy);
	vmctl_error_free(busy);
	if (lock >= 0) {
		struct vmctl_error *ignored = NULL;
		cleanup_free char *marker = state_vm_file(env, name,
							  VMDIR_CREATING);

		if (!file_exists(marker) &&
		    state_read(env, name, &st, &ignored) == 0) {
			refresh(env, name, &st, &ignored);
			state_clear(&st);
		}
		vmctl_error_free(ignored);
	}
	if (fill_info(env, name, out, err) < 0) {
		if (lock >= 0)
			close(lock);
		return -1;
	}
	/* Creating, yet nobody holds its lock: that create is dead. */
	if (lock >= 0 && out->state == VM_CREATING)
		out->state = VM_INCOMPLETE;
	if (lock >= 0)
		close(lock);
	return 0;
}

/* ---- start / stop / kill / destroy ------------------------------------- */

/* Open the VM and take its lock; the caller closes *lock. */
static int open_vm(const struct vmctl_env *env, const char *name, int *lock,
		   struct vm_state *st, struct vmctl_error **err)
{
	if (require_vm(env, name, err) < 0)
		return -1;
	*lock = state_lock_vm(env, name, true, err);
	if (*lock < 0)
		return -1;
	if (create_unfinished(env, name)) {
		close(*lock);
		*lock = -1;
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "VM %s was never fully created (its "
				       "create was interrupted): destroy it "
				       "or create it again", name);
	}
	if (state_read(env, name, st, err) < 0 ||
	    refresh(env, name, st, err) < 0) {
		close(*lock);
		*lock = -1;
		return -1;
	}
	return 0;
}

int vm_start(const struct vmctl_env *env, const char *name,
	     struct vm_info *out, struct vmctl_error **err)
{
	struct vmctl_spec *spec = NULL;
	struct vm_state st;
	int lock, ret = -1;

	if (open_vm(env, name, &lock, &st, err) < 0)
		return -1;
	if (st.qemu.pid > 0) {
		ret = 1;   /* already running */
	} else if (imagecache_check_base(env, name, &st, err) == 0 &&
		   load_spec(env, name, &spec, err) == 0) {
		cleanup_free char *overlay = state_vm_file(env, name,
							   VMDIR_DISK);

		if (spec->disk.image != NULL && !file_exists(overlay))
			vmctl_error_set(err, VMCTL_EXIT_FAILURE, ENOENT,
					"VM %s: its disk %s is missing", name,
					overlay);
		else
			ret = launch(env, name, spec, &st, err);
	}
	if (ret >= 0 && fill_info(env, name, out, err) < 0)
		ret = -1;
	spec_free(spec);
	state_clear(&st);
	close(lock);
	return ret;
}

/* Stop a running QEMU: powerdown, then quit, then SIGKILL. */
static int stop_locked(const struct vmctl_env *env, const char *name,
		       struct vm_state *st, int timeout_s,
		       enum vm_stop_step *how, struct vmctl_error **err)
{
	cleanup_free char *sock = state_vm_file(env, name, VMDIR_QMP);
	struct qmp *q = NULL;
	struct vmctl_error *qerr = NULL;

	*how = VM_STOP_NOT_RUNNING;
	if (st->qemu.pid == 0)
		return 0;
	if (qmp_open(sock, 5000, &q, &qerr) == 0) {
		if (timeout_s > 0 &&
		    qmp_execute(q, "system_powerdown", NULL, NULL, &qerr) == 0 &&
		    wait_gone(env, &st->qemu, (long long)timeout_s * 1000)) {
			*how = VM_STOP_POWERDOWN;
		} else {
			vmctl_error_free(qerr);
			qerr = NULL;
			/* quit's reply may race QEMU's exit; the wait says. */
			qmp_execute(q, "quit", NULL, NULL, &qerr);
			if (wait_gone(env, &st->qemu, QUIT_TIMEOUT_MS))
				*how = VM_STOP_QUIT;
		}
	} else if (proc_signal(env, &st->qemu, SIGTERM) == 0 &&
		   wait_gone(env, &st->qemu, QUIT_TIMEOUT_MS)) {
		/* No QMP: SIGTERM is QEMU's other orderly "quit". */
		*how = VM_STOP_QUIT;
	}
	vmctl_error_free(qerr);
	qmp_close(q);
	if (*how == VM_STOP_NOT_RUNNING) {
		if (proc_alive(env, &st->qemu))
			proc_signal(env, &st->qemu, SIGKILL);
		if (!wait_gone(env, &st->qemu, KILL_TIMEOUT_MS))
			return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					       "QEMU (pid %d) survived SIGKILL",
					       (int)st->qemu.pid);
		*how = VM_STOP_KILL;
	}
	return record_stop(env, name, st, vm_stop_step_name(*how), err);
}

int vm_stop(const struct vmctl_env *env, const char *name, int timeout_s,
	    enum vm_stop_step *how, struct vmctl_error **err)
{
	struct vm_state st;
	int lock, ret;

	if (open_vm(env, name, &lock, &st, err) < 0)
		return -1;
	ret = stop_locked(env, name, &st, timeout_s, how, err);
	state_clear(&st);
	close(lock);
	return ret;
}

int vm_kill(const struct vmctl_env *env, const char *name,
	    enum vm_stop_step *how, struct vmctl_error **err)
{
	struct vm_state st;
	int lock, ret = 0;

	if (open_vm(env, name, &lock, &st, err) < 0)
		return -1;
	*how = VM_STOP_NOT_RUNNING;
	if (st.qemu.pid > 0) {
		proc_signal(env, &st.qemu, SIGKILL);
		if (!wait_gone(env, &st.qemu, KILL_TIMEOUT_MS)) {
			ret = vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					      "QEMU (pid %d) survived SIGKILL",
					      (int)st.qemu.pid);
		} else {
			*how = VM_STOP_KILL;
			ret = record_stop(env, name, &st, "kill", err);
		}
	}
	state_clear(&st);
	close(lock);
	return ret;
}

int vm_destroy(const struct vmctl_env *env, const char *name, bool force,
	       int timeout_s, struct vmctl_error **err)
{
	cleanup_free char *marker = NULL;
	struct vm_state st = { 0 };
	enum vm_stop_step how;
	int lock, ret = 0;

	if (require_vm(env, name, err) < 0)
		return -1;
	marker = state_vm_file(env, name, VMDIR_CREATING);
	lock = state_lock_vm(env, name, !file_exists(marker), err);
	if (lock < 0)
		return vmctl_error_wrap(err, "VM %s", name);
	if (state_read(env, name, &st, err) == 0) {
		if (file_exists(marker) && st.qemu.pid > 0 &&
		    proc_alive(env, &st.qemu))
			proc_signal(env, &st.qemu, SIGKILL);
		ret = refresh(env, name, &st, err);
		if (ret == 0)
			ret = stop_locked(env, name, &st, force ? 0 : timeout_s,
					  &how, err);
	} else {
		/* No state yet (an interrupted create): nothing runs. */
		vmctl_error_free(*err);
		*err = NULL;
	}
	if (ret == 0) {
		clear_runtime(env, name, &st);
		ret = remove_vm_dir(env, name, err);
	}
	state_clear(&st);
	close(lock);
	if (ret == 0)
		state_sweep(env);
	return ret;
}

char *vm_serial_tail(const struct vmctl_env *env, const char *name,
		     int lines)
{
	cleanup_free char *path = state_vm_file(env, name, VMDIR_SERIAL_LOG);
	cleanup_free char *raw = NULL, *text = NULL;
	struct vmctl_error *ignored = NULL;
	size_t len;
	const char *p;
	int seen = 0;

	if (fs_read_file(path, 64u << 20, &raw, &len, VMCTL_EXIT_FAILURE,
			 &ignored) < 0) {
		vmctl_error_free(ignored);
		return xstrdup("");
	}
	/* The guest wrote these bytes: no escape sequence of theirs reaches
	 * a terminal (or the JSON), and CR LF becomes plain lines. */
	text = termsafe_string(raw, len);
	len = strlen(text);
	while (len > 0 && text[len - 1] == '\n')
		text[--len] = '\0';
	for (p = text + len; p > text; p--)
		if (p[-1] == '\n' && ++seen == lines)
			break;
	return xstrdup(p);
}

int vm_ssh_target(const struct vmctl_env *env, const struct vm_info *vm,
		  char **vm_dir, struct ssh_target *t,
		  struct vmctl_error **err)
{
	if (vm->state != VM_RUNNING)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "VM %s is %s", vm->name,
				       vm_run_state_name(vm->state));
	if (vm->spec == NULL || !vm->spec->cloud_init.enabled)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "VM %s has no cloud-init, so vmctl "
				       "holds no key for it", vm->name);
	*vm_dir = state_vm_dir(env, vm->name);
	*t = (struct ssh_target){
		.vm = vm->name,
		.vm_dir = *vm_dir,
		.user = vm->spec->cloud_init.user,
		/* A forward on all addresses is reached on loopback here. */
		.host = strcmp(vm->spec->network.ssh_listen, "0.0.0.0") == 0
			? "127.0.0.1" : vm->spec->network.ssh_listen,
		.port = vm->st.ssh_port,
	};
	return 0;
}

struct alive_check {
	const struct vmctl_env *env;
	struct proc_id id;
};

static bool still_alive(void *data)
{
	struct alive_check *a = data;

	return proc_alive(a->env, &a->id);
}

int vm_wait_ssh(const struct vmctl_env *env, const char *name,
		int timeout_s, bool progress, double *elapsed,
		struct vmctl_error **err)
{
	struct vm_info vm = { 0 };
	struct ssh_target t;
	struct alive_check alive = { .env = env };
	cleanup_free char *dir = NULL;
	int ret;

	if (vm_inspect(env, name, &vm, err) < 0)
		return -1;
	ret = vm_ssh_target(env, &vm, &dir, &t, err);
	if (ret == 0) {
		alive.id = vm.st.qemu;
		ret = ssh_wait(&t, timeout_s, progress, still_alive, &alive,
			       elapsed, err);
	}
	if (ret < 0 && err != NULL && *err != NULL &&
	    (*err)->errnum != 0 && vm.name != NULL) {
		cleanup_free char *tail = vm_serial_tail(env, name, 15);

		vmctl_error_wrap(err, "%s", "waiting for SSH");
		if (*tail) {
			char *msg = xasprintf("%s\nlast lines of the serial "
					      "log:\n%s", (*err)->message,
					      tail);

			free((*err)->message);
			(*err)->message = msg;
		}
	}
	vm_info_clear(&vm);
	return ret;
}
