#include "sys/net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <string>
#include <thread>

namespace sandmine::sys {

Result<UniqueFd> open_netns(pid_t pid) {
  std::string ns = "/proc/" + std::to_string(pid) + "/ns/net";
  UniqueFd fd(::open(ns.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return errno_error("cannot open the network namespace " + ns);
  return fd;
}

bool unix_socket_answers(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof addr.sun_path - 1);
  return fd.valid() && ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

namespace {

// A socket created in the namespace: a thread joins it (setns only changes
// the calling thread), makes the socket, and ends; the socket stays there.
Result<UniqueFd> socket_in_netns(int netns_fd, int family = AF_INET) {
  Result<UniqueFd> result = Error{"not run"};
  std::thread worker([&] {
    if (::setns(netns_fd, CLONE_NEWNET) != 0) {
      result = errno_error("cannot join the container's network namespace");
      return;
    }
    UniqueFd fd(::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd.valid())
      result = errno_error("cannot create a socket");
    else
      result = std::move(fd);
  });
  worker.join();
  return result;
}

}  // namespace

Result<UniqueFd> connect_in_netns(int netns_fd, int port, std::chrono::milliseconds timeout,
                                  Loopback loopback) {
  bool v6 = loopback == Loopback::V6;
  auto fd = socket_in_netns(netns_fd, v6 ? AF_INET6 : AF_INET);
  if (!fd) return fd.error();
  sockaddr_storage storage{};
  socklen_t size = 0;
  if (v6) {
    auto* addr = reinterpret_cast<sockaddr_in6*>(&storage);
    addr->sin6_family = AF_INET6;
    addr->sin6_port = htons(static_cast<uint16_t>(port));
    addr->sin6_addr = in6addr_loopback;
    size = sizeof *addr;
  } else {
    auto* addr = reinterpret_cast<sockaddr_in*>(&storage);
    addr->sin_family = AF_INET;
    addr->sin_port = htons(static_cast<uint16_t>(port));
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    size = sizeof *addr;
  }
  std::string where = (v6 ? "[::1]:" : "127.0.0.1:") + std::to_string(port);
  if (::connect(fd->get(), reinterpret_cast<sockaddr*>(&storage), size) != 0) {
    if (errno != EINPROGRESS) return errno_error("cannot connect to " + where);
    pollfd p{fd->get(), POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1)
      return Error{"connecting to " + where + " timed out", ETIMEDOUT};
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd->get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return errno_error("cannot connect to " + where, err);
  }
  return std::move(*fd);
}

Result<int> http_status_in_netns(int netns_fd, int port, const std::string& path,
                                 std::chrono::milliseconds timeout) {
  auto fd = connect_in_netns(netns_fd, port, timeout);
  if (!fd) return fd.error();
  std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\nUser-Agent: sandmine\r\n\r\n";
  if (::write(fd->get(), request.data(), request.size()) != static_cast<ssize_t>(request.size()))
    return errno_error("cannot send the readiness request");
  std::string reply;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (reply.find("\r\n") == std::string::npos) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd->get(), POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) != 1)
      return Error{"no HTTP reply from 127.0.0.1:" + std::to_string(port), ETIMEDOUT};
    char buf[512];
    ssize_t n = ::read(fd->get(), buf, sizeof buf);
    if (n <= 0) return Error{"the connection closed before an HTTP status line", ECONNRESET};
    reply.append(buf, static_cast<size_t>(n));
  }
  // "HTTP/1.1 200 OK"
  auto space = reply.find(' ');
  if (reply.rfind("HTTP/", 0) != 0 || space == std::string::npos) return Error{"not an HTTP reply", EPROTO};
  return std::atoi(reply.c_str() + space + 1);
}

Status send_all(int fd, std::string_view data, std::chrono::steady_clock::time_point deadline) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) return errno_error("cannot send");
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Error{"sending timed out", ETIMEDOUT};
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) < 0 && errno != EINTR)
      return errno_error("cannot poll");
  }
  return {};
}

Result<Received> receive(int fd, std::size_t max, std::chrono::milliseconds timeout) {
  Received got;
  pollfd p{fd, POLLIN, 0};
  int ready = ::poll(&p, 1, static_cast<int>(std::max<long>(timeout.count(), 0)));
  if (ready < 0 && errno != EINTR) return errno_error("cannot poll");
  if (ready <= 0) {
    got.timed_out = true;
    return got;
  }
  got.data.resize(max);
  ssize_t n = ::recv(fd, got.data.data(), max, 0);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) {
      got.data.clear();
      got.timed_out = true;
      return got;
    }
    return errno_error("cannot receive");
  }
  got.data.resize(static_cast<size_t>(n));
  got.eof = n == 0;
  return got;
}

void reset_connection(UniqueFd fd) {
  linger l{.l_onoff = 1, .l_linger = 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
  fd.reset();
}

Status shutdown_write(int fd) {
  if (::shutdown(fd, SHUT_WR) != 0) return errno_error("cannot shut down the sending side");
  return {};
}

Result<UniqueFd> new_netns() {
  Result<UniqueFd> result = Error{"not run"};
  // unshare on a thread of its own: the namespace is that thread's, and the
  // descriptor keeps it once the thread has ended.
  std::thread worker([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      result = errno_error("cannot create a network namespace");
      return;
    }
    UniqueFd ns(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!ns.valid()) {
      result = errno_error("cannot open the new network namespace");
      return;
    }
    UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (!sock.valid() || ::ioctl(sock.get(), SIOCGIFFLAGS, &ifr) != 0) {
      result = errno_error("cannot read the flags of the new namespace's loopback");
      return;
    }
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    if (::ioctl(sock.get(), SIOCSIFFLAGS, &ifr) != 0) {
      result = errno_error("cannot bring up the new namespace's loopback");
      return;
    }
    result = std::move(ns);
  });
  worker.join();
  return result;
}

Status in_netns(int netns_fd, const std::function<void()>& fn) {
  Status result;
  std::thread worker([&] {
    if (::setns(netns_fd, CLONE_NEWNET) != 0) {
      result = errno_error("cannot join the network namespace");
      return;
    }
    fn();
  });
  worker.join();
  return result;
}

}  // namespace sandmine::sys
