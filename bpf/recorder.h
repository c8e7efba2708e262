/* Types shared by the BPF recorder and user space. Fixed-width only. */
#ifndef SANDMINE_BPF_RECORDER_H
#define SANDMINE_BPF_RECORDER_H

#ifndef __bpf__
#include <linux/types.h>
#endif

/* Syscall numbers below this are counted in the per-target array; anything else
 * (a bogus number, syscall(-1), ...) goes to the rare-path hash map. */
#define SM_NR_MAX 512

/* Targets one recorder can watch at once. */
#define SM_MAX_TARGETS 16

/* ABI through which a syscall entered the kernel. User space maps these to
 * libseccomp architectures for the host (x86_64: x86_64, x86, x32). */
enum sm_abi {
	SM_ABI_NATIVE = 0,
	SM_ABI_COMPAT = 1, /* int $0x80 on x86_64 */
	SM_ABI_X32 = 2,    /* x86_64 numbers with __X32_SYSCALL_BIT */
	SM_ABI_COUNT = 3,
};

/* Slots in the counter array per target: [armed][abi][nr]. */
#define SM_SLOT_ENTRIES (2 * SM_ABI_COUNT * SM_NR_MAX)

/* One per (target, armed, abi, nr), per CPU. Only the owning CPU writes it,
 * with preemption disabled, so plain increments are exact. */
struct sm_counter {
	__u64 count;
	__u64 first_ns; /* bpf_ktime_get_ns() of the first call on this CPU, 0 if none */
};

/* Key of the rare-path map for numbers outside [0, SM_NR_MAX). */
struct sm_odd_key {
	__u32 slot;
	__u16 armed;
	__u16 abi;
	__s64 nr;
};

struct sm_odd_value {
	__u64 count;
	__u64 first_ns;
};

/* What a watched target's profile allows: one bit per (abi, nr), per slot. */
#define SM_NR_WORDS (SM_NR_MAX / 64)
#define SM_ALLOWED_WORDS (SM_MAX_TARGETS * SM_ABI_COUNT * SM_NR_WORDS)

static inline __u32 sm_allowed_word(__u32 slot, __u32 abi, __u32 nr)
{
	return (slot * SM_ABI_COUNT + abi) * SM_NR_WORDS + nr / 64;
}

#define SM_COMM_LEN 16

/* A violation, seen at sys_exit: a call outside the watched profile. */
struct sm_violation_key {
	__u32 slot;
	__u16 abi;
	__u16 pad;
	__s64 nr;
	char comm[SM_COMM_LEN];
};

struct sm_violation_value {
	__u64 count;  /* calls that returned */
	__u64 denied; /* of those, returned an error (-4095..-1) */
};

/* Syscalls a watched profile decides by their arguments (sys_exit). Per
 * (slot, abi, nr) in arg_watch (.bss): 0, or 1 + the index of the syscall's
 * six argument masks in arg_watch_masks. Every returning call of such a
 * syscall is kept with its arguments under those masks, allowed or not:
 * user space judges them with the profile (profile/judge.h). */
#define SM_ARG_WATCH_MAX 64
#define SM_CALL_ARGS 6
#define SM_ARG_WATCH_ENTRIES (SM_MAX_TARGETS * SM_ABI_COUNT * SM_NR_MAX)
/* Eight masks per watched syscall (six used), so that the table's size is a
 * power of two and an index masked with SM_ARG_MASK_ENTRIES - 1 is in range
 * whatever bounds the verifier kept. */
#define SM_ARG_MASK_STRIDE 8
#define SM_ARG_MASK_ENTRIES (SM_MAX_TARGETS * SM_ARG_WATCH_MAX * SM_ARG_MASK_STRIDE)

static inline __u32 sm_arg_watch_index(__u32 slot, __u32 abi, __u32 nr)
{
	return (slot * SM_ABI_COUNT + abi) * SM_NR_MAX + nr;
}

static inline __u32 sm_arg_mask_index(__u32 slot, __u32 watch, __u32 arg)
{
	return (slot * SM_ARG_WATCH_MAX + watch) * SM_ARG_MASK_STRIDE + arg;
}

/* Key of the call map: one per (slot, abi, nr, comm, masked arguments). */
struct sm_call_key {
	__u32 slot;
	__u16 abi;
	__u16 nr;
	char comm[SM_COMM_LEN];
	__u64 arg[SM_CALL_ARGS];
};

/* Per CPU: calls that returned, and of those, how many with an error. */
struct sm_call_value {
	__u64 count;
	__u64 denied;
};

/* A process that made a violation (tgid, as audit records give pid=). */
struct sm_offender_key {
	__u32 slot;
	__u32 tgid;
};

/* Indexes of the error counters user space checks after recording. */
enum sm_error {
	SM_ERR_COUNTER_LOOKUP = 0, /* array lookup failed: slot outside the array */
	SM_ERR_ODD_FULL = 1,       /* rare-path map full: a syscall was not counted */
	SM_ERR_VIOLATIONS_FULL = 2, /* violation map full: a violation was not named */
	SM_ERR_OFFENDERS_FULL = 3,  /* offender map full: a process was not noted */
	SM_ERR_CALLS_FULL = 4,      /* call map full: a call decided by its arguments was not kept */
	SM_ERR_COUNT = 5,
};

static inline __u32 sm_counter_index(__u32 slot, __u32 armed, __u32 abi, __u32 nr)
{
	return ((slot * 2 + armed) * SM_ABI_COUNT + abi) * SM_NR_MAX + nr;
}

/* --- Argument values (data/argument_rules.csv; docs/recording.md) ---------- */

/* Mined arguments per call at most (syscalls::kMaxMinedArguments). */
#define SM_ARGS_MAX 3

/* Where an argument's value comes from: its register, or the 64-bit word at
 * offset bytes into the struct the register points to (clone3's flags). */
#define SM_ARG_REGISTER 0xffff

/* How to record one native syscall's arguments. User space fills the table
 * from data/argument_rules.csv before load. */
struct sm_arg_spec {
	__u8 count;                  /* mined arguments; 0: none */
	__u8 index[SM_ARGS_MAX];     /* argument position, 0..5 */
	__u16 offset[SM_ARGS_MAX];   /* SM_ARG_REGISTER, or a byte offset into user memory */
	__u16 pad;
	__u64 mask[SM_ARGS_MAX];     /* the value is recorded under this mask */
};

/* Key of the value map: one per (target, armed, abi, nr, values). Unused
 * values are 0. The map's value is a per-CPU call count. */
struct sm_args_key {
	__u32 slot;
	__u8 armed;
	__u8 abi;
	__u16 nr;
	__u64 value[SM_ARGS_MAX];
};

/* Why a syscall's values are incomplete: one byte per (slot, armed, reason,
 * nr) in args_lost (.bss), set to 1 with a plain store (no read-modify-write
 * that two CPUs could race on). User space turns it into a name-only rule. */
enum sm_args_lost {
	SM_LOST_FULL = 0,       /* the value map was full */
	SM_LOST_UNREADABLE = 1, /* user memory could not be read */
	SM_LOST_NOT_STORED = 2, /* the map refused the value for another reason */
	SM_LOST_REASONS = 3,
};

#define SM_LOST_ENTRIES (SM_MAX_TARGETS * 2 * SM_LOST_REASONS * SM_NR_MAX)

static inline __u32 sm_lost_index(__u32 slot, __u32 armed, __u32 reason, __u32 nr)
{
	return ((slot * 2 + armed) * SM_LOST_REASONS + reason) * SM_NR_MAX + nr;
}

#endif

/* ---- Executables run by watched targets (sandmine reach) ----
 * sched_process_exec counts each file a target's processes execute, by the
 * path the kernel ran (for a #! script: its interpreter), as the process
 * named it (inside the container's root). */
#define SM_PATH_LEN 256

struct sm_exec_key {
	__u32 slot;
	char path[SM_PATH_LEN]; /* NUL-terminated, zero-filled; cut at SM_PATH_LEN - 1 */
};

struct sm_exec_value {
	__u64 count;
	__u64 first_ns; /* bpf_ktime_get_ns() of the first exec */
};

/* Index in the exec_errors array: an exec the map had no room for. */
#define SM_EXEC_ERR_FULL 0

/* ---- Split targets (sandmine record) ----
 * Each cgroup one level below a split target (a container its engine made
 * there) gets a slot of its own on its first syscall. */
#define SM_CHILD_NAME 128

/* Who holds a slot in slot_claims: user space, or a child's cgroup id. */
#define SM_CLAIM_USER 1

struct sm_child {
	__u32 slot;
	__u32 parent;   /* the split target's slot */
	__u64 first_ns; /* bpf_ktime_get_ns() of the child's first syscall */
	char name[SM_CHILD_NAME]; /* the cgroup's directory name, NUL-terminated */
};

/* ---- Files opened ---- */
struct sm_open_key {
	__u32 slot;
	char path[SM_PATH_LEN]; /* as the process named it; NUL-terminated, zero-filled */
};

struct sm_open_value {
	__u64 reads;    /* opened O_RDONLY */
	__u64 writes;   /* opened O_WRONLY or O_RDWR */
	__u64 first_ns; /* bpf_ktime_get_ns() of the first open */
};
