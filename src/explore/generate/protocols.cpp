#include "explore/generate/protocols.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <thread>

#include "explore/generate/http.h"
#include "sys/net.h"
#include "util/csv.h"

extern const char kProtocolProbesCsv[];
extern const char kProtocolSessionsCsv[];

namespace sandmine::explore::generate {

namespace {

using std::chrono::milliseconds;

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string bytes_of(const std::vector<int>& v) {
  std::string out;
  out.reserve(v.size());
  for (int b : v) out.push_back(static_cast<char>(b));
  return out;
}

// {i} -> the repetition, {bytes:N} -> N letters.
Result<std::string> expand(std::string_view text, int i, const std::string& where) {
  std::string out;
  for (std::size_t at = 0; at < text.size();) {
    if (text.substr(at, 3) == "{i}") {
      out += std::to_string(i);
      at += 3;
    } else if (text.substr(at, 7) == "{bytes:") {
      auto close = text.find('}', at);
      if (close == std::string_view::npos) return Error{where + ": {bytes: without its }"};
      std::string n(text.substr(at + 7, close - at - 7));
      std::size_t count = 0;
      try {
        count = std::stoul(n);
      } catch (...) {
        return Error{where + ": {bytes:" + n + "} is not a byte count"};
      }
      for (std::size_t k = 0; k < count; ++k) out.push_back(static_cast<char>('a' + k % 26));
      at = close + 1;
    } else {
      out.push_back(text[at++]);
    }
  }
  return out;
}

void put32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

std::uint32_t get32(std::string_view b, std::size_t at) {
  std::uint32_t v = 0;
  for (int k = 0; k < 4; ++k) v = (v << 8) | static_cast<unsigned char>(b[at + static_cast<std::size_t>(k)]);
  return v;
}

// A PostgreSQL frontend message: type, length (itself included), body.
std::string pg_message(char type, const std::string& body) {
  std::string out(1, type);
  put32(out, static_cast<std::uint32_t>(body.size() + 4));
  return out + body;
}

template <typename T>
const T& parsed_or_die(const Result<T>& r) {
  if (!r) throw std::logic_error(r.error().message);  // the embedded tables are tested
  return *r;
}

}  // namespace

bool ProtocolProbe::matches(std::string_view got) const {
  if (got.size() < reply.size() || (whole && got.size() != reply.size())) return false;
  for (std::size_t k = 0; k < reply.size(); ++k)
    if (reply[k] >= 0 && static_cast<unsigned char>(got[k]) != reply[k]) return false;
  return true;
}

TcpInput ProtocolSession::input(int port) const {
  TcpInput in{.port = port, .origin = protocol + " " + name};
  for (const auto& m : messages)
    if (m.idle.count() == 0) in.messages.push_back(m.bytes);
  return in;
}

Result<std::vector<int>> unescape(std::string_view text, bool any_byte) {
  std::vector<int> out;
  out.reserve(text.size());
  for (std::size_t at = 0; at < text.size(); ++at) {
    char c = text[at];
    if (c != '\\') {
      out.push_back(static_cast<unsigned char>(c));
      continue;
    }
    if (++at >= text.size()) return Error{"a \\ at the end of \"" + std::string(text.substr(0, 40)) + "\""};
    switch (text[at]) {
      case 'r':
        out.push_back('\r');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 't':
        out.push_back('\t');
        break;
      case '0':
        out.push_back(0);
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '?':
        if (!any_byte) return Error{"\\? (any byte) is only for replies"};
        out.push_back(-1);
        break;
      case 'x': {
        int hi = at + 1 < text.size() ? hex_digit(text[at + 1]) : -1;
        int lo = at + 2 < text.size() ? hex_digit(text[at + 2]) : -1;
        if (hi < 0 || lo < 0) return Error{"\\x needs two hex digits"};
        out.push_back(hi * 16 + lo);
        at += 2;
        break;
      }
      default:
        return Error{fmt::format("unknown escape \\{}", text[at])};
    }
  }
  return out;
}

Result<std::vector<ProtocolProbe>> parse_probes(std::string_view csv, const std::string& source) {
  auto rows = parse_csv(csv, source);
  if (!rows) return rows.error();
  std::vector<ProtocolProbe> out;
  int line = 1;
  for (auto& row : *rows) {
    ++line;
    auto where = fmt::format("{}:{}", source, line);
    auto probe = unescape(row["probe"]);
    auto reply = unescape(row["reply"], true);
    if (!probe) return Error{where + ": probe: " + probe.error().message};
    if (!reply) return Error{where + ": reply: " + reply.error().message};
    if (row["protocol"].empty() || reply->empty())
      return Error{where + ": a probe needs a protocol and a reply"};
    if (row["match"] != "prefix" && row["match"] != "whole")
      return Error{where + ": match is prefix or whole, not \"" + row["match"] + "\""};
    out.push_back({.protocol = row["protocol"],
                   .probe = bytes_of(*probe),
                   .reply = std::move(*reply),
                   .whole = row["match"] == "whole"});
  }
  return out;
}

Result<std::vector<ProtocolSession>> parse_sessions(std::string_view csv, const std::string& source) {
  auto rows = parse_csv(csv, source);
  if (!rows) return rows.error();
  std::vector<ProtocolSession> out;
  int line = 1;
  for (auto& row : *rows) {
    ++line;
    auto where = fmt::format("{}:{}", source, line);
    int repeat = 0;
    try {
      repeat = std::stoi(row["repeat"]);
    } catch (...) {
    }
    if (repeat < 1)
      return Error{where + ": repeat must be a count of at least 1, not \"" + row["repeat"] + "\""};
    const std::string& kind = row["kind"];
    SessionMessage m;
    for (int i = 0; i < repeat; ++i) {
      auto text = expand(row["text"], i, where);
      if (!text) return text.error();
      if (kind == "idle") {
        try {
          m.idle = milliseconds(std::stol(*text));
        } catch (...) {
          return Error{where + ": idle takes milliseconds, not \"" + *text + "\""};
        }
        continue;
      }
      std::vector<std::string> parts;
      if (kind == "resp") {
        std::size_t at = 0;
        while (at < text->size()) {
          auto space = text->find(' ', at);
          if (space == std::string::npos) space = text->size();
          if (space > at) parts.push_back(text->substr(at, space - at));
          at = space + 1;
        }
      } else {
        parts.push_back(*text);
      }
      std::vector<std::string> raw;
      for (const auto& p : parts) {
        auto b = unescape(p);
        if (!b) return Error{where + ": " + b.error().message};
        raw.push_back(bytes_of(*b));
      }
      if (kind == "send") {
        m.bytes += raw[0];
      } else if (kind == "resp") {
        m.bytes += fmt::format("*{}\r\n", raw.size());
        for (const auto& w : raw) m.bytes += fmt::format("${}\r\n{}\r\n", w.size(), w);
      } else if (kind == "pg-startup") {
        std::string body;
        put32(body, 196608);  // protocol 3.0
        std::size_t at = 0;
        const std::string& t = raw[0];
        while (at < t.size()) {
          auto space = t.find(' ', at);
          if (space == std::string::npos) space = t.size();
          auto pair = t.substr(at, space - at);
          auto eq = pair.find('=');
          if (eq == std::string::npos) return Error{where + ": pg-startup takes key=value pairs"};
          body += pair.substr(0, eq) + '\0' + pair.substr(eq + 1) + '\0';
          at = space + 1;
        }
        body.push_back('\0');
        std::string msg;
        put32(msg, static_cast<std::uint32_t>(body.size() + 4));
        m.bytes += msg + body;
      } else if (kind == "pg-query") {
        m.bytes += pg_message('Q', raw[0] + '\0');
      } else if (kind == "pg-copy") {
        m.bytes += pg_message('d', raw[0] + '\n');
      } else {
        return Error{where + ": unknown kind \"" + kind +
                     "\" (send, resp, pg-startup, pg-query, pg-copy, idle)"};
      }
    }
    if (kind == "pg-copy") m.bytes += pg_message('c', "");
    auto it = std::find_if(out.begin(), out.end(), [&](const ProtocolSession& s) {
      return s.protocol == row["protocol"] && s.name == row["session"];
    });
    if (it == out.end()) {
      out.push_back({.protocol = row["protocol"], .name = row["session"]});
      it = out.end() - 1;
    }
    it->messages.push_back(std::move(m));
  }
  return out;
}

const std::vector<ProtocolProbe>& protocol_probes() {
  static const auto parsed = parse_probes(kProtocolProbesCsv, "data/protocol_probes.csv");
  return parsed_or_die(parsed);
}

const std::vector<ProtocolSession>& protocol_sessions() {
  static const auto parsed = parse_sessions(kProtocolSessionsCsv, "data/protocol_sessions.csv");
  return parsed_or_die(parsed);
}

std::string identify_protocol(Target& target, const Listener& listener, const std::string& banner,
                              Clock::time_point deadline, std::string& tried) {
  const auto& probes = protocol_probes();
  if (!banner.empty()) {
    for (const auto& p : probes)
      if (p.probe.empty() && p.matches(banner)) return p.protocol;
    return "";  // a server that greets answers after its greeting: the probes would not tell
  }
  std::map<std::string, std::string> replies;  // probe bytes -> what came back
  for (const auto& p : probes) {
    if (p.probe.empty()) continue;
    auto known = replies.find(p.probe);
    if (known == replies.end()) {
      if (Clock::now() + milliseconds(100) >= deadline) break;
      std::string reply;
      auto conn =
          HttpConnection::open(target.netns_fd(), listener, std::min(left(deadline), milliseconds(1000)));
      // The answer: its first byte within 300 ms, then until 50 ms of silence.
      if (conn && conn->send(p.probe, deadline)) {
        auto until = std::min(deadline, Clock::now() + milliseconds(1000));
        auto first = sys::receive(conn->fd(), 65536, std::min(left(until), milliseconds(300)));
        if (first && !first->eof && !first->timed_out)
          reply = first->data + conn->drain(milliseconds(50), until);
      }
      tried += fmt::format("{}{} probe: {} bytes back", tried.empty() ? "" : "; ", p.protocol, reply.size());
      known = replies.emplace(p.probe, reply).first;
    }
    if (p.matches(known->second)) return p.protocol;
  }
  return "";
}

namespace {

// How far a PostgreSQL server's answer has come: the frames at the front of
// got. Done at ReadyForQuery or CopyInResponse; stop (with why) when the
// startup asks for a password or the server sent an error before it was ready.
struct PgAnswer {
  bool done = false;
  std::string stop;
};

PgAnswer pg_answer(std::string_view got, bool startup) {
  PgAnswer a;
  std::size_t at = 0;
  while (at + 5 <= got.size()) {
    char type = got[at];
    std::uint32_t len = get32(got, at + 1);
    if (len < 4 || at + 1 + len > got.size()) break;
    if (type == 'R' && len >= 8 && get32(got, at + 5) != 0) {
      a.stop = fmt::format("the server asks for authentication (method {})", get32(got, at + 5));
      return a;
    }
    if (type == 'E' && startup) {
      a.stop = "the server refused the startup";
      return a;
    }
    if (type == 'Z' || type == 'G') {
      a.done = true;
      return a;
    }
    at += 1 + len;
  }
  return a;
}

}  // namespace

std::string run_session(Target& target, const Listener& listener, const ProtocolSession& session,
                        Clock::time_point deadline) {
  const bool pg = session.protocol == "postgres";
  auto conn = HttpConnection::open(target.netns_fd(), listener, std::min(left(deadline), milliseconds(2000)));
  if (!conn) return "cannot connect: " + conn.error().message;
  std::size_t sent = 0, sent_bytes = 0, received = 0, messages = 0;
  std::string stop;
  for (const auto& m : session.messages) {
    if (m.idle.count() > 0) {
      std::this_thread::sleep_for(std::min(m.idle, left(deadline)));
      continue;
    }
    ++messages;
    if (!stop.empty()) continue;
    if (auto st = conn->send(m.bytes, deadline); !st) {
      stop = "cannot send: " + st.error().message;
      continue;
    }
    ++sent;
    sent_bytes += m.bytes.size();
    if (pg) {
      std::string got;
      while (Clock::now() < deadline) {
        auto r = sys::receive(conn->fd(), 65536, std::min(left(deadline), milliseconds(200)));
        if (!r || r->eof) {
          stop = "the server closed the connection";
          break;
        }
        got += r->data;
        auto a = pg_answer(got, sent == 1);
        if (!a.stop.empty()) stop = a.stop;
        if (a.done || !a.stop.empty()) break;
      }
      received += got.size();
    } else {
      auto until = std::min(deadline, Clock::now() + milliseconds(3000));
      auto first = sys::receive(conn->fd(), 65536, std::min(left(until), milliseconds(2000)));
      if (!first || first->eof) {
        stop = "the server closed the connection";
        continue;
      }
      received += first->data.size();
      if (!first->timed_out) received += conn->drain(milliseconds(50), until).size();
    }
  }
  if (stop.empty() || stop.starts_with("the server asks") || stop.starts_with("the server refused")) {
    if (pg) (void)conn->send(pg_message('X', ""), deadline);  // Terminate, as clients end
    (void)conn->shutdown_write();
    received += conn->drain(milliseconds(100), std::min(deadline, Clock::now() + milliseconds(500))).size();
  }
  return fmt::format("{} {}: sent {} of {} messages ({} bytes), received {} bytes{}", session.protocol,
                     session.name, sent, messages, sent_bytes, received, stop.empty() ? "" : ", " + stop);
}

std::vector<Recipe> session_recipes(std::shared_ptr<Discovery> d, int port, const std::string& protocol) {
  std::vector<Recipe> out;
  for (const auto& s : protocol_sessions()) {
    if (s.protocol != protocol) continue;
    out.push_back({.name = fmt::format("auto/tcp:{}/{} {}", port, s.protocol, s.name),
                   .part = "protocol",
                   .body = [d, port, s](Target& t, Clock::time_point deadline) {
                     StepOutcome o;
                     note(o, run_session(t, d->site(port)->listener, s, deadline));
                     return o;
                   }});
  }
  return out;
}

}  // namespace sandmine::explore::generate
