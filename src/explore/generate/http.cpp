#include "explore/generate/http.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "sys/net.h"

namespace sandmine::explore::generate {

namespace {

using Clock = std::chrono::steady_clock;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// The end of the line starting at from (the index of its '\n'), or npos.
size_t line_end(std::string_view data, size_t from) { return data.find('\n', from); }

// Decodes a chunked body starting at from; sets end to just past it.
ParseState dechunk(std::string_view data, size_t from, std::string& body, size_t& end) {
  size_t at = from;
  for (;;) {
    size_t nl = line_end(data, at);
    if (nl == std::string_view::npos) return ParseState::Incomplete;
    std::string_view size_line = trim(data.substr(at, nl - at));
    size_line = size_line.substr(0, size_line.find(';'));
    if (size_line.empty() || !std::isxdigit(static_cast<unsigned char>(size_line[0])))
      return ParseState::Invalid;
    unsigned long long size = std::strtoull(std::string(size_line).c_str(), nullptr, 16);
    at = nl + 1;
    if (size == 0) {
      // Trailer lines until an empty one.
      for (;;) {
        size_t t = line_end(data, at);
        if (t == std::string_view::npos) return ParseState::Incomplete;
        bool empty = trim(data.substr(at, t - at)).empty();
        at = t + 1;
        if (empty) {
          end = at;
          return ParseState::Complete;
        }
      }
    }
    if (data.size() < at + size) return ParseState::Incomplete;
    body.append(data.substr(at, size));
    at += size;
    size_t crlf = line_end(data, at);
    if (crlf == std::string_view::npos) return ParseState::Incomplete;
    at = crlf + 1;
  }
}

}  // namespace

std::string to_wire(const HttpRequest& r, int port) {
  std::string out = r.method + " " + r.target;
  if (!r.version.empty()) out += " " + r.version;
  out += "\r\n";
  if (r.host) out += fmt::format("Host: 127.0.0.1:{}\r\n", port);
  bool has_te = false, has_length = false;
  for (const auto& h : r.headers) {
    out += h.name + ": " + h.value + "\r\n";
    has_te = has_te || iequals(h.name, "Transfer-Encoding");
    has_length = has_length || iequals(h.name, "Content-Length");
  }
  if (r.content_length && !r.body.empty() && !has_te && !has_length)
    out += fmt::format("Content-Length: {}\r\n", r.body.size());
  out += "\r\n";
  out += r.body;
  return out;
}

std::string chunked(const std::vector<std::string>& pieces, std::string_view trailer) {
  std::string out;
  for (const auto& p : pieces) out += fmt::format("{:x}\r\n{}\r\n", p.size(), p);
  out += "0\r\n";
  out += trailer;
  out += "\r\n";
  return out;
}

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return h.value;
  return "";
}

ParseState parse_response(std::string_view data, bool head, bool eof, HttpResponse& out, size_t& consumed) {
  out = HttpResponse{};
  size_t nl = line_end(data, 0);
  if (nl == std::string_view::npos) {
    if (data.size() >= 5 && !data.starts_with("HTTP/")) return ParseState::Invalid;
    return eof && !data.empty() ? ParseState::Invalid : ParseState::Incomplete;
  }
  std::string_view status_line = trim(data.substr(0, nl));
  if (!status_line.starts_with("HTTP/")) return ParseState::Invalid;
  auto sp = status_line.find(' ');
  if (sp == std::string_view::npos) return ParseState::Invalid;
  out.version = std::string(status_line.substr(0, sp));
  std::string_view rest = status_line.substr(sp + 1);
  if (rest.size() < 3 || !std::isdigit(static_cast<unsigned char>(rest[0]))) return ParseState::Invalid;
  out.status = std::atoi(std::string(rest.substr(0, 3)).c_str());
  out.reason = rest.size() > 4 ? std::string(rest.substr(4)) : "";
  size_t at = nl + 1;
  for (;;) {
    size_t e = line_end(data, at);
    if (e == std::string_view::npos) return eof ? ParseState::Invalid : ParseState::Incomplete;
    std::string_view line = trim(data.substr(at, e - at));
    at = e + 1;
    if (line.empty()) break;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;  // tolerated, as clients do
    out.headers.push_back(
        {std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1)))});
  }
  // No body: HEAD, 1xx, 204, 304.
  if (head || out.status / 100 == 1 || out.status == 204 || out.status == 304) {
    consumed = at;
    return ParseState::Complete;
  }
  if (iequals(out.header("Transfer-Encoding"), "chunked")) {
    size_t end = 0;
    auto st = dechunk(data, at, out.body, end);
    if (st == ParseState::Complete) consumed = end;
    if (st == ParseState::Incomplete && eof) return ParseState::Invalid;
    return st;
  }
  std::string length = out.header("Content-Length");
  if (!length.empty()) {
    unsigned long long n = std::strtoull(length.c_str(), nullptr, 10);
    if (data.size() - at < n) return eof ? ParseState::Invalid : ParseState::Incomplete;
    out.body = std::string(data.substr(at, n));
    consumed = at + n;
    return ParseState::Complete;
  }
  // The body ends with the connection.
  if (!eof) return ParseState::Incomplete;
  out.body = std::string(data.substr(at));
  consumed = data.size();
  return ParseState::Complete;
}

Result<HttpConnection> HttpConnection::open(int netns_fd, const Listener& listener,
                                            std::chrono::milliseconds timeout) {
  Error last{fmt::format("no loopback address reaches port {}", listener.port), ECONNREFUSED};
  for (auto where : listener.reach) {
    auto fd = sys::connect_in_netns(netns_fd, listener.port, timeout, where);
    if (fd) return HttpConnection(std::move(*fd), listener.port);
    last = fd.error();
  }
  return last;
}

Status HttpConnection::send(std::string_view bytes, Clock::time_point deadline) {
  return sys::send_all(fd_.get(), bytes, deadline);
}

Result<HttpResponse> HttpConnection::read_response(bool head, Clock::time_point deadline, bool want_interim) {
  for (;;) {
    HttpResponse r;
    size_t consumed = 0;
    auto st = parse_response(buffer_, head, eof_, r, consumed);
    if (st == ParseState::Invalid) return Error{fmt::format("not an HTTP response: {:.40}", buffer_), EPROTO};
    if (st == ParseState::Complete) {
      buffer_.erase(0, consumed);
      if (r.status / 100 == 1 && r.status != 101 && !want_interim) continue;
      return r;
    }
    if (eof_) return Error{"the connection ended before a response", ECONNRESET};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return Error{"no complete response in time", ETIMEDOUT};
    auto got = sys::receive(fd_.get(), 65536, left);
    if (!got) return got.error();
    if (got->eof) eof_ = true;
    buffer_ += got->data;
  }
}

std::string HttpConnection::drain(std::chrono::milliseconds idle, Clock::time_point deadline) {
  std::string out = std::move(buffer_);
  buffer_.clear();
  while (!eof_) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    auto got = sys::receive(fd_.get(), 65536, std::min(left, idle));
    if (!got || got->timed_out) break;
    if (got->eof) eof_ = true;
    out += got->data;
  }
  return out;
}

void HttpConnection::reset() { sys::reset_connection(std::move(fd_)); }

Status HttpConnection::shutdown_write() { return sys::shutdown_write(fd_.get()); }

Result<HttpResponse> http_exchange(int netns_fd, const Listener& listener, const HttpRequest& request,
                                   Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  auto conn = HttpConnection::open(netns_fd, listener, std::max(left, std::chrono::milliseconds(1)));
  if (!conn) return conn.error();
  if (auto st = conn->send(to_wire(request, listener.port), deadline); !st) return st.error();
  return conn->read_response(request.method == "HEAD", deadline);
}

bool looks_like_http(std::string_view bytes) {
  return bytes.starts_with("HTTP/1.") || bytes.starts_with("HTTP/2") || bytes.starts_with("HTTP/0.9");
}

}  // namespace sandmine::explore::generate
