// SPDX-License-Identifier: GPL-2.0
/* sandmine recorder: counts the system calls of watched cgroup v2 subtrees.
 *
 * Targets are cgroups one level below a root cgroup that sandmine owns. The
 * program runs on every syscall of the host, so it first rejects anything
 * outside the root with a few loads and one compare. For a target it
 * counts (armed, abi, nr) in a per-CPU array: armed means the calling thread
 * already has a seccomp filter, i.e. the syscall is one the mined filter
 * will see. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "recorder.h"

#define SECCOMP_MODE_FILTER 2
#define TS_COMPAT 0x0002            /* arch/x86/include/asm/thread_info.h */
#define X32_SYSCALL_BIT 0x40000000

const volatile __u64 root_cgroup_id = 0;
const volatile __u32 root_level = 0;

/* Watched targets: cgroup ids one level below the root; the index is the
 * slot. Written by user space through the mmapped .bss (0 = free). Scanning
 * a few words is cheaper than a hash lookup, which is a call. */
__u64 target_ids[SM_MAX_TARGETS] = {};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SM_SLOT_ENTRIES);
	__type(key, __u32);
	__type(value, struct sm_counter);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct sm_odd_key);
	__type(value, struct sm_odd_value);
} odd SEC(".maps");

/* Watched targets (sys_exit): which slots have a profile, and what it allows.
 * Written by user space through the mmapped .bss, bits before the flag. */
__u8 watched[SM_MAX_TARGETS] = {};
__u64 allowed[SM_ALLOWED_WORDS] = {};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct sm_violation_key);
	__type(value, struct sm_violation_value);
} violations SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct sm_offender_key);
	__type(value, __u8);
} offenders SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SM_ERR_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} errors SEC(".maps");

static __always_inline void note_error(__u32 which)
{
	__u64 *v = bpf_map_lookup_elem(&errors, &which);

	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline void count_odd(__u32 slot, __u32 armed, __u32 abi, long nr)
{
	struct sm_odd_key key = { .slot = slot, .armed = armed, .abi = abi, .nr = nr };
	struct sm_odd_value *v = bpf_map_lookup_elem(&odd, &key);

	if (!v) {
		struct sm_odd_value init = { .count = 0, .first_ns = bpf_ktime_get_ns() };

		/* Fails with EEXIST when another CPU inserted it first: then just add;
		 * with E2BIG when full: then the lookup fails and we say so. */
		bpf_map_update_elem(&odd, &key, &init, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&odd, &key);
		if (!v) {
			note_error(SM_ERR_ODD_FULL);
			return;
		}
	}
	__sync_fetch_and_add(&v->count, 1);
}

/* A no-op the verifier rewrites to a register move: it lets us read memory
 * that BTF cannot describe (ancestors[] is a zero-length array). */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

/* The kernel address of cgrp's cgroup v2 ancestor at level; the caller has
 * checked that cgrp is that deep. Plain loads, no helper: on this path (every
 * syscall of the host) a helper call costs as much as the rest of the program. */
static __always_inline __u64 ancestor_addr(struct cgroup *cgrp, __u32 level)
{
	void *raw = bpf_rdonly_cast(cgrp, 0);
	return *(__u64 *)(raw + bpf_core_field_offset(struct cgroup, ancestors) + level * sizeof(__u64));
}

static __always_inline __u64 cgroup_id_at(__u64 addr)
{
	struct cgroup *cgrp = bpf_rdonly_cast((void *)addr, bpf_core_type_id_kernel(struct cgroup));
	return cgrp->kn->id;
}

/* The root cgroup's kernel address, learned from the first task seen inside
 * it: comparing addresses is two loads cheaper than comparing ids. The root
 * outlives the program (user space removes it after detaching), so the
 * address cannot be reused while it is compared. */
__u64 root_addr = 0;

/* Split targets (sandmine record; the section at the end of this file). */
__u8 split_targets[SM_MAX_TARGETS] = {};
static __noinline __u32 child_slot(struct cgroup *cgrp, __u32 parent);

/* The slot of the target cgrp belongs to (the caller checked that cgrp is
 * below the root, so it has an ancestor one level below it), or
 * SM_MAX_TARGETS for a child of the root nobody watches. */
static __always_inline __u32 target_slot(struct cgroup *cgrp)
{
	__u64 target_id = cgroup_id_at(ancestor_addr(cgrp, root_level + 1));
	__u32 slot;
	for (slot = 0; slot < SM_MAX_TARGETS; slot++)
		if (target_ids[slot] == target_id && target_id)
			break;
	if (slot < SM_MAX_TARGETS && split_targets[slot]) {
		__u32 child = child_slot(cgrp, slot);

		/* Bounded in the register itself: the verifier loses a check
		 * made on a copy (the barrier keeps the mask from being dropped). */
		if (child >= SM_MAX_TARGETS)
			return SM_MAX_TARGETS;
		barrier_var(child);
		return child & (SM_MAX_TARGETS - 1);
	}
	return slot;
}

/* The ABI a syscall entered through. The tracepoints give the number as the
 * entry path saw it: i386 numbers for int $0x80 (flagged by TS_COMPAT), x32
 * numbers with the x32 bit set, which this clears. */
static __always_inline __u32 abi_of(struct task_struct *task, long *id)
{
#if defined(__TARGET_ARCH_x86)
	if (task->thread_info.status & TS_COMPAT)
		return SM_ABI_COMPAT;
	if (*id >= 0 && (*id & X32_SYSCALL_BIT)) {
		*id &= ~(long)X32_SYSCALL_BIT;
		return SM_ABI_X32;
	}
#endif
	return SM_ABI_NATIVE;
}

/* Whether a task in cgrp is inside sandmine's root. Targets are below the
 * root, so a task at the root's level or above is out. */
static __always_inline int inside_root(struct cgroup *cgrp)
{
	if (cgrp->level <= (int)root_level)
		return 0;
	__u64 addr = ancestor_addr(cgrp, root_level);
	if (addr != root_addr) {
		if (root_addr || cgroup_id_at(addr) != root_cgroup_id)
			return 0;
		root_addr = addr;
	}
	return 1;
}

/* --- Argument values (data/argument_rules.csv; docs/recording.md) ----------
 * For the native syscalls the table lists, the distinct combinations of their
 * mined argument values, exactly, per (target, armed), with a call count. */

#define SM_E2BIG 7
#define SM_ENOMEM 12

/* A bit per native nr with mined arguments, and how to record them: written by
 * user space before load, so a call without mined arguments costs one load. */
const volatile __u64 arg_nrs[SM_NR_WORDS] = {};
const volatile struct sm_arg_spec arg_specs[SM_NR_MAX] = {};

/* Per-CPU counts, so that hot values (futex, mmap) are plain increments on
 * every CPU rather than one contended atomic. Sized by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct sm_args_key);
	__type(value, __u64);
} arg_values SEC(".maps");

__u8 args_lost[SM_LOST_ENTRIES] = {};

static __always_inline void args_mark_lost(__u32 slot, __u32 armed, __u32 reason, __u32 nr)
{
	__u32 i = sm_lost_index(slot, armed, reason, nr);

	if (i < SM_LOST_ENTRIES)
		args_lost[i] = 1;
}

/* Syscall argument i at sys_enter: the user registers, read with plain loads
 * (bpf_rdonly_cast, as for the cgroup ancestors). */
static __always_inline __u64 syscall_arg(struct pt_regs *regs, __u32 i)
{
	struct pt_regs *r = bpf_rdonly_cast(regs, bpf_core_type_id_kernel(struct pt_regs));

#if defined(__TARGET_ARCH_x86)
	switch (i) {
	case 0: return r->di;
	case 1: return r->si;
	case 2: return r->dx;
	case 3: return r->r10;
	case 4: return r->r8;
	default: return r->r9;
	}
#elif defined(__TARGET_ARCH_arm64)
	switch (i) {
	case 0: return r->regs[0];
	case 1: return r->regs[1];
	case 2: return r->regs[2];
	case 3: return r->regs[3];
	case 4: return r->regs[4];
	default: return r->regs[5];
	}
#else
#error "sys_enter: where does this architecture keep the syscall arguments?"
#endif
}

/* Records the mined argument values of one native call of nr. A value in
 * user memory (clone3's flags) is read here, at entry, before the kernel
 * copies it. Anything that keeps a value from being kept marks the syscall
 * lost, for a name-only rule: never a silently smaller set. */
static __noinline int record_args(__u32 slot, __u32 armed, __u32 nr, struct pt_regs *regs)
{
	/* The slot's bound again: a split target's child slot comes from a map,
	 * and the verifier does not carry the caller's check this far (the
	 * barrier keeps the compiler from dropping the mask as redundant). */
	if (nr >= SM_NR_MAX || slot >= SM_MAX_TARGETS)
		return 0;
	barrier_var(slot);
	slot &= SM_MAX_TARGETS - 1;
	struct sm_args_key key = { .slot = slot, .armed = armed, .abi = SM_ABI_NATIVE, .nr = nr };
	__u32 count = arg_specs[nr].count;

	for (__u32 i = 0; i < SM_ARGS_MAX; i++) {
		if (i >= count)
			break;
		__u64 v = syscall_arg(regs, arg_specs[nr].index[i]);
		__u16 offset = arg_specs[nr].offset[i];

		if (offset != SM_ARG_REGISTER) {
			__u64 word = 0;

			if (bpf_probe_read_user(&word, sizeof(word), (const void *)(v + offset)) != 0) {
				args_mark_lost(slot, armed, SM_LOST_UNREADABLE, nr);
				return 0;
			}
			v = word;
		}
		key.value[i] = v & arg_specs[nr].mask[i];
	}

	__u64 *n = bpf_map_lookup_elem(&arg_values, &key);
	if (!n) {
		__u64 zero = 0;
		/* EEXIST: another CPU inserted it first; then the lookup finds it. */
		long err = bpf_map_update_elem(&arg_values, &key, &zero, BPF_NOEXIST);

		if (err == -SM_E2BIG || err == -SM_ENOMEM) {
			args_mark_lost(slot, armed, SM_LOST_FULL, nr);
			return 0;
		}
		n = bpf_map_lookup_elem(&arg_values, &key);
		if (!n) {
			args_mark_lost(slot, armed, SM_LOST_NOT_STORED, nr);
			return 0;
		}
	}
	*n += 1;
	return 0;
}

/* Counts one syscall of a task inside the root. A separate function so that
 * the main program, which every syscall of the host runs, stays small: the
 * JIT saves the registers a program uses on every run, early exits included. */
static __noinline int count_syscall(struct task_struct *task, struct cgroup *cgrp, struct pt_regs *regs, long id)
{
	__u32 slot = target_slot(cgrp);
	if (slot >= SM_MAX_TARGETS)
		return 0;

	/* Armed = this thread already runs under a seccomp filter. */
	__u32 armed = task->seccomp.mode == SECCOMP_MODE_FILTER;
	__u32 abi = abi_of(task, &id);

	if (id < 0 || id >= SM_NR_MAX) {
		count_odd(slot, armed, abi, id);
		return 0;
	}

	__u32 index = sm_counter_index(slot, armed, abi, (__u32)id);
	struct sm_counter *c = bpf_map_lookup_elem(&counters, &index);
	if (!c) {
		note_error(SM_ERR_COUNTER_LOOKUP);
		return 0;
	}
	if (!c->first_ns)
		c->first_ns = bpf_ktime_get_ns();
	c->count++;
	if (abi == SM_ABI_NATIVE && ((arg_nrs[(__u32)id / 64] >> (id & 63)) & 1))
		record_args(slot, armed, (__u32)id, regs);
	return 0;
}

SEC("raw_tp/sys_enter")
int BPF_PROG(sys_enter, struct pt_regs *regs, long id)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct cgroup *cgrp = task->cgroups->dfl_cgrp;

	/* Everything outside sandmine's root cgroup leaves here. */
	if (!inside_root(cgrp))
		return 0;
	return count_syscall(task, cgrp, regs, id);
}

/* Syscalls a watched profile decides by their arguments (bpf/recorder.h). */
__u8 arg_watch[SM_ARG_WATCH_ENTRIES] = {};
__u64 arg_watch_masks[SM_ARG_MASK_ENTRIES] = {};

/* Per-CPU counts, so that a hot syscall the profile decides by its arguments
 * (futex, mmap) costs plain increments on every CPU, not one contended atomic. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct sm_call_key);
	__type(value, struct sm_call_value);
} calls SEC(".maps");

/* Numbers per ABI of the calls that return twice, in the parent and (with 0)
 * in the new child (clone, clone3, fork, vfork): the child's return is no
 * call. Written by user space before load. */
const volatile __u64 fork_nrs[SM_ABI_COUNT * SM_NR_WORDS] = {};

/* Argument i of the call at sys_exit, through the ABI it entered by: the
 * registers still hold the arguments on the way out (a syscall does not
 * write them back, except execve and sigreturn, which have none to judge). */
static __always_inline __u64 exit_arg(struct pt_regs *regs, __u32 abi, __u32 i)
{
#if defined(__TARGET_ARCH_x86)
	if (abi == SM_ABI_COMPAT) {
		struct pt_regs *r = bpf_rdonly_cast(regs, bpf_core_type_id_kernel(struct pt_regs));

		switch (i) {
		case 0: return (__u32)r->bx;
		case 1: return (__u32)r->cx;
		case 2: return (__u32)r->dx;
		case 3: return (__u32)r->si;
		case 4: return (__u32)r->di;
		default: return (__u32)r->bp;
		}
	}
#endif
	return syscall_arg(regs, i);
}

/* Numbers per ABI of prctl and seccomp, the calls that install a seccomp
 * filter; -1 where the ABI has none. Written by user space before load. */
const volatile long filter_install_nrs[SM_ABI_COUNT][2] = {};

/* Whether the call returning here installed the thread's first filter
 * (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER) or
 * seccomp(SECCOMP_SET_MODE_FILTER), and the thread's filter list has no
 * filter before the new one): the thread entered it unarmed, as sys_enter
 * counted it, so it is no call of the profile's, though the thread has a
 * filter by the time it returns. This is how every runtime arms a container
 * (runc's init, before it execs the container's program). A filter
 * installed over another is an armed call like any other. */
static __always_inline bool installed_first_filter(struct task_struct *task, struct pt_regs *regs, __u32 abi,
						   long id, long ret)
{
	if (ret < 0 || abi >= SM_ABI_COUNT)
		return false;
	if (id == filter_install_nrs[abi][0]) {
		if (exit_arg(regs, abi, 0) != 22 /* PR_SET_SECCOMP */ ||
		    exit_arg(regs, abi, 1) != 2 /* SECCOMP_MODE_FILTER */)
			return false;
	} else if (id == filter_install_nrs[abi][1]) {
		if (exit_arg(regs, abi, 0) != 1 /* SECCOMP_SET_MODE_FILTER */)
			return false;
	} else {
		return false;
	}
	return BPF_CORE_READ(task, seccomp.filter, prev) == NULL;
}

static __always_inline void note_offender(__u32 slot)
{
	struct sm_offender_key who = { .slot = slot, .tgid = bpf_get_current_pid_tgid() >> 32 };

	if (!bpf_map_lookup_elem(&offenders, &who)) {
		__u8 one = 1;

		if (bpf_map_update_elem(&offenders, &who, &one, BPF_ANY) != 0)
			note_error(SM_ERR_OFFENDERS_FULL);
	}
}

/* Keeps one returning call of a syscall the profile decides by its arguments,
 * with those arguments under the watch's masks. abi_nr: abi << 16 | nr. */
static __noinline int note_call(__u32 slot, __u32 abi_nr, __u32 watch, struct pt_regs *regs, long ret)
{
	if (watch >= SM_ARG_WATCH_MAX)
		return 0;
	struct sm_call_key key = {};
	__u32 abi = abi_nr >> 16;

	key.slot = slot;
	key.abi = abi;
	key.nr = abi_nr & 0xffff;
	bpf_get_current_comm(&key.comm, sizeof(key.comm));
	for (__u32 i = 0; i < SM_CALL_ARGS; i++) {
		__u32 m = sm_arg_mask_index(slot, watch, i);

		/* The compiler knows m is in range from the checks above and
		 * drops a check here; the verifier loses those bounds on the
		 * way. A mask it cannot drop keeps the verifier's bound. */
		barrier_var(m);
		m &= SM_ARG_MASK_ENTRIES - 1;
		key.arg[i] = exit_arg(regs, abi, i) & arg_watch_masks[m];
	}
	struct sm_call_value *v = bpf_map_lookup_elem(&calls, &key);
	if (!v) {
		struct sm_call_value zero = {};

		/* EEXIST: another CPU inserted it first; then the lookup finds it. */
		bpf_map_update_elem(&calls, &key, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&calls, &key);
		if (!v) {
			note_error(SM_ERR_CALLS_FULL);
			return 0;
		}
	}
	v->count++;
	if (ret < 0 && ret >= -4095)
		v->denied++;
	note_offender(slot);
	return 0;
}

/* Names one returning call of a watched target that its profile does not
 * allow: seccomp skips sys_enter for a call it denies, but not sys_exit. */
static __noinline int note_violation(struct task_struct *task, struct cgroup *cgrp, struct pt_regs *regs,
				     long ret)
{
	__u32 slot = target_slot(cgrp);
	if (slot >= SM_MAX_TARGETS || !watched[slot])
		return 0;
	if (task->seccomp.mode != SECCOMP_MODE_FILTER)
		return 0;
#if defined(__TARGET_ARCH_x86)
	long id = BPF_CORE_READ(regs, orig_ax);
#elif defined(__TARGET_ARCH_arm64)
	long id = BPF_CORE_READ(regs, syscallno);
#else
#error "sys_exit: where does this architecture keep the syscall number?"
#endif
	/* rt_sigreturn (and i386 sigreturn) set the number to -1 so that the
	 * restored context does not restart a syscall: their exit is no call. */
	if (id < 0)
		return 0;
	__u32 abi = abi_of(task, &id);
	if (id < SM_NR_MAX) {
		__u32 word = sm_allowed_word(slot, abi, (__u32)id);
		if (word < SM_ALLOWED_WORDS && (allowed[word] >> (id & 63)) & 1)
			return 0;
		/* The new child's return from clone or fork: the call was the parent's. */
		__u32 fw = abi * SM_NR_WORDS + (__u32)id / 64;
		if (ret == 0 && fw < SM_ABI_COUNT * SM_NR_WORDS && (fork_nrs[fw] >> (id & 63)) & 1)
			return 0;
		if (installed_first_filter(task, regs, abi, id, ret))
			return 0;
		__u32 w = sm_arg_watch_index(slot, abi, (__u32)id);
		if (w < SM_ARG_WATCH_ENTRIES && arg_watch[w])
			return note_call(slot, abi << 16 | (__u32)id, arg_watch[w] - 1, regs, ret);
	}

	struct sm_violation_key key = { .slot = slot, .abi = abi, .nr = id };
	bpf_get_current_comm(&key.comm, sizeof(key.comm));
	struct sm_violation_value *v = bpf_map_lookup_elem(&violations, &key);
	if (!v) {
		struct sm_violation_value init = {};

		bpf_map_update_elem(&violations, &key, &init, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&violations, &key);
		if (!v) {
			note_error(SM_ERR_VIOLATIONS_FULL);
			return 0;
		}
	}
	__sync_fetch_and_add(&v->count, 1);
	if (ret < 0 && ret >= -4095)
		__sync_fetch_and_add(&v->denied, 1);
	note_offender(slot);
	return 0;
}

SEC("raw_tp/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct cgroup *cgrp = task->cgroups->dfl_cgrp;

	if (!inside_root(cgrp))
		return 0;
	return note_violation(task, cgrp, regs, ret);
}

char LICENSE[] SEC("license") = "GPL";

/* ---- Executables run by watched targets (sandmine reach) ----
 * One entry per (target, path): how often a process of the target executed
 * that file. Rare (once per execve), so a hash map and a helper call cost
 * nothing that matters. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct sm_exec_key);
	__type(value, struct sm_exec_value);
} execs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} exec_errors SEC(".maps");

/* The key is too large for the stack next to the helpers' frames: a per-CPU scratch. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sm_exec_key);
} exec_scratch SEC(".maps");

SEC("tp_btf/sched_process_exec")
int BPF_PROG(sched_process_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct cgroup *cgrp = task->cgroups->dfl_cgrp;

	if (!inside_root(cgrp))
		return 0;
	__u32 slot = target_slot(cgrp);
	if (slot >= SM_MAX_TARGETS)
		return 0;

	__u32 zero = 0;
	struct sm_exec_key *key = bpf_map_lookup_elem(&exec_scratch, &zero);
	if (!key)
		return 0;
	__builtin_memset(key, 0, sizeof(*key));
	key->slot = slot;
	/* interp: the file the kernel finally ran (the interpreter of a script). */
	bpf_probe_read_kernel_str(key->path, sizeof(key->path), BPF_CORE_READ(bprm, interp));

	struct sm_exec_value *v = bpf_map_lookup_elem(&execs, key);
	if (!v) {
		struct sm_exec_value init = { .count = 0, .first_ns = bpf_ktime_get_ns() };

		bpf_map_update_elem(&execs, key, &init, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&execs, key);
		if (!v) {
			__u64 *err = bpf_map_lookup_elem(&exec_errors, &zero);

			if (err)
				__sync_fetch_and_add(err, 1);
			return 0;
		}
	}
	__sync_fetch_and_add(&v->count, 1);
	return 0;
}


/* ---- Split targets (sandmine record) ----
 * A container engine given a split target as its cgroup parent makes one
 * cgroup per container one level below it. Each such child gets a slot of
 * its own, taken here on the first syscall any of its tasks makes (runc
 * init's first call, long before the container is armed): what one
 * container does is never counted in another's slot, and no call of a
 * container is missed while user space would still be looking for it.
 *
 * slot_claims arbitrates: user space claims its targets' slots there too,
 * and an insert with BPF_NOEXIST succeeds for one claimant only. User space
 * releases a child's slot once the child cgroup is gone and the slot's
 * counts are zeroed again, so a slot claimed here is always clean. */
const volatile __u32 slot_count = SM_MAX_TARGETS; /* EbpfOptions::max_targets */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SM_MAX_TARGETS);
	__type(key, __u32);   /* slot */
	__type(value, __u64); /* who: SM_CLAIM_USER, or the child's cgroup id */
} slot_claims SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64); /* the child's cgroup id */
	__type(value, struct sm_child);
} children SEC(".maps");

/* The child value is too large for the stack next to the callers' frames. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sm_child);
} child_scratch SEC(".maps");

/* Children that found no free slot (or no room in the map): their calls
 * were not counted. User space fails the recording when this is not 0. */
__u64 split_lost = 0;

/* Files opened for reading (below): a new child inherits its parent's flag. */
__u8 capture_opens[SM_MAX_TARGETS] = {};

static __noinline __u32 claim_child(__u64 addr, __u64 id, __u32 parent)
{
	__u32 zero = 0;
	struct sm_child *c = bpf_map_lookup_elem(&child_scratch, &zero);
	if (!c)
		return SM_MAX_TARGETS;
	__u32 slot;
	for (slot = 0; slot < SM_MAX_TARGETS && slot < slot_count; slot++)
		if (bpf_map_update_elem(&slot_claims, &slot, &id, BPF_NOEXIST) == 0)
			break;
	if (slot >= SM_MAX_TARGETS || slot >= slot_count) {
		__sync_fetch_and_add(&split_lost, 1);
		return SM_MAX_TARGETS;
	}
	__builtin_memset(c, 0, sizeof(*c));
	c->slot = slot;
	c->parent = parent;
	c->first_ns = bpf_ktime_get_ns();
	struct cgroup *child = bpf_rdonly_cast((void *)addr, bpf_core_type_id_kernel(struct cgroup));
	bpf_probe_read_kernel_str(c->name, sizeof(c->name), child->kn->name);
	if (parent < SM_MAX_TARGETS)
		capture_opens[slot] = capture_opens[parent];
	if (bpf_map_update_elem(&children, &id, c, BPF_NOEXIST) != 0) {
		/* Another CPU named this child first (or the map is full). */
		bpf_map_delete_elem(&slot_claims, &slot);
		struct sm_child *won = bpf_map_lookup_elem(&children, &id);
		if (won)
			return won->slot;
		__sync_fetch_and_add(&split_lost, 1);
		return SM_MAX_TARGETS;
	}
	return slot;
}

/* The slot of cgrp, below the split target in slot parent: the split
 * target's own when cgrp is the target itself, else its child's. */
static __noinline __u32 child_slot(struct cgroup *cgrp, __u32 parent)
{
	if (cgrp->level < (int)root_level + 2)
		return parent;
	__u64 addr = ancestor_addr(cgrp, root_level + 2);
	__u64 id = cgroup_id_at(addr);
	struct sm_child *c = bpf_map_lookup_elem(&children, &id);
	if (c)
		return c->slot < SM_MAX_TARGETS ? c->slot : SM_MAX_TARGETS;
	return claim_child(addr, id, parent);
}

/* ---- Files opened (what a container read at start) ----
 * For slots with capture_opens set: every path a process opened, as it
 * named it, with how often for reading only (O_RDONLY) and otherwise, and
 * when first. On the syscalls tracepoints of the open calls only, so no
 * other call pays for it; user space attaches them on first use. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct sm_open_key);
	__type(value, struct sm_open_value);
} opens SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sm_open_key);
} open_scratch SEC(".maps");

/* Opens the map had no room for. */
__u64 opens_lost = 0;

#define SM_O_ACCMODE 3

static __always_inline int note_open(const char *filename, __u64 flags)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct cgroup *cgrp = task->cgroups->dfl_cgrp;

	if (!inside_root(cgrp))
		return 0;
	__u32 slot = target_slot(cgrp);
	if (slot >= SM_MAX_TARGETS || !capture_opens[slot])
		return 0;

	__u32 zero = 0;
	struct sm_open_key *key = bpf_map_lookup_elem(&open_scratch, &zero);
	if (!key)
		return 0;
	__builtin_memset(key, 0, sizeof(*key));
	key->slot = slot;
	if (bpf_probe_read_user_str(key->path, sizeof(key->path), filename) <= 0)
		return 0;
	struct sm_open_value *v = bpf_map_lookup_elem(&opens, key);
	if (!v) {
		struct sm_open_value init = { .first_ns = bpf_ktime_get_ns() };

		bpf_map_update_elem(&opens, key, &init, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&opens, key);
		if (!v) {
			__sync_fetch_and_add(&opens_lost, 1);
			return 0;
		}
	}
	if ((flags & SM_O_ACCMODE) == 0)
		__sync_fetch_and_add(&v->reads, 1);
	else
		__sync_fetch_and_add(&v->writes, 1);
	return 0;
}

SEC("tp/syscalls/sys_enter_open")
int sys_enter_open(struct trace_event_raw_sys_enter *ctx)
{
	return note_open((const char *)ctx->args[0], ctx->args[1]);
}

SEC("tp/syscalls/sys_enter_openat")
int sys_enter_openat(struct trace_event_raw_sys_enter *ctx)
{
	return note_open((const char *)ctx->args[1], ctx->args[2]);
}

SEC("tp/syscalls/sys_enter_openat2")
int sys_enter_openat2(struct trace_event_raw_sys_enter *ctx)
{
	__u64 flags = 0; /* struct open_how starts with its flags */

	if (bpf_probe_read_user(&flags, sizeof(flags), (const void *)ctx->args[2]) != 0)
		return 0;
	return note_open((const char *)ctx->args[1], flags);
}
