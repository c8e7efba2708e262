// SPDX-License-Identifier: GPL-2.0
/* The floor for the recorder benchmark: a raw_tp/sys_enter program that does nothing. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("raw_tp/sys_enter")
int sys_enter(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
