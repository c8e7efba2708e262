#include "explore/generate/capture.h"

#include <arpa/inet.h>
#include <linux/capability.h>
#include <pcap/pcap.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>

#include "sys/net.h"
#include "sys/privilege.h"

namespace sandmine::explore::generate {

std::vector<std::string> TcpStream::client_messages() const {
  std::vector<std::string> out;
  for (const auto& m : messages)
    if (m.from_client) out.push_back(m.bytes);
  return out;
}

namespace {

std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
std::uint32_t be32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) << 24 | static_cast<std::uint32_t>(p[1]) << 16 |
         static_cast<std::uint32_t>(p[2]) << 8 | p[3];
}

constexpr std::uint8_t kSyn = 0x02, kAck = 0x10;

}  // namespace

void TcpReassembler::add_ip(const std::uint8_t* data, std::size_t length) {
  if (length < 1) return;
  int version = data[0] >> 4;
  if (version == 4 && length >= 20) {
    std::size_t header = (data[0] & 0x0f) * 4u;
    std::size_t total = std::min<std::size_t>(be16(data + 2), length);
    if (data[9] != 6 || header < 20 || total < header) return;  // not TCP
    char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, data + 12, src, sizeof src);
    ::inet_ntop(AF_INET, data + 16, dst, sizeof dst);
    add_tcp(src, dst, data + header, total - header);
  } else if (version == 6 && length >= 40) {
    std::size_t payload = std::min<std::size_t>(be16(data + 4), length - 40);
    if (data[6] != 6) return;  // TCP right after the fixed header only
    char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
    ::inet_ntop(AF_INET6, data + 8, src, sizeof src);
    ::inet_ntop(AF_INET6, data + 24, dst, sizeof dst);
    add_tcp(src, dst, data + 40, payload);
  }
}

void TcpReassembler::add_tcp(const std::string& src, const std::string& dst, const std::uint8_t* tcp,
                             std::size_t length) {
  if (length < 20) return;
  int sport = be16(tcp), dport = be16(tcp + 2);
  std::uint32_t seq = be32(tcp + 4);
  std::size_t offset = (tcp[12] >> 4) * 4u;
  std::uint8_t flags = tcp[13];
  if (offset < 20 || offset > length) return;
  Key forward{src, sport, dst, dport}, backward{dst, dport, src, sport};
  bool from_client;
  Connection* c;
  if (auto it = connections_.find(forward); it != connections_.end()) {
    c = &it->second;
    from_client = true;
  } else if (auto it2 = connections_.find(backward); it2 != connections_.end()) {
    c = &it2->second;
    from_client = false;
  } else {
    // A new connection: which side serves it?
    bool src_serves;
    auto serves = [&](int port) {
      return std::find(server_ports_.begin(), server_ports_.end(), port) != server_ports_.end();
    };
    if ((flags & kSyn) && !(flags & kAck))
      src_serves = false;
    else if ((flags & kSyn) && (flags & kAck))
      src_serves = true;
    else if (serves(dport) != serves(sport))
      src_serves = serves(sport);
    else
      src_serves = sport < dport;
    Key key = src_serves ? backward : forward;
    c = &connections_[key];
    c->order = next_order_++;
    c->stream.server_port = src_serves ? sport : dport;
    c->stream.client_port = src_serves ? dport : sport;
    from_client = !src_serves;
  }
  Side& side = from_client ? c->client : c->server;
  if (flags & kSyn) {
    side.started = true;
    side.next = seq + 1;
    seq += 1;
  }
  std::string payload(reinterpret_cast<const char*>(tcp + offset), length - offset);
  if (!payload.empty()) deliver(*c, from_client, seq, std::move(payload));
}

void TcpReassembler::deliver(Connection& c, bool from_client, std::uint32_t seq, std::string payload) {
  Side& side = from_client ? c.client : c.server;
  if (!side.started) {
    side.started = true;
    side.next = seq;
  }
  auto append = [&](std::string bytes) {
    side.next += static_cast<std::uint32_t>(bytes.size());
    auto& msgs = c.stream.messages;
    if (!msgs.empty() && msgs.back().from_client == from_client)
      msgs.back().bytes += bytes;
    else
      msgs.push_back({from_client, std::move(bytes)});
  };
  // Bytes before side.next were delivered already (a retransmission).
  auto fit = [&](std::uint32_t at, std::string& bytes) {
    auto behind = static_cast<std::int32_t>(side.next - at);
    if (behind <= 0) return behind == 0;
    if (static_cast<std::size_t>(behind) >= bytes.size()) {
      bytes.clear();
      return false;
    }
    bytes.erase(0, static_cast<std::size_t>(behind));
    return true;
  };
  if (fit(seq, payload)) {
    append(std::move(payload));
  } else if (!payload.empty()) {
    auto& slot = side.early[seq];
    if (payload.size() > slot.size()) slot = std::move(payload);
    return;
  }
  // Segments that waited for this gap.
  for (bool more = true; more;) {
    more = false;
    for (auto it = side.early.begin(); it != side.early.end(); ++it) {
      std::string bytes = it->second;
      auto behind = static_cast<std::int32_t>(side.next - it->first);
      if (behind < 0) continue;
      side.early.erase(it);
      if (fit(side.next - static_cast<std::uint32_t>(behind), bytes) && !bytes.empty())
        append(std::move(bytes));
      more = true;
      break;
    }
  }
}

std::vector<TcpStream> TcpReassembler::streams() const {
  std::vector<const Connection*> ordered;
  for (const auto& [key, c] : connections_) ordered.push_back(&c);
  std::sort(ordered.begin(), ordered.end(), [](auto* a, auto* b) { return a->order < b->order; });
  std::vector<TcpStream> out;
  for (const auto* c : ordered) {
    bool client_spoke = std::any_of(c->stream.messages.begin(), c->stream.messages.end(),
                                    [](const TcpMessage& m) { return m.from_client; });
    if (client_spoke) out.push_back(c->stream);
  }
  return out;
}

struct TcpCapture::Impl {
  pcap_t* handle = nullptr;
  int link = 0;
  TcpReassembler reassembler;
  std::atomic<bool> stopping{false};
  std::thread reader;
  bool stopped = false;

  explicit Impl(std::vector<int> ports) : reassembler(std::move(ports)) {}
  ~Impl() {
    finish();
    if (handle) pcap_close(handle);
  }

  void packet(const pcap_pkthdr* h, const u_char* bytes) {
    std::size_t skip = 0;
    switch (link) {
      case DLT_EN10MB:
        skip = 14;  // the loopback's all-zero Ethernet header
        break;
      case DLT_LINUX_SLL:
        skip = 16;
        break;
      case DLT_NULL:
        skip = 4;
        break;
      default:
        skip = 0;  // DLT_RAW
    }
    if (h->caplen <= skip) return;
    reassembler.add_ip(bytes + skip, h->caplen - skip);
  }

  static void on_packet(u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
    reinterpret_cast<Impl*>(user)->packet(h, bytes);
  }

  void run() {
    while (!stopping.load())
      if (pcap_dispatch(handle, -1, &Impl::on_packet, reinterpret_cast<u_char*>(this)) < 0) break;
  }

  void finish() {
    if (stopped) return;
    stopped = true;
    stopping = true;
    // In immediate mode the reader's poll has no timeout: breakloop wakes it.
    if (handle) pcap_breakloop(handle);
    if (reader.joinable()) reader.join();
    if (!handle) return;
    // What the kernel holds still (all of it, when the reader thread had no
    // turn before the stop): read it without waiting. The first read may
    // only report the break the reader never saw.
    char err[PCAP_ERRBUF_SIZE];
    if (pcap_setnonblock(handle, 1, err) != 0) return;
    for (int breaks = 0; breaks < 3;) {
      int n = pcap_dispatch(handle, -1, &Impl::on_packet, reinterpret_cast<u_char*>(this));
      if (n == PCAP_ERROR_BREAK) {
        ++breaks;
        continue;
      }
      if (n <= 0) break;
    }
  }
};

TcpCapture::TcpCapture(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TcpCapture::~TcpCapture() = default;

Result<std::unique_ptr<TcpCapture>> TcpCapture::start(int netns_fd, std::vector<int> server_ports) {
  auto impl = std::make_unique<Impl>(server_ports);
  std::string filter = "tcp";
  for (size_t i = 0; i < server_ports.size(); ++i)
    filter += (i == 0 ? " and (port " : " or port ") + std::to_string(server_ports[i]);
  if (!server_ports.empty()) filter += ")";
  std::string failure;
  // The packet socket belongs to the namespace of the thread that opens it;
  // it keeps capturing there whichever thread reads it later.
  auto joined = sys::in_netns(netns_fd, [&] {
    char err[PCAP_ERRBUF_SIZE] = {};
    pcap_t* h = pcap_create("lo", err);
    if (!h) {
      failure = err;
      return;
    }
    impl->handle = h;
    pcap_set_snaplen(h, 262144);
    pcap_set_immediate_mode(h, 1);
    pcap_set_timeout(h, 50);
    pcap_set_buffer_size(h, 32 << 20);
    if (int st = pcap_activate(h); st < 0) {
      failure = pcap_geterr(h);
      if (failure.empty()) failure = pcap_statustostr(st);
      return;
    }
    bpf_program program{};
    if (pcap_compile(h, &program, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0 ||
        pcap_setfilter(h, &program) != 0) {
      failure = pcap_geterr(h);
      pcap_freecode(&program);
      return;
    }
    pcap_freecode(&program);
  });
  if (!joined) return joined.error();
  if (!failure.empty())
    return Error{"cannot capture on the container's loopback: " + failure +
                     (sys::has_capability(CAP_NET_RAW) ? "" : " (capturing needs CAP_NET_RAW: run as root)"),
                 EPERM};
  impl->link = pcap_datalink(impl->handle);
  Impl* raw = impl.get();
  impl->reader = std::thread([raw] { raw->run(); });
  return std::unique_ptr<TcpCapture>(new TcpCapture(std::move(impl)));
}

Result<std::vector<TcpStream>> TcpCapture::stop() {
  impl_->finish();
  pcap_stat stats{};
  if (pcap_stats(impl_->handle, &stats) == 0 && stats.ps_drop > 0)
    return Error{"the capture dropped " + std::to_string(stats.ps_drop) + " packets: the streams have holes",
                 ENOBUFS};
  return impl_->reassembler.streams();
}

}  // namespace sandmine::explore::generate
