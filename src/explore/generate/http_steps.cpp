#include "explore/generate/http_steps.h"

#include <fmt/format.h>

#include <ctime>
#include <thread>

#include "explore/generate/http.h"
#include "explore/generate/protocols.h"
#include "util/csv.h"

extern const char kHttpPathsCsv[];

namespace sandmine::explore::generate {

namespace {

using std::chrono::milliseconds;

// What a site answered, one line.
std::string describe(const Result<HttpResponse>& r) {
  if (!r) return "no response: " + r.error().message;
  return fmt::format("HTTP {} {} ({} bytes)", r->status, r->reason, r->body.size());
}

// Sends bytes on a fresh connection and reads up to `responses` responses
// (HEAD semantics when head); one line per response, or what went wrong.
std::string converse(Target& t, const Listener& l, const std::string& bytes, int responses, bool head,
                     Clock::time_point deadline) {
  auto conn = HttpConnection::open(t.netns_fd(), l, std::min(left(deadline), milliseconds(2000)));
  if (!conn) return "cannot connect: " + conn.error().message;
  if (auto st = conn->send(bytes, deadline); !st) return "cannot send: " + st.error().message;
  std::string out;
  for (int i = 0; i < responses; ++i) {
    auto r = conn->read_response(head, deadline);
    out += (out.empty() ? "" : "; ") + describe(r);
    if (!r) break;
  }
  return out;
}

std::string http_date(std::time_t when) {
  std::tm tm{};
  ::gmtime_r(&when, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

const Page* page_of(const Site& site, const std::string& path) {
  for (const auto& p : site.pages)
    if (p.path == path) return &p;
  return nullptr;
}

// A directory the crawl found (not the root), else "/".
std::string some_directory(const Site& site) {
  for (const auto& p : site.pages)
    if (p.status == 200 && p.path.size() > 1 && p.path.back() == '/') return p.path;
  return "/";
}

// A recipe whose body sends one request (or several) and notes the answers.
using Talk = std::function<std::string(Target&, const Listener&, Clock::time_point)>;

Recipe shape(int port, const std::string& what, Talk talk, std::shared_ptr<Discovery> d) {
  return {.name = fmt::format("auto/http:{}/{}", port, what),
          .part = "http",
          .body = [port, talk = std::move(talk), d](Target& t, Clock::time_point deadline) {
            StepOutcome o;
            const Site* site = d->site(port);
            note(o, talk(t, site->listener, deadline));
            return o;
          }};
}

// A shape that is one request on a fresh connection.
Recipe request_shape(int port, const std::string& what, HttpRequest request, std::shared_ptr<Discovery> d,
                     int responses = 1) {
  bool head = request.method == "HEAD";
  std::string wire = to_wire(request, port);
  return shape(
      port, what,
      [wire, head, responses](Target& t, const Listener& l, Clock::time_point deadline) {
        return converse(t, l, wire, responses, head, deadline);
      },
      std::move(d));
}

// A shape that is raw bytes on a fresh connection, answered by whatever comes.
Recipe raw_shape(int port, const std::string& what, std::string bytes, std::shared_ptr<Discovery> d) {
  return shape(
      port, what,
      [bytes](Target& t, const Listener& l, Clock::time_point deadline) {
        return converse(t, l, bytes, 1, false, deadline);
      },
      std::move(d));
}

HttpRequest get(const std::string& path, std::vector<Header> headers = {}) {
  return {.method = "GET", .target = path, .headers = std::move(headers)};
}

constexpr const char* kPropfind =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:propfind xmlns:D=\"DAV:\"><D:allprop/></D:propfind>\n";
constexpr const char* kProppatch =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:propertyupdate xmlns:D=\"DAV:\" xmlns:S=\"urn:sandmine\">"
    "<D:set><D:prop><S:note>sandmine</S:note></D:prop></D:set></D:propertyupdate>\n";
constexpr const char* kLockinfo =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:exclusive/>"
    "</D:lockscope><D:locktype><D:write/></D:locktype><D:owner>sandmine</D:owner></D:lockinfo>\n";

}  // namespace

std::string largest_page(const Site& site) {
  const Page* best = nullptr;
  for (const auto& p : site.pages)
    if (p.status == 200 && p.path.back() != '/' && p.path.find('?') == std::string::npos &&
        (!best || p.size > best->size))
      best = &p;
  return best ? best->path : "/";
}

Recipe probe_recipe(std::shared_ptr<Discovery> d, int port) {
  return {
      .name = fmt::format("auto/tcp:{}/probe", port),
      .part = "probe",
      .body = [d, port](Target& t, Clock::time_point deadline) {
        StepOutcome o;
        Site* site = d->site(port);
        auto conn =
            HttpConnection::open(t.netns_fd(), site->listener, std::min(left(deadline), milliseconds(2000)));
        if (!conn) {
          site->kind = Site::Kind::Other;
          note(o, "cannot connect: " + conn.error().message);
          return o;
        }
        // A server that speaks first (a greeting) is not HTTP.
        std::string banner =
            conn->drain(milliseconds(200), std::min(deadline, Clock::now() + milliseconds(200)));
        // Not HTTP: which protocol, from the banner or a harmless probe of each.
        auto identify = [&] {
          // Closed first: a server that serves one connection at a time would not answer the probes.
          { HttpConnection closed = std::move(*conn); }
          std::string tried;
          site->protocol = identify_protocol(t, site->listener, site->banner, deadline, tried);
          if (!tried.empty()) note(o, tried);
          note(o, site->protocol.empty() ? "protocol not identified" : "speaks " + site->protocol);
        };
        if (!banner.empty()) {
          site->kind = Site::Kind::Other;
          site->banner = banner;
          note(o, fmt::format("speaks first ({} bytes): not HTTP", banner.size()));
          identify();
          return o;
        }
        HttpRequest request{
            .method = "GET", .target = "/", .version = "HTTP/1.0", .headers = {{"User-Agent", "sandmine"}}};
        (void)conn->send(to_wire(request, port), deadline);
        std::string reply =
            conn->drain(milliseconds(1000), std::min(deadline, Clock::now() + milliseconds(2000)));
        site->kind = looks_like_http(reply) ? Site::Kind::Http : Site::Kind::Other;
        note(o,
             site->kind == Site::Kind::Http ? "HTTP" : fmt::format("not HTTP ({} bytes back)", reply.size()));
        if (site->kind == Site::Kind::Http) {
          site->enqueue({.path = "/"});
          // What browsers, crawlers and monitoring fetch though no page links it.
          for (const auto& path : well_known_paths()) site->enqueue({.path = path});
        } else {
          identify();
        }
        return o;
      }};
}

std::optional<Recipe> crawl_recipe(std::shared_ptr<Discovery> d, int port, int max_pages) {
  Site* site = d->site(port);
  if (!site || site->kind != Site::Kind::Http || site->frontier.empty() || site->fetched >= max_pages)
    return std::nullopt;
  CrawlItem item = site->frontier.front();
  site->frontier.pop_front();
  ++site->fetched;
  std::string what = item.method == "GET" && item.body.empty() ? "GET " + item.path
                                                               : "form " + item.method + " " + item.path;
  return Recipe{.name = fmt::format("auto/http:{}/{}", port, what),
                .part = "http",
                .body = [d, port, item](Target& t, Clock::time_point deadline) {
                  StepOutcome o;
                  Site* site = d->site(port);
                  HttpRequest request{
                      .method = item.method,
                      .target = item.path,
                      .headers = {{"User-Agent", "sandmine"}, {"Accept", "*/*"}, {"Connection", "close"}},
                      .body = item.body};
                  if (!item.body.empty())
                    request.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
                  auto r = http_exchange(t.netns_fd(), site->listener, request, deadline);
                  note(o, describe(r));
                  if (!r) return o;
                  if (item.method == "GET")  // what a POST answered is no page to send other requests to
                    site->pages.push_back({.path = item.path,
                                           .status = r->status,
                                           .size = r->body.size(),
                                           .content_type = r->header("Content-Type"),
                                           .last_modified = r->header("Last-Modified"),
                                           .etag = r->header("ETag")});
                  if (r->status / 100 == 3)
                    if (auto to = resolve(item.path, r->header("Location"))) site->enqueue({.path = *to});
                  if (r->header("Content-Type").find("html") != std::string::npos ||
                      r->body.find("<a ") != std::string::npos || r->body.find("<A ") != std::string::npos) {
                    auto links = extract_links(r->body, item.path);
                    for (const auto& l : links.links) site->enqueue({.path = l});
                    for (const auto& f : links.forms) {
                      if (std::find(site->forms.begin(), site->forms.end(), f) == site->forms.end())
                        site->forms.push_back(f);
                      std::string body = form_body(f);
                      if (f.method == "POST")
                        site->enqueue({.method = "POST", .path = f.action, .body = body});
                      else
                        site->enqueue({.path = f.action +
                                               (f.action.find('?') == std::string::npos ? "?" : "&") + body});
                    }
                  }
                  return o;
                }};
}

const std::vector<std::string>& well_known_paths() {
  static const std::vector<std::string> paths = [] {
    auto rows = parse_csv(kHttpPathsCsv, "data/http_paths.csv");
    if (!rows) throw std::logic_error(rows.error().message);  // the embedded table is tested
    std::vector<std::string> out;
    for (auto& row : *rows) out.push_back(row["path"]);
    return out;
  }();
  return paths;
}

std::vector<Recipe> shape_recipes(std::shared_ptr<Discovery> d, int port) {
  const Site* site = d->site(port);
  if (!site || site->kind != Site::Kind::Http) return {};
  const std::string file = largest_page(*site);
  const std::string dir = some_directory(*site);
  const Page* page = page_of(*site, file);
  const std::string last_modified =
      page && !page->last_modified.empty() ? page->last_modified : http_date(std::time(nullptr));
  const std::string etag = page && !page->etag.empty() ? page->etag : "\"sandmine\"";
  const std::string self = fmt::format("http://127.0.0.1:{}", port);
  std::vector<Recipe> out;
  auto add = [&](Recipe r) { out.push_back(std::move(r)); };
  auto form_type = Header{"Content-Type", "application/x-www-form-urlencoded"};
  auto xml = Header{"Content-Type", "application/xml; charset=utf-8"};

  // Every method.
  add(request_shape(port, "method GET " + file, get(file), d));
  add(request_shape(port, "method HEAD " + file, {.method = "HEAD", .target = file}, d));
  add(request_shape(port, "method POST " + file,
                    {.method = "POST", .target = file, .headers = {form_type}, .body = "sandmine=1"}, d));
  // With a Date, as clients send it: a WebDAV server may give the file that time.
  add(request_shape(
      port, "method PUT /sandmine-put.txt",
      {.method = "PUT",
       .target = "/sandmine-put.txt",
       .headers = {{"Content-Type", "text/plain"}, {"Date", http_date(std::time(nullptr) - 3600)}},
       .body = "written by sandmine\n"},
      d));
  add(request_shape(port, "method PATCH /sandmine-put.txt",
                    {.method = "PATCH",
                     .target = "/sandmine-put.txt",
                     .headers = {{"Content-Type", "text/plain"}},
                     .body = "patched\n"},
                    d));
  add(request_shape(port, "method OPTIONS " + file, {.method = "OPTIONS", .target = file}, d));
  add(request_shape(port, "method OPTIONS *", {.method = "OPTIONS", .target = "*"}, d));
  add(request_shape(port, "method TRACE " + file, {.method = "TRACE", .target = file}, d));
  add(request_shape(port, "method CONNECT",
                    {.method = "CONNECT", .target = fmt::format("127.0.0.1:{}", port)}, d));
  add(request_shape(
      port, "method PROPFIND " + dir,
      {.method = "PROPFIND", .target = dir, .headers = {{"Depth", "1"}, xml}, .body = kPropfind}, d));
  add(request_shape(port, "method PROPPATCH " + file,
                    {.method = "PROPPATCH", .target = file, .headers = {xml}, .body = kProppatch}, d));
  add(request_shape(port, "method MKCOL /sandmine-collection/",
                    {.method = "MKCOL", .target = "/sandmine-collection/"}, d));
  add(request_shape(port, "method DELETE /sandmine-collection/",
                    {.method = "DELETE", .target = "/sandmine-collection/"}, d));
  add(request_shape(port, "method COPY " + file,
                    {.method = "COPY",
                     .target = file,
                     .headers = {{"Destination", self + "/sandmine-copy"}, {"Overwrite", "T"}}},
                    d));
  add(request_shape(
      port, "method MOVE /sandmine-copy",
      {.method = "MOVE", .target = "/sandmine-copy", .headers = {{"Destination", self + "/sandmine-moved"}}},
      d));
  add(request_shape(
      port, "method LOCK " + file,
      {.method = "LOCK", .target = file, .headers = {{"Timeout", "Second-60"}, xml}, .body = kLockinfo}, d));
  add(request_shape(
      port, "method UNLOCK " + file,
      {.method = "UNLOCK", .target = file, .headers = {{"Lock-Token", "<opaquelocktoken:sandmine>"}}}, d));
  add(request_shape(port, "method DELETE /sandmine-put.txt",
                    {.method = "DELETE", .target = "/sandmine-put.txt"}, d));
  add(request_shape(port, "method SANDMINE (unknown)", {.method = "SANDMINE", .target = file}, d));

  // Conditional and range requests.
  add(request_shape(port, "conditional If-Modified-Since", get(file, {{"If-Modified-Since", last_modified}}),
                    d));
  add(request_shape(port, "conditional If-None-Match", get(file, {{"If-None-Match", etag}}), d));
  add(request_shape(port, "conditional If-Unmodified-Since (past)",
                    get(file, {{"If-Unmodified-Since", "Thu, 01 Jan 1970 00:00:01 GMT"}}), d));
  add(request_shape(port, "conditional If-Match (no match)",
                    get(file, {{"If-Match", "\"sandmine-no-match\""}}), d));
  add(request_shape(port, "range bytes=0-9", get(file, {{"Range", "bytes=0-9"}}), d));
  add(request_shape(port, "range bytes=0-0,2-3 (multipart)", get(file, {{"Range", "bytes=0-0,2-3"}}), d));
  add(request_shape(port, "range bytes=-5 (suffix)", get(file, {{"Range", "bytes=-5"}}), d));
  add(request_shape(port, "range unsatisfiable", get(file, {{"Range", "bytes=999999999-"}}), d));
  add(request_shape(port, "range If-Range", get(file, {{"Range", "bytes=1-2"}, {"If-Range", etag}}), d));
  add(request_shape(port, "compression Accept-Encoding gzip",
                    get(file, {{"Accept-Encoding", "gzip, deflate, br"}}), d));

  // Connections: keep-alive, pipelining, old versions.
  add(shape(
      port, "keep-alive 3 requests",
      [file](Target& t, const Listener& l, Clock::time_point deadline) {
        auto conn = HttpConnection::open(t.netns_fd(), l, std::min(left(deadline), milliseconds(2000)));
        if (!conn) return "cannot connect: " + conn.error().message;
        std::string out;
        for (int i = 0; i < 3; ++i) {
          if (auto st = conn->send(to_wire(get(file), l.port), deadline); !st)
            return out + "; cannot send: " + st.error().message;
          auto r = conn->read_response(false, deadline);
          out += (out.empty() ? "" : "; ") + describe(r);
          if (!r) break;
        }
        return out;
      },
      d));
  {
    std::string wire = to_wire(get(file), port) + to_wire(get("/"), port) +
                       to_wire(get(file, {{"Connection", "close"}}), port);
    add(shape(
        port, "pipelining 3 requests",
        [wire](Target& t, const Listener& l, Clock::time_point deadline) {
          return converse(t, l, wire, 3, false, deadline);
        },
        d));
  }
  add(request_shape(port, "HTTP/1.0", {.method = "GET", .target = file, .version = "HTTP/1.0", .host = false},
                    d));
  add(shape(
      port, "HTTP/1.0 keep-alive",
      [file](Target& t, const Listener& l, Clock::time_point deadline) {
        HttpRequest r{.method = "GET",
                      .target = file,
                      .version = "HTTP/1.0",
                      .headers = {{"Connection", "keep-alive"}}};
        std::string wire = to_wire(r, l.port);
        auto conn = HttpConnection::open(t.netns_fd(), l, std::min(left(deadline), milliseconds(2000)));
        if (!conn) return "cannot connect: " + conn.error().message;
        std::string out;
        for (int i = 0; i < 2; ++i) {
          if (auto st = conn->send(wire, deadline); !st) return out + "; cannot send: " + st.error().message;
          auto resp = conn->read_response(false, deadline);
          out += (out.empty() ? "" : "; ") + describe(resp);
          if (!resp) break;
        }
        return out;
      },
      d));
  add(raw_shape(port, "HTTP/0.9", "GET " + file + "\r\n", d));

  // Bodies.
  add(request_shape(port, "chunked body",
                    {.method = "POST",
                     .target = file,
                     .headers = {{"Transfer-Encoding", "chunked"}, form_type},
                     .body = chunked({"sandmine=", "chunked", "&more=1"}, "X-Sandmine: trailer\r\n")},
                    d));
  add(request_shape(port, "large body 1 MiB",
                    {.method = "POST",
                     .target = file,
                     .headers = {{"Content-Type", "application/octet-stream"}},
                     .body = std::string(1 << 20, 'x')},
                    d));
  // Uploads as clients make them (curl -T, WebDAV and S3-style clients): a
  // new file of 1 KiB, one streamed with chunked encoding (a size not known in
  // advance), and one of 4 MiB announced with Expect: 100-continue, each read
  // back and deleted; into the listed directory the crawl found (or the root).
  auto upload = [&](const std::string& what, const std::string& path, std::size_t size, bool chunked,
                    bool expect) {
    add(shape(
        port, what,
        [path, size, chunked, expect](Target& t, const Listener& l, Clock::time_point deadline) {
          std::string body(size, 'u');
          std::string head = "PUT " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(l.port) +
                             "\r\nUser-Agent: sandmine\r\nContent-Type: application/octet-stream\r\n";
          head += chunked ? std::string("Transfer-Encoding: chunked\r\n")
                          : "Content-Length: " + std::to_string(size) + "\r\n";
          if (expect) head += "Expect: 100-continue\r\n";
          head += "\r\n";
          auto conn = HttpConnection::open(t.netns_fd(), l, std::min(left(deadline), milliseconds(2000)));
          if (!conn) return "cannot connect: " + conn.error().message;
          if (auto st = conn->send(head, deadline); !st) return "cannot send: " + st.error().message;
          std::string out;
          if (expect) {
            auto interim =
                conn->read_response(false, std::min(deadline, Clock::now() + milliseconds(1000)), true);
            out = (interim ? describe(interim) : std::string("no interim response")) + "; ";
            if (interim && interim->status != 100) return out;
          }
          if (chunked) {
            for (std::size_t at = 0; at < size; at += 4096) {
              std::size_t n = std::min<std::size_t>(4096, size - at);
              (void)conn->send(fmt::format("{:x}\r\n{}\r\n", n, body.substr(at, n)), deadline);
            }
            (void)conn->send("0\r\n\r\n", deadline);
          } else {
            (void)conn->send(body, deadline);
          }
          out += "PUT " + describe(conn->read_response(false, deadline));
          out += "; GET " + describe(http_exchange(t.netns_fd(), l, get(path), deadline));
          out += "; DELETE " +
                 describe(http_exchange(t.netns_fd(), l, {.method = "DELETE", .target = path}, deadline));
          return out;
        },
        d));
  };
  upload("upload 1 KiB", dir + "sandmine-upload-small.txt", 1024, false, false);
  upload("upload chunked", dir + "sandmine-upload-stream.txt", 20000, true, false);
  upload("upload 4 MiB with Expect: 100-continue", dir + "sandmine-upload-large.bin", 4u << 20, false, true);
  add(shape(
      port, "Expect: 100-continue",
      [file](Target& t, const Listener& l, Clock::time_point deadline) {
        HttpRequest r{
            .method = "POST",
            .target = file,
            .headers = {
                {"Expect", "100-continue"}, {"Content-Type", "text/plain"}, {"Content-Length", "1024"}}};
        auto conn = HttpConnection::open(t.netns_fd(), l, std::min(left(deadline), milliseconds(2000)));
        if (!conn) return "cannot connect: " + conn.error().message;
        if (auto st = conn->send(to_wire(r, l.port), deadline); !st)
          return "cannot send: " + st.error().message;
        // The interim 100 or, when a server sends none, a second of silence.
        auto interim =
            conn->read_response(false, std::min(deadline, Clock::now() + milliseconds(1000)), true);
        std::string out = interim ? describe(interim) : "no interim response";
        if (interim && interim->status != 100) return out;
        (void)conn->send(std::string(1024, 'x'), deadline);
        return out + "; " + describe(conn->read_response(false, deadline));
      },
      d));

  // Malformed requests.
  const std::string host = fmt::format("Host: 127.0.0.1:{}\r\n", port);
  add(raw_shape(port, "malformed request line", "SANDMINE\r\n\r\n", d));
  add(raw_shape(port, "malformed version HTTP/9.9", "GET " + file + " HTTP/9.9\r\n" + host + "\r\n", d));
  add(raw_shape(port, "malformed header line", "GET " + file + " HTTP/1.1\r\n" + host + "NoColonHere\r\n\r\n",
                d));
  add(raw_shape(port, "malformed bare LF",
                "GET " + file + " HTTP/1.1\n" + host.substr(0, host.size() - 2) + "\n\n", d));
  add(raw_shape(port, "malformed NUL in target",
                std::string("GET /\0sandmine HTTP/1.1\r\n", 25) + host + "\r\n", d));
  add(raw_shape(port, "malformed Content-Length",
                "POST " + file + " HTTP/1.1\r\n" + host + "Content-Length: -1\r\n\r\nx", d));
  add(raw_shape(port, "malformed Content-Length and chunked",
                "POST " + file + " HTTP/1.1\r\n" + host +
                    "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                d));
  add(raw_shape(
      port, "malformed chunk size",
      "POST " + file + " HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\nzz\r\nx\r\n0\r\n\r\n", d));
  add(raw_shape(port, "malformed two Host headers",
                "GET " + file + " HTTP/1.1\r\n" + host + "Host: sandmine.invalid\r\n\r\n", d));

  // Oversized requests.
  add(request_shape(port, "oversized URI 64 KiB", get("/" + std::string(64 * 1024, 'a')), d));
  add(request_shape(port, "oversized header 64 KiB", get(file, {{"X-Sandmine", std::string(64 * 1024, 'b')}}),
                    d));
  {
    std::vector<Header> many;
    for (int i = 0; i < 1000; ++i) many.push_back({fmt::format("X-Sandmine-{}", i), "1"});
    add(request_shape(port, "oversized 1000 headers", get(file, std::move(many)), d));
  }

  // Slow clients.
  add(shape(
      port, "slow client",
      [file](Target& t, const Listener& l, Clock::time_point deadline) {
        std::string wire = to_wire(get(file, {{"User-Agent", "sandmine"}}), l.port);
        auto conn = HttpConnection::open(t.netns_fd(), l, std::min(left(deadline), milliseconds(2000)));
        if (!conn) return "cannot connect: " + conn.error().message;
        // A byte at a time, over at most a second and a half (or half of what is left).
        auto spread = std::min(milliseconds(1500), left(deadline) / 2);
        auto gap = spread / static_cast<long>(wire.size());
        for (char c : wire) {
          if (auto st = conn->send(std::string(1, c), deadline); !st)
            return "cannot send: " + st.error().message;
          std::this_thread::sleep_for(gap);
        }
        return describe(conn->read_response(false, deadline));
      },
      d));
  add(shape(
      port, "slow headers held open",
      [file](Target& t, const Listener& l, Clock::time_point deadline) {
        std::string wire = to_wire(get(file), l.port);
        auto conn = HttpConnection::open(t.netns_fd(), l, std::min(left(deadline), milliseconds(2000)));
        if (!conn) return "cannot connect: " + conn.error().message;
        // The request line and Host, then nothing for a second: the server's
        // header timeout (or its patience) decides.
        auto cut = wire.find("\r\n") + 2;
        if (auto st = conn->send(wire.substr(0, cut), deadline); !st)
          return "cannot send: " + st.error().message;
        std::string early = conn->drain(std::min(milliseconds(1000), left(deadline) / 2), deadline);
        if (!early.empty())
          return fmt::format("the server answered the incomplete request ({} bytes)", early.size());
        (void)conn->send(wire.substr(cut), deadline);
        return describe(conn->read_response(false, deadline));
      },
      d));

  // Many connections at once.
  add(shape(
      port, "64 concurrent connections",
      [file](Target& t, const Listener& l, Clock::time_point deadline) {
        std::vector<HttpConnection> conns;
        std::string wire = to_wire(get(file, {{"Connection", "close"}}), l.port);
        for (int i = 0; i < 64; ++i) {
          auto c = HttpConnection::open(t.netns_fd(), l, std::min(left(deadline), milliseconds(2000)));
          if (!c) break;
          conns.push_back(std::move(*c));
        }
        for (auto& c : conns) (void)c.send(wire, deadline);
        int answered = 0;
        for (auto& c : conns)
          if (c.read_response(false, deadline)) ++answered;
        return fmt::format("{} connections, {} answered", conns.size(), answered);
      },
      d));

  // Unusual paths.
  add(request_shape(port, "query string",
                    get(file + (file.find('?') == std::string::npos ? "?" : "&") + "sandmine=1&a%5B%5D=2"),
                    d));
  {
    std::string encoded =
        file.size() > 1 ? "/%" + fmt::format("{:02X}", static_cast<unsigned char>(file[1])) + file.substr(2)
                        : "/%2E";
    add(request_shape(port, "percent-encoded path", get(encoded), d));
  }
  add(request_shape(port, "dot segments", get("/./sandmine/.." + file), d));
  add(request_shape(port, "path traversal", get("/../../../../etc/passwd"), d));
  if (dir != "/") add(request_shape(port, "directory without slash", get(dir.substr(0, dir.size() - 1)), d));
  add(request_shape(port, "not found", get("/sandmine-not-found"), d));
  return out;
}

}  // namespace sandmine::explore::generate
