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

/* Indexes of the error counters user space checks after recording. */
enum sm_error {
	SM_ERR_COUNTER_LOOKUP = 0, /* array lookup failed: slot outside the array */
	SM_ERR_ODD_FULL = 1,       /* rare-path map full: a syscall was not counted */
	SM_ERR_COUNT = 2,
};

static inline __u32 sm_counter_index(__u32 slot, __u32 armed, __u32 abi, __u32 nr)
{
	return ((slot * 2 + armed) * SM_ABI_COUNT + abi) * SM_NR_MAX + nr;
}

#endif
