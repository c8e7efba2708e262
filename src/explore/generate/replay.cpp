#include "explore/generate/replay.h"

#include <fmt/format.h>

#include <algorithm>

#include "explore/generate/http.h"
#include "sys/net.h"

namespace sandmine::explore::generate {

namespace {
using std::chrono::milliseconds;
}

std::vector<TcpInput> inputs_from(const std::vector<TcpStream>& streams, const std::vector<int>& ports) {
  std::vector<TcpInput> out;
  for (const auto& s : streams) {
    if (std::find(ports.begin(), ports.end(), s.server_port) == ports.end()) continue;
    auto messages = s.client_messages();
    if (!messages.empty()) out.push_back({.port = s.server_port, .messages = std::move(messages)});
  }
  return out;
}

std::string replay(Target& target, const Listener& listener, const TcpInput& input,
                   Clock::time_point deadline) {
  auto conn = HttpConnection::open(target.netns_fd(), listener, std::min(left(deadline), milliseconds(2000)));
  if (!conn) return "cannot connect: " + conn.error().message;
  std::size_t sent = 0, sent_bytes = 0, received = 0;
  bool closed = false;
  for (const auto& m : input.messages) {
    if (auto st = conn->send(m, deadline); !st) {
      closed = true;
      break;
    }
    ++sent;
    sent_bytes += m.size();
    // The answer: its first byte within 300 ms, then until 30 ms of silence.
    auto until = std::min(deadline, Clock::now() + milliseconds(1000));
    auto first = sys::receive(conn->fd(), 65536, std::min(left(until), milliseconds(300)));
    if (!first || first->eof) {
      closed = true;
      break;
    }
    received += first->data.size();
    if (!first->timed_out) received += conn->drain(milliseconds(30), until).size();
  }
  if (!closed) {
    (void)conn->shutdown_write();
    received += conn->drain(milliseconds(100), std::min(deadline, Clock::now() + milliseconds(500))).size();
  }
  return fmt::format("{}: sent {} of {} messages ({} bytes), received {} bytes{}", input.origin, sent,
                     input.messages.size(), sent_bytes, received,
                     closed ? ", the server closed or reset" : "");
}

}  // namespace sandmine::explore::generate
