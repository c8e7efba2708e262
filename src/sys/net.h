#pragma once
// Reaching a container on its own loopback from the host: a socket belongs to
// the network namespace of the thread that creates it.

#include <sys/types.h>

#include <chrono>
#include <string>

#include "sys/fd.h"
#include "util/result.h"

namespace sandmine::sys {

/// The network namespace of process pid, held open.
Result<UniqueFd> open_netns(pid_t pid);

/// Whether something accepts connections on the Unix socket at path.
bool unix_socket_answers(const std::string& path);

/// A TCP connection to 127.0.0.1:port inside the network namespace netns_fd.
Result<UniqueFd> connect_in_netns(int netns_fd, int port, std::chrono::milliseconds timeout);

/// The status code of `GET path` over HTTP/1.0 to 127.0.0.1:port in the namespace.
Result<int> http_status_in_netns(int netns_fd, int port, const std::string& path,
                                 std::chrono::milliseconds timeout);

}  // namespace sandmine::sys
