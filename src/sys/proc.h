#pragma once
// What /proc says of a process: its signal masks.

#include <sys/types.h>

#include <cstdint>
#include <string_view>

#include "util/result.h"

namespace sandmine::sys {

/// The signal masks of /proc/PID/status, bit (sig - 1) for signal sig.
struct SignalMasks {
  std::uint64_t pending = 0;         ///< SigPnd: pending for the thread
  std::uint64_t shared_pending = 0;  ///< ShdPnd: pending for the process
  std::uint64_t blocked = 0;         ///< SigBlk
  std::uint64_t ignored = 0;         ///< SigIgn
  std::uint64_t caught = 0;          ///< SigCgt: a handler is installed
  /// Whether sig is pending, for the thread or the process.
  bool is_pending(int sig) const { return ((pending | shared_pending) >> (sig - 1)) & 1; }
  bool catches(int sig) const { return (caught >> (sig - 1)) & 1; }
};

/// Parses the text of /proc/PID/status; an error names the missing field.
Result<SignalMasks> parse_signal_masks(std::string_view status);

/// The signal masks of process pid.
Result<SignalMasks> signal_masks(pid_t pid);

}  // namespace sandmine::sys
