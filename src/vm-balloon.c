// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A running VM's balloon over QMP (include/vmctl/vm-balloon.h).  Each call
 * holds the QMP socket only for its command: QEMU serves one client at a
 * time, and `status` or a stop may want it in between.
 */
#include <time.h>
#include <unistd.h>

#include "vmctl/broker.h"
#include "vmctl/qmp.h"
#include "vmctl/state.h"
#include "vmctl/vm-balloon.h"
#include "vmctl/vm.h"
#include "vmctl/vmdir.h"
#include "vmctl/xalloc.h"

#define QMP_TIMEOUT_MS 5000
#define POLL_NS (200 * 1000 * 1000L)

/* One QMP command on the VM's socket; *reply as qmp_execute() gives it. */
static int balloon_qmp(const struct vmctl_env *env, const char *name,
		       const char *command, cJSON *args, cJSON **reply,
		       struct vmctl_error **err)
{
	cleanup_free char *sock = state_vm_file(env, name, VMDIR_QMP);
	struct qmp *q = NULL;
	int ret;

	if (qmp_open(sock, QMP_TIMEOUT_MS, &q, err) < 0) {
		cJSON_Delete(args);
		return -1;
	}
	ret = qmp_execute(q, command, args, reply, err);
	qmp_close(q);
	return ret;
}

int vm_balloon_query(const struct vmctl_env *env, const char *name,
		     uint64_t *actual, struct vmctl_error **err)
{
	cJSON *reply = NULL, *a;
	int ret = 0;

	if (balloon_qmp(env, name, "query-balloon", NULL, &reply, err) < 0)
		return -1;
	a = cJSON_GetObjectItem(reply, "actual");
	if (cJSON_IsNumber(a) && a->valuedouble >= 0)
		*actual = (uint64_t)a->valuedouble;
	else
		ret = vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "QMP "
				      "query-balloon of VM %s: no \"actual\"",
				      name);
	cJSON_Delete(reply);
	return ret;
}

/* Running, with a balloon, and `target` within what it can reach. */
static int check_target(const struct vm_info *vm, uint64_t target,
			struct vmctl_error **err)
{
	cleanup_free char *want = broker_size_format(target);
	cleanup_free char *mem = NULL, *min = NULL;

	if (vm->state != VM_RUNNING)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "VM %s is %s: its balloon moves only "
				       "while it runs", vm->name,
				       vm_run_state_name(vm->state));
	if (vm->spec == NULL || !vm->spec->balloon)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "VM %s has no balloon device: it was "
				       "created with memory.balloon: false%s "
				       "(a VM gets one from memory: {size: "
				       "..., balloon: true}, the default "
				       "without a GPU)", vm->name,
				       vm->spec != NULL && vm->spec->n_gpus > 0
				       ? ", as every VM with a GPU is" : "");
	mem = broker_size_format(vm->spec->memory);
	min = broker_size_format(VM_BALLOON_MIN);
	if (target > vm->spec->memory)
		return vmctl_error_set(err, VMCTL_EXIT_USAGE, 0,
				       "%s is more than VM %s's memory (%s): "
				       "a balloon only takes RAM back", want,
				       vm->name, mem);
	if (target < VM_BALLOON_MIN)
		return vmctl_error_set(err, VMCTL_EXIT_USAGE, 0,
				       "%s is less than %s, the least vmctl "
				       "leaves a guest", want, min);
	return 0;
}

int vm_balloon_set(const struct vmctl_env *env, const char *name,
		   uint64_t target, uint64_t *memory, uint64_t *before,
		   struct vmctl_error **err)
{
	struct vm_info vm = { 0 };
	struct vm_state st = { 0 };
	cJSON *args;
	int lock = -1, ret = -1;

	if (vm_inspect(env, name, &vm, err) < 0)
		return -1;
	if (check_target(&vm, target, err) < 0)
		goto out;
	/* One command at a time on a VM: a stop under way finishes first,
	 * and then this QEMU must still be the one inspected. */
	lock = state_lock_vm(env, name, true, err);
	if (lock < 0 || state_read(env, name, &st, err) < 0)
		goto out;
	if (st.qemu.pid != vm.st.qemu.pid ||
	    st.qemu.starttime != vm.st.qemu.starttime ||
	    !proc_alive(env, &st.qemu)) {
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "VM %s stopped "
				"while its balloon was being set", name);
		goto out;
	}
	if (vm_balloon_query(env, name, before, err) < 0)
		goto out;
	args = cJSON_CreateObject();
	cJSON_AddNumberToObject(args, "value", (double)target);
	if (balloon_qmp(env, name, "balloon", args, NULL, err) < 0)
		goto out;
	*memory = vm.spec->memory;
	ret = 0;
out:
	if (lock >= 0)
		close(lock);
	state_clear(&st);
	vm_info_clear(&vm);
	return ret;
}

static bool near(uint64_t a, uint64_t b)
{
	return (a > b ? a - b : b - a) <= VM_BALLOON_SLACK;
}

int vm_balloon_wait(const struct vmctl_env *env, const char *name,
		    uint64_t target, uint64_t before, int timeout_s,
		    uint64_t *actual, struct vmctl_error **err)
{
	const struct timespec pause = { 0, POLL_NS };
	struct timespec start, now;
	cleanup_free char *at = NULL, *want = NULL;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (vm_balloon_query(env, name, actual, err) < 0)
			return -1;
		/* The guest moves page by page: wait for the target itself,
		 * and settle for VM_BALLOON_SLACK only at the deadline. */
		if (*actual == target)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= timeout_s) {
			if (near(*actual, target))
				return 0;
			break;
		}
		nanosleep(&pause, NULL);
	}
	at = broker_size_format(*actual);
	want = broker_size_format(target);
	if (*actual == before)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "VM %s's guest did not move its balloon "
				       "in %d s (still %s, asked for %s): does "
				       "it run the virtio_balloon driver?",
				       name, timeout_s, at, want);
	return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
			       "VM %s's balloon is at %s after %d s, not the "
			       "%s asked for (the guest may have no more "
			       "free memory to give, or be slow)", name, at,
			       timeout_s, want);
}
