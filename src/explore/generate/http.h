#pragma once
// A small HTTP/1.x client on plain sockets in the container's network
// namespace: requests written byte for byte as a shape needs them (methods,
// versions, malformed lines, chunked bodies), responses parsed as they come
// (lengths, chunked bodies, interim 1xx, bodies that end with the connection).

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "explore/generate/procfs.h"
#include "sys/fd.h"
#include "util/result.h"

namespace sandmine::explore::generate {

struct Header {
  std::string name;
  std::string value;
};

/// A request. to_wire() writes it as is: nothing is added but what the
/// fields ask for.
struct HttpRequest {
  std::string method = "GET";
  std::string target = "/";
  std::string version = "HTTP/1.1";
  std::vector<Header> headers;
  std::string body;
  /// Add "Host: 127.0.0.1:<port>" first (HTTP/1.1 requires it).
  bool host = true;
  /// Add Content-Length when there is a body and no Transfer-Encoding header.
  bool content_length = true;
};

/// The bytes of request for a server on port.
std::string to_wire(const HttpRequest& request, int port);

/// A chunked body: each piece a chunk, then the last chunk and trailer.
std::string chunked(const std::vector<std::string>& pieces, std::string_view trailer = "");

/// A response.
struct HttpResponse {
  std::string version;
  int status = 0;
  std::string reason;
  std::vector<Header> headers;
  std::string body;  ///< decoded (chunked framing removed)
  /// The first header called name (any case), or "".
  std::string header(std::string_view name) const;
};

/// How parsing the front of a buffer went.
enum class ParseState { Complete, Incomplete, Invalid };

/// Parses one response at the front of data into out and sets consumed to
/// its length. head: a response to HEAD (no body whatever it says). eof: the
/// connection has ended, which completes a body without a length.
ParseState parse_response(std::string_view data, bool head, bool eof, HttpResponse& out, size_t& consumed);

/// One client connection to a listener in a network namespace.
class HttpConnection {
 public:
  /// Connects to listener (each of its loopback addresses in turn).
  static Result<HttpConnection> open(int netns_fd, const Listener& listener,
                                     std::chrono::milliseconds timeout);

  /// Sends bytes as they are.
  Status send(std::string_view bytes, std::chrono::steady_clock::time_point deadline);
  /// Reads until one response (not an interim 1xx unless want_interim) is
  /// complete, the connection ends, or deadline.
  Result<HttpResponse> read_response(bool head, std::chrono::steady_clock::time_point deadline,
                                     bool want_interim = false);
  /// Reads what arrives until the connection ends, idle passes without a
  /// byte, or deadline; returns the bytes.
  std::string drain(std::chrono::milliseconds idle, std::chrono::steady_clock::time_point deadline);
  /// Closes with a reset instead of an orderly close.
  void reset();
  /// Ends the sending side.
  Status shutdown_write();
  int fd() const { return fd_.get(); }
  int port() const { return port_; }

 private:
  HttpConnection(sys::UniqueFd fd, int port) : fd_(std::move(fd)), port_(port) {}
  sys::UniqueFd fd_;
  int port_;
  std::string buffer_;
  bool eof_ = false;
};

/// One request and its response on a fresh connection.
Result<HttpResponse> http_exchange(int netns_fd, const Listener& listener, const HttpRequest& request,
                                   std::chrono::steady_clock::time_point deadline);

/// Whether bytes start like an HTTP/1.x status line.
bool looks_like_http(std::string_view bytes);

}  // namespace sandmine::explore::generate
