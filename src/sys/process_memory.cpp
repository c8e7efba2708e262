#include "sys/process_memory.h"

#include <sys/uio.h>

#include <string>

namespace sandmine::sys {

Result<std::uint64_t> read_process_u64(pid_t pid, std::uint64_t address) {
  std::uint64_t word = 0;
  iovec local{&word, sizeof word};
  iovec remote{reinterpret_cast<void*>(static_cast<std::uintptr_t>(address)), sizeof word};
  ssize_t n = ::process_vm_readv(pid, &local, 1, &remote, 1, 0);
  if (n < 0)
    return errno_error("cannot read 8 bytes at " + std::to_string(address) + " in process " +
                       std::to_string(pid));
  if (n != static_cast<ssize_t>(sizeof word))
    return Error{"read only " + std::to_string(n) + " of 8 bytes at " + std::to_string(address) +
                     " in process " + std::to_string(pid),
                 EFAULT};
  return word;
}

}  // namespace sandmine::sys
