#pragma once
// Reaching a container on its own loopback from the host: a socket belongs to
// the network namespace of the thread that creates it.

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "sys/fd.h"
#include "util/result.h"

namespace sandmine::sys {

/// The network namespace of process pid, held open.
Result<UniqueFd> open_netns(pid_t pid);

/// Whether something accepts connections on the Unix socket at path.
bool unix_socket_answers(const std::string& path);

/// Which loopback address to reach.
enum class Loopback { V4, V6 };  ///< 127.0.0.1, ::1

/// A TCP connection to 127.0.0.1:port (or [::1]:port) inside the network
/// namespace netns_fd. The socket is non-blocking.
Result<UniqueFd> connect_in_netns(int netns_fd, int port, std::chrono::milliseconds timeout,
                                  Loopback where = Loopback::V4);

/// Sends all of data on a non-blocking socket before deadline (ETIMEDOUT
/// after it; the peer's reset is ECONNRESET or EPIPE, without SIGPIPE).
Status send_all(int fd, std::string_view data, std::chrono::steady_clock::time_point deadline);

/// What one receive() got.
struct Received {
  std::string data;        ///< what arrived (empty at end of stream or timeout)
  bool eof = false;        ///< the peer closed its side
  bool timed_out = false;  ///< nothing arrived in time
};

/// Waits up to timeout for bytes on a non-blocking socket and returns what is
/// there (at most max bytes). A reset by the peer is an error (ECONNRESET).
Result<Received> receive(int fd, std::size_t max, std::chrono::milliseconds timeout);

/// Closes a connection with a reset (RST) instead of an orderly FIN:
/// SO_LINGER with a zero timeout, then close.
void reset_connection(UniqueFd fd);

/// Ends the sending side (shutdown SHUT_WR): the peer reads end of stream.
Status shutdown_write(int fd);

/// A new network namespace with its loopback up, held by the returned
/// descriptor (it lives as long as the descriptor or a process in it).
Result<UniqueFd> new_netns();

/// Runs fn on a thread that has joined the network namespace netns_fd:
/// sockets fn creates belong to that namespace.
Status in_netns(int netns_fd, const std::function<void()>& fn);

/// The status code of `GET path` over HTTP/1.0 to 127.0.0.1:port in the namespace.
Result<int> http_status_in_netns(int netns_fd, int port, const std::string& path,
                                 std::chrono::milliseconds timeout);

}  // namespace sandmine::sys
