#include "explore/generate/procfs.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <sstream>

#include "sys/files.h"

namespace sandmine::explore::generate {

std::vector<int> caught_signals(std::string_view status) {
  std::vector<int> out;
  auto at = status.find("SigCgt:");
  if (at == std::string_view::npos) return out;
  std::string hex;
  for (size_t i = at + 7; i < status.size() && status[i] != '\n'; ++i)
    if (std::isxdigit(static_cast<unsigned char>(status[i]))) hex += status[i];
  // 64 bits as 16 hex digits; the last digit holds signals 1..4.
  for (size_t d = 0; d < hex.size(); ++d) {
    int value = std::stoi(std::string(1, hex[hex.size() - 1 - d]), nullptr, 16);
    for (int b = 0; b < 4; ++b)
      if (value & (1 << b)) out.push_back(static_cast<int>(d * 4 + b + 1));
  }
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

// "0100007F:1F90" (IPv4, little-endian words) or 32 hex digits for IPv6:
// whether the address is the wildcard, loopback, or something else.
enum class Bound { Any, Loopback, Other };

Bound classify(const std::string& hex, bool v6) {
  if (hex.find_first_not_of('0') == std::string::npos) return Bound::Any;
  if (!v6) {
    // The address's bytes in memory order, printed as one little-endian word:
    // 127.0.0.1 is 0100007F; 127.x.y.z ends with 7F.
    return hex.size() == 8 && hex.substr(6) == "7F" ? Bound::Loopback : Bound::Other;
  }
  // ::1 is three zero words and 01000000.
  return hex == "00000000000000000000000001000000" ? Bound::Loopback : Bound::Other;
}

}  // namespace

std::vector<Listener> listening_sockets(std::string_view text, bool v6) {
  std::map<int, Listener> by_port;
  std::istringstream in{std::string(text)};
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state;
    if (!(fields >> slot >> local >> remote >> state)) continue;
    if (state != "0A") continue;  // TCP_LISTEN
    auto colon = local.find(':');
    if (colon == std::string::npos) continue;
    std::string addr = local.substr(0, colon);
    int port = static_cast<int>(std::strtol(local.c_str() + colon + 1, nullptr, 16));
    Bound bound = classify(addr, v6);
    if (bound == Bound::Other || port <= 0) continue;
    Listener& l = by_port[port];
    l.port = port;
    std::vector<sys::Loopback> reach;
    if (!v6)
      reach = {sys::Loopback::V4};
    else if (bound == Bound::Any)
      reach = {sys::Loopback::V4, sys::Loopback::V6};
    else
      reach = {sys::Loopback::V6};
    for (auto r : reach)
      if (std::find(l.reach.begin(), l.reach.end(), r) == l.reach.end()) l.reach.push_back(r);
  }
  std::vector<Listener> out;
  for (auto& [port, l] : by_port) out.push_back(std::move(l));
  return out;
}

std::vector<Listener> merge_listeners(std::vector<Listener> v4, const std::vector<Listener>& v6) {
  for (const auto& l : v6) {
    auto it = std::find_if(v4.begin(), v4.end(), [&](const Listener& x) { return x.port == l.port; });
    if (it == v4.end()) {
      v4.push_back(l);
      continue;
    }
    for (auto r : l.reach)
      if (std::find(it->reach.begin(), it->reach.end(), r) == it->reach.end()) it->reach.push_back(r);
  }
  std::sort(v4.begin(), v4.end(), [](const Listener& a, const Listener& b) { return a.port < b.port; });
  return v4;
}

Result<std::vector<Listener>> read_listeners(pid_t pid) {
  std::string base = "/proc/" + std::to_string(pid) + "/net/";
  auto tcp = sys::read_file(base + "tcp");
  if (!tcp) return tcp.error();
  auto tcp6 = sys::read_file(base + "tcp6");  // absent without IPv6
  return merge_listeners(listening_sockets(*tcp, false),
                         tcp6 ? listening_sockets(*tcp6, true) : std::vector<Listener>{});
}

Result<std::vector<int>> read_caught_signals(pid_t pid) {
  auto status = sys::read_file("/proc/" + std::to_string(pid) + "/status");
  if (!status) return status.error();
  return caught_signals(*status);
}

pid_t pid_in_own_namespace(std::string_view status) {
  auto at = status.find("\nNSpid:");
  if (at == std::string_view::npos) return 0;
  auto end = status.find('\n', at + 1);
  auto line = status.substr(at + 7, end == std::string_view::npos ? std::string_view::npos : end - at - 7);
  auto last = line.find_last_not_of(" \t");
  if (last == std::string_view::npos) return 0;
  auto first = line.find_last_of(" \t", last);
  auto field = line.substr(first == std::string_view::npos ? 0 : first + 1,
                           last - (first == std::string_view::npos ? 0 : first + 1) + 1);
  pid_t pid = 0;
  for (char c : field) {
    if (c < '0' || c > '9') return 0;
    pid = pid * 10 + (c - '0');
  }
  return pid;
}

Result<pid_t> read_pid_in_own_namespace(pid_t pid) {
  auto status = sys::read_file("/proc/" + std::to_string(pid) + "/status");
  if (!status) return status.error();
  if (pid_t inner = pid_in_own_namespace(*status); inner > 0) return inner;
  return Error{"/proc/" + std::to_string(pid) + "/status has no NSpid line"};
}

char stat_state(std::string_view stat) {
  // "pid (comm) S ...": comm may hold spaces and parentheses; the last ')' ends it.
  auto close = stat.rfind(')');
  if (close == std::string_view::npos || close + 2 >= stat.size()) return '?';
  return stat[close + 2];
}

}  // namespace sandmine::explore::generate
