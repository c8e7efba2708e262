#pragma once
// Other processes seen from the host: their open-file limits and descriptors,
// and signals to them.

#include <sys/types.h>

#include <cstdint>
#include <optional>

#include "util/result.h"

namespace sandmine::sys {

/// A resource limit's soft and hard values (RLIM_INFINITY as ~0).
struct Limit {
  std::uint64_t soft = 0;
  std::uint64_t hard = 0;
};

/// The open-file limit (RLIMIT_NOFILE) of process pid.
Result<Limit> nofile_limit(pid_t pid);

/// Sets the open-file limit of process pid (prlimit(2)); the soft limit may
/// be lowered below the descriptors it has open: its next open fails (EMFILE).
/// Without CAP_SYS_RESOURCE it acts as pid's owner (its uid and gid, on a
/// thread of its own), which the kernel allows as well.
Status set_nofile_limit(pid_t pid, const Limit& limit);

/// The number of descriptors process pid has open (/proc/PID/fd).
Result<std::uint64_t> open_descriptors(pid_t pid);

/// The lowest descriptor number process pid does not have open: the one its
/// next open(2), socket(2) or accept(2) would get, and so the soft open-file
/// limit at which that call fails with EMFILE.
Result<std::uint64_t> lowest_free_descriptor(pid_t pid);

/// Sends sig to process pid (kill(2)).
Status send_signal(pid_t pid, int sig);

/// Waits up to timeout_ms for child pid of this process to end and reaps
/// it; returns whether it ended.
bool reap_child(pid_t pid, int timeout_ms);

/// The wait status of child pid of this process once it has ended (it is
/// reaped then); empty while it runs. Does not block.
Result<std::optional<int>> poll_child(pid_t pid);

}  // namespace sandmine::sys
