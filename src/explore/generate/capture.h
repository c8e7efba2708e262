#pragma once
// Client traffic of a container's TCP services, captured on the loopback of
// its network namespace (libpcap) and reassembled into byte streams: what the
// spec's own run steps sent, to be replayed and mutated later.
//
//   auto capture = TcpCapture::start(container.netns_fd(), {6379});
//   ... the spec's run steps ...
//   auto streams = (*capture)->stop();   // one TcpStream per connection

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "util/result.h"

namespace sandmine::explore::generate {

/// A run of bytes one side sent before the other side spoke.
struct TcpMessage {
  bool from_client = true;
  std::string bytes;
  auto operator<=>(const TcpMessage&) const = default;
};

/// One TCP connection: who served it and what each side said, in order.
struct TcpStream {
  int server_port = 0;
  int client_port = 0;
  std::vector<TcpMessage> messages;
  /// The client's messages alone, in order.
  std::vector<std::string> client_messages() const;
};

/// Reassembles TCP connections from IP packets (IPv4 or IPv6 with TCP right
/// after the fixed header). Each direction is put in sequence order once:
/// retransmitted bytes are dropped, early ones wait for the gap to fill.
class TcpReassembler {
 public:
  /// server_ports: which side serves a connection whose SYN was not seen;
  /// without them, the lower port.
  explicit TcpReassembler(std::vector<int> server_ports = {}) : server_ports_(std::move(server_ports)) {}
  /// Feeds one packet, starting at its IP header.
  void add_ip(const std::uint8_t* data, std::size_t length);
  /// The connections so far in the order their first packet came, without
  /// those whose client sent no byte.
  std::vector<TcpStream> streams() const;

 private:
  struct Side {
    bool started = false;
    std::uint32_t next = 0;                      // the next expected sequence number
    std::map<std::uint32_t, std::string> early;  // segments past a gap, by sequence number
  };
  struct Connection {
    int order = 0;
    TcpStream stream;
    Side client, server;
  };
  using Key = std::tuple<std::string, int, std::string, int>;  // client address, port, server address, port
  void add_tcp(const std::string& src, const std::string& dst, const std::uint8_t* tcp, std::size_t length);
  void deliver(Connection& c, bool from_client, std::uint32_t seq, std::string payload);

  std::vector<int> server_ports_;
  std::map<Key, Connection> connections_;
  int next_order_ = 0;
};

/// A capture running on a network namespace's loopback. Destruction stops it.
class TcpCapture {
 public:
  /// Starts capturing TCP on the loopback ("lo") of netns_fd; server_ports
  /// (empty: all TCP) limits it to connections to those ports. Needs
  /// CAP_NET_RAW (root).
  static Result<std::unique_ptr<TcpCapture>> start(int netns_fd, std::vector<int> server_ports = {});
  ~TcpCapture();
  TcpCapture(const TcpCapture&) = delete;
  TcpCapture& operator=(const TcpCapture&) = delete;

  /// Stops capturing and returns the reassembled connections. Fails when the
  /// kernel dropped packets (the streams would have holes).
  Result<std::vector<TcpStream>> stop();

 private:
  struct Impl;
  explicit TcpCapture(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sandmine::explore::generate
