#pragma once
// Reading another process's memory (process_vm_readv): the ptrace recorder
// reads syscall arguments that live in user memory, such as clone3's flags.

#include <sys/types.h>

#include <cstdint>

#include "util/result.h"

namespace sandmine::sys {

/// The 64-bit word at address in process pid (native byte order). Fails when
/// the address is not mapped readable there, or the caller may not ptrace pid.
Result<std::uint64_t> read_process_u64(pid_t pid, std::uint64_t address);

}  // namespace sandmine::sys
