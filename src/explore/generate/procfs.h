#pragma once
// What /proc says about a container's processes: the signals the main
// process catches, the TCP sockets listening in its network namespace, a
// thread's scheduling state. Parsers take the file's text, so they are tested
// on fixed input; the readers take a pid.

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "sys/net.h"
#include "util/result.h"

namespace sandmine::explore::generate {

/// The signals a process catches: the set bits of SigCgt in a
/// /proc/PID/status text (bit n-1 is signal n), in increasing order.
std::vector<int> caught_signals(std::string_view status);

/// A TCP socket in the LISTEN state.
struct Listener {
  int port = 0;
  /// How to reach it from the namespace's loopback, in order of preference:
  /// an IPv4 socket on 0.0.0.0 or 127.x by 127.0.0.1; an IPv6 one on :: by
  /// 127.0.0.1 (dual stack) and then ::1; one on ::1 by ::1 alone.
  std::vector<sys::Loopback> reach;
  auto operator<=>(const Listener&) const = default;
};

/// The listening sockets of a /proc/PID/net/tcp (v6 false) or tcp6 (v6 true)
/// text that the loopback can reach, one per port. Sockets bound to another
/// address are left out (a container run with only its loopback has none).
std::vector<Listener> listening_sockets(std::string_view text, bool v6);

/// tcp and tcp6 together, one Listener per port (its reach merged), by port.
std::vector<Listener> merge_listeners(std::vector<Listener> v4, const std::vector<Listener>& v6);

/// The listening sockets in pid's network namespace (/proc/PID/net/tcp and tcp6).
Result<std::vector<Listener>> read_listeners(pid_t pid);

/// The signals pid catches (/proc/PID/status).
Result<std::vector<int>> read_caught_signals(pid_t pid);

/// The process's PID in its own (innermost) PID namespace: the last field of
/// the NSpid line of a /proc/PID/status text; 0 when there is none.
pid_t pid_in_own_namespace(std::string_view status);
/// The same from /proc/PID/status.
Result<pid_t> read_pid_in_own_namespace(pid_t pid);

/// The state letter of a /proc/PID/stat text (R, S, D, Z, T, t, X, I, ...);
/// '?' when it cannot be parsed.
char stat_state(std::string_view stat);

}  // namespace sandmine::explore::generate
