#include "spec/spec.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <regex>
#include <sstream>

#include "sys/files.h"
#include "util/json.h"

namespace sandmine::spec {

namespace {

// A node of the document together with what an error about it names: the
// field path ("explore[3].timeout") and the 1-based line.
struct Field {
  Field(const YAML::Node& n, std::string p, int l) : node(n), path(std::move(p)), line(l) {}
  Field(const Field&) = default;
  // Assigning to a YAML::Node that already refers to a node rewrites the
  // document it belongs to, so a Field is only ever constructed.
  Field& operator=(const Field&) = delete;

  YAML::Node node;
  std::string path;
  int line;
};

// The fields of a mapping, already checked for unknown and repeated names.
struct Fields {
  Field self;
  std::map<std::string, Field, std::less<>> by_name;

  const Field* get(std::string_view name) const {
    auto it = by_name.find(name);
    return it == by_name.end() ? nullptr : &it->second;
  }
};

// One key and value of a mapping.
struct Entry {
  std::string key;
  int key_line;
  Field value;
};

constexpr std::string_view kTopFields[] = {"name",    "image", "command", "args",     "env",   "user",
                                           "workdir", "ready", "explore", "validate", "bench", "stop"};
constexpr std::string_view kImageKinds[] = {"debian", "rootfs", "busybox", "ref", "oci", "archive"};
constexpr std::string_view kProbeKinds[] = {"tcp", "http", "exec", "log"};
constexpr std::string_view kStepActions[] = {"run", "exec", "signal", "restart", "sleep"};
constexpr std::string_view kStepFields[] = {"name",    "run",   "exec",    "signal",
                                            "restart", "sleep", "timeout", "expect"};
// Explore steps may also be generated.
constexpr std::string_view kRestartFields[] = {"signal"};
constexpr std::string_view kExploreActions[] = {"run", "exec", "signal", "restart", "sleep", "auto"};
constexpr std::string_view kExploreStepFields[] = {"name",  "run",     "exec",   "signal", "restart",
                                                   "sleep", "timeout", "expect", "auto"};
constexpr std::string_view kAutoFields[] = {"budget",    "quiet", "step_timeout", "parts",
                                            "max_pages", "seed",  "health"};
constexpr std::string_view kAutoParts[] = {"lifecycle", "http", "tcp", "edges"};
// Bench steps also say where their throughput is in their output.
constexpr std::string_view kBenchStepFields[] = {"name",  "run",     "exec",   "signal", "restart",
                                                 "sleep", "timeout", "expect", "metric"};
// mmdebstrap(1), --variant.
constexpr std::string_view kDebianVariants[] = {"extract",     "custom",  "essential", "apt",
                                                "required",    "minbase", "buildd",    "important",
                                                "debootstrap", "-",       "standard"};

constexpr long long kMaxDurationMs = 24LL * 60 * 60 * 1000;

int line_of(const YAML::Node& node, int fallback) {
  YAML::Mark mark = node.Mark();
  return mark.is_null() ? fallback : mark.line + 1;
}

std::string member(const std::string& parent, std::string_view name) {
  return parent.empty() ? std::string(name) : parent + "." + std::string(name);
}

std::string element(const std::string& parent, size_t i) { return parent + "[" + std::to_string(i) + "]"; }

std::string in_quotes(std::string_view s) { return "\"" + std::string(s) + "\""; }

Error error_at(const std::string& file, int line, const std::string& what) {
  return Error{one_line("spec " + file + ":" + std::to_string(line) + ": " + what), EINVAL};
}

template <class Names>
std::string one_of(const Names& names) {
  if (std::size(names) == 1) return std::string(*std::begin(names));
  std::string out = "one of ";
  bool first = true;
  for (std::string_view n : names) {
    if (!first) out += ", ";
    out += n;
    first = false;
  }
  return out;
}

template <class Names>
bool contains(const Names& names, std::string_view name) {
  for (std::string_view n : names)
    if (n == name) return true;
  return false;
}

// The names among `names` that m has, in the order of `names`.
template <class Names>
std::vector<std::string_view> present(const Fields& m, const Names& names) {
  std::vector<std::string_view> out;
  for (std::string_view n : names)
    if (m.get(n)) out.push_back(n);
  return out;
}

bool has_space_or_control(std::string_view s) {
  for (unsigned char c : s)
    if (std::isspace(c) || std::iscntrl(c)) return true;
  return false;
}

// A name that is also a valid Docker image name component (the name becomes
// sandmine/<name>:<hash>): runs of a-z0-9 joined by '.', '_', '__' or one or
// more '-'.
bool valid_spec_name(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  for (size_t i = 1; i < s.size(); ++i) {
    char c = s[i], prev = s[i - 1];
    if (alnum(c)) continue;
    if (c != '.' && c != '_' && c != '-') return false;
    if (alnum(prev)) continue;
    bool dashes = c == '-' && prev == '-';
    bool double_underscore = c == '_' && prev == '_' && (i < 2 || s[i - 2] != '_');
    if (!dashes && !double_underscore) return false;
  }
  return true;
}

// A decimal integer, the whole text and nothing else.
std::optional<long long> decimal(std::string_view s) {
  long long v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// "HUP", "SIGHUP", "hup" or "1" (1..64); names come from the C library.
std::optional<int> signal_number(std::string_view s) {
  if (!s.empty() && std::isdigit(static_cast<unsigned char>(s[0]))) {
    auto n = decimal(s);
    if (n && *n >= 1 && *n <= 64) return static_cast<int>(*n);
    return std::nullopt;
  }
  std::string upper;
  for (char c : s) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string_view name = upper;
  if (name.starts_with("SIG")) name.remove_prefix(3);
  if (name.empty()) return std::nullopt;
  for (int i = 1; i <= 64; ++i) {
    const char* abbrev = sigabbrev_np(i);
    if (abbrev && name == abbrev) return i;
  }
  return std::nullopt;
}

// An absolute path inside the image that cannot climb out of it.
bool valid_image_path(std::string_view p) {
  if (!p.starts_with('/') || p == "/" || p.find('\0') != std::string_view::npos) return false;
  for (const auto& part : std::filesystem::path(p))
    if (part == "..") return false;
  return true;
}

class Parser {
 public:
  explicit Parser(const std::string& file) : file_(file) {}

  Result<Spec> spec(const Field& top) const;

 private:
  Error fail(int line, const std::string& path, const std::string& what) const {
    return error_at(file_, line, (path.empty() ? "top level" : path) + ": " + what);
  }
  Error fail(const Field& f, const std::string& what) const { return fail(f.line, f.path, what); }

  Result<std::vector<Entry>> entries(const Field& f, const std::string& expected,
                                     bool keys_are_fields = true) const;
  template <class Names>
  Result<Fields> fields(const Field& f, const Names& known, const std::string& expected,
                        const std::string& noun = "field") const;
  Result<Field> required(const Fields& m, std::string_view name) const;

  Status text(const Field& f, std::string& out, const std::string& expected = "expected a string",
              bool any_bytes = false) const;
  Status nonempty_text(const Field& f, std::string& out) const;
  Status integer(const Field& f, long long lo, long long hi, const std::string& expected, int& out) const;
  Status duration(const Field& f, Duration& out) const;
  Status signal(const Field& f, int& out) const;
  Status strings(const Field& f, std::vector<std::string>& out) const;
  Status argv(const Field& f, std::vector<std::string>& out) const;

  Status image(const Field& f, Image& out) const;
  Status debian(const Field& f, DebianImage& out) const;
  Status rootfs(const Field& f, RootfsImage& out) const;
  Status path_beside_spec(const Field& f, std::string& out) const;
  Status oci(const Field& f, OciImage& out) const;
  Status busybox(const Field& f, BusyboxImage& out) const;
  Status env(const Field& f, std::map<std::string, std::string>& out) const;
  Status user(const Field& f, bool names, std::string& out) const;
  Status ready(const Field& f, ReadyProbe& out) const;
  Status metric(const Field& f, Metric& out) const;
  Status auto_explore(const Field& f, AutoExplore& out) const;
  enum class List { Explore, Validate, Bench };
  Status step(const Field& f, const std::string& default_name, List list, Step& out) const;
  Status steps(const Field& f, bool at_least_one, List list, std::vector<Step>& out) const;
  Status stop(const Field& f, Stop& out) const;

  const std::string& file_;
};

Result<std::vector<Entry>> Parser::entries(const Field& f, const std::string& expected,
                                           bool keys_are_fields) const {
  if (!f.node.IsMap()) return fail(f, expected);
  std::vector<Entry> out;
  std::map<std::string, int> first_line;
  for (auto it = f.node.begin(); it != f.node.end(); ++it) {
    int key_line = line_of(it->first, f.line);
    if (!it->first.IsScalar()) return fail(key_line, f.path, "names must be plain strings");
    std::string key = it->first.Scalar();
    std::string path = keys_are_fields ? member(f.path, key) : f.path + "[" + in_quotes(key) + "]";
    auto [seen, fresh] = first_line.emplace(key, key_line);
    if (!fresh)
      return fail(key_line, path, "given twice (first on line " + std::to_string(seen->second) + ")");
    // An empty value is a null node marked where the next token starts; the key's line is where it is.
    int value_line = it->second.IsNull() ? key_line : line_of(it->second, key_line);
    out.push_back(Entry{key, key_line, Field(it->second, path, value_line)});
  }
  return out;
}

template <class Names>
Result<Fields> Parser::fields(const Field& f, const Names& known, const std::string& expected,
                              const std::string& noun) const {
  auto list = entries(f, expected);
  if (!list) return list.error();
  Fields out{f, {}};
  for (auto& e : *list) {
    if (!contains(known, e.key))
      return fail(e.key_line, e.value.path, "unknown " + noun + " (expected " + one_of(known) + ")");
    out.by_name.emplace(e.key, e.value);
  }
  return out;
}

Result<Field> Parser::required(const Fields& m, std::string_view name) const {
  if (const Field* f = m.get(name)) return *f;
  return fail(m.self.line, member(m.self.path, name), "required field is missing");
}

Status Parser::text(const Field& f, std::string& out, const std::string& expected, bool any_bytes) const {
  if (!f.node.IsScalar()) return fail(f, expected);
  out = f.node.Scalar();
  // Strings go into JSON (trace.json, runc's config.json, Docker's API), which holds only UTF-8.
  if (!any_bytes && !valid_utf8(out)) return fail(f, "not valid UTF-8 text");
  return {};
}

Status Parser::nonempty_text(const Field& f, std::string& out) const {
  if (Status st = text(f, out); !st) return st;
  if (out.empty()) return fail(f, "must not be empty");
  return {};
}

Status Parser::integer(const Field& f, long long lo, long long hi, const std::string& expected,
                       int& out) const {
  std::optional<long long> n;
  if (f.node.IsScalar()) n = decimal(f.node.Scalar());
  if (!n || *n < lo || *n > hi) return fail(f, expected);
  out = static_cast<int>(*n);
  return {};
}

Status Parser::duration(const Field& f, Duration& out) const {
  const std::string expected = "expected a duration like 10s";
  if (!f.node.IsScalar()) return fail(f, expected);
  std::string_view s = f.node.Scalar();
  size_t digits = 0;
  while (digits < s.size() && std::isdigit(static_cast<unsigned char>(s[digits]))) ++digits;
  std::string_view unit = s.substr(digits);
  long long ms_per_unit = unit == "ms" ? 1 : unit == "m" ? 60'000 : (unit == "s" || unit.empty()) ? 1000 : 0;
  auto n = decimal(s.substr(0, digits));
  if (ms_per_unit == 0 || !n || *n <= 0) return fail(f, expected);
  // A day at most: waits are poll(2) timeouts in int milliseconds, and nothing waits longer.
  if (*n > kMaxDurationMs / ms_per_unit) return fail(f, "expected a duration of at most a day (1440m)");
  out = Duration(*n * ms_per_unit);
  return {};
}

Status Parser::signal(const Field& f, int& out) const {
  const std::string forms = "a name like HUP or SIGTERM, or a number 1..64";
  if (!f.node.IsScalar()) return fail(f, "expected a signal: " + forms);
  std::optional<int> n = signal_number(f.node.Scalar());
  if (!n) return fail(f, "unknown signal " + in_quotes(f.node.Scalar()) + "; use " + forms);
  out = *n;
  return {};
}

Status Parser::strings(const Field& f, std::vector<std::string>& out) const {
  if (f.node.IsScalar())
    return fail(f, "use a list of strings like [program, arg, ...], not a single string");
  if (!f.node.IsSequence()) return fail(f, "expected a list of strings");
  if (f.node.size() == 0) return fail(f, "must not be empty");
  out.clear();
  for (size_t i = 0; i < f.node.size(); ++i) {
    Field item(f.node[i], element(f.path, i), line_of(f.node[i], f.line));
    std::string s;
    if (Status st = text(item, s); !st) return st;
    out.push_back(std::move(s));
  }
  return {};
}

Status Parser::argv(const Field& f, std::vector<std::string>& out) const {
  if (Status st = strings(f, out); !st) return st;
  if (out[0].empty())
    return fail(line_of(f.node[0], f.line), element(f.path, 0), "the program must not be empty");
  return {};
}

Status Parser::image(const Field& f, Image& out) const {
  auto m = fields(f, kImageKinds, "expected a mapping with " + one_of(kImageKinds), "image kind");
  if (!m) return m.error();
  auto kinds = present(*m, kImageKinds);
  if (kinds.empty()) return fail(f, "expected " + one_of(kImageKinds));
  if (kinds.size() > 1)
    return fail(f, "more than one image kind (" + std::string(kinds[0]) + " and " + std::string(kinds[1]) +
                       "); give exactly one");
  const Field& kind = *m->get(kinds[0]);
  if (kinds[0] == "debian") {
    DebianImage d;
    if (Status st = debian(kind, d); !st) return st;
    out = std::move(d);
  } else if (kinds[0] == "rootfs") {
    RootfsImage r;
    if (Status st = rootfs(kind, r); !st) return st;
    out = std::move(r);
  } else if (kinds[0] == "busybox") {
    BusyboxImage b;
    if (Status st = busybox(kind, b); !st) return st;
    out = std::move(b);
  } else if (kinds[0] == "ref") {
    RefImage r;
    if (Status st = nonempty_text(kind, r.ref); !st) return st;
    if (has_space_or_control(r.ref)) return fail(kind, "an image reference has no spaces");
    out = std::move(r);
  } else if (kinds[0] == "oci") {
    OciImage o;
    if (Status st = oci(kind, o); !st) return st;
    out = std::move(o);
  } else {
    ArchiveImage a;
    if (Status st = path_beside_spec(kind, a.path); !st) return st;
    out = std::move(a);
  }
  return {};
}

// A path as written, relative to the spec's folder, made absolute.
Status Parser::path_beside_spec(const Field& f, std::string& out) const {
  std::string given;
  if (Status st = nonempty_text(f, given); !st) return st;
  std::filesystem::path p = std::filesystem::path(file_).parent_path() / given;
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(p, ec);
  if (ec) return fail(f, "cannot resolve " + in_quotes(given) + ": " + ec.message());
  out = abs.lexically_normal().string();
  return {};
}

// "oci: DIR" or "oci: {path: DIR, tag: TAG}".
Status Parser::oci(const Field& f, OciImage& out) const {
  if (f.node.IsScalar()) return path_beside_spec(f, out.dir);
  constexpr std::string_view known[] = {"path", "tag"};
  auto m = fields(f, known, "expected a layout directory, or a mapping with path (and optionally tag)");
  if (!m) return m.error();
  auto path = required(*m, "path");
  if (!path) return path.error();
  if (Status st = path_beside_spec(*path, out.dir); !st) return st;
  if (const Field* tag = m->get("tag")) {
    if (Status st = nonempty_text(*tag, out.tag); !st) return st;
    if (has_space_or_control(out.tag) || out.tag.find(':') != std::string::npos)
      return fail(*tag, "a tag has no spaces or colons");
  }
  return {};
}

Status Parser::debian(const Field& f, DebianImage& out) const {
  constexpr std::string_view known[] = {"suite", "packages", "variant"};
  auto m = fields(f, known, "expected a mapping with packages (and optionally suite, variant)");
  if (!m) return m.error();
  if (const Field* suite = m->get("suite")) {
    if (Status st = nonempty_text(*suite, out.suite); !st) return st;
    if (has_space_or_control(out.suite)) return fail(*suite, "a suite name has no spaces");
  }
  auto packages = required(*m, "packages");
  if (!packages) return packages.error();
  if (Status st = strings(*packages, out.packages); !st) return st;
  const YAML::Node& list = packages->node;
  for (size_t i = 0; i < out.packages.size(); ++i) {
    const std::string& p = out.packages[i];
    // mmdebstrap --include splits on commas and spaces.
    if (p.empty() || has_space_or_control(p) || p.find(',') != std::string::npos)
      return fail(line_of(list[i], packages->line), element(packages->path, i),
                  in_quotes(p) + " is not a package name");
  }
  if (const Field* variant = m->get("variant")) {
    if (Status st = text(*variant, out.variant); !st) return st;
    if (!contains(kDebianVariants, out.variant))
      return fail(*variant, "unknown mmdebstrap variant " + in_quotes(out.variant) + " (expected " +
                                one_of(kDebianVariants) + ")");
  }
  return {};
}

Status Parser::rootfs(const Field& f, RootfsImage& out) const { return path_beside_spec(f, out.tarball); }

Status Parser::busybox(const Field& f, BusyboxImage& out) const {
  constexpr std::string_view known[] = {"files"};
  auto m = fields(f, known, "expected a mapping (busybox: {} for no files)");
  if (!m) return m.error();
  const Field* files = m->get("files");
  if (!files) return {};
  auto list = entries(*files, "expected a mapping of absolute paths to contents", false);
  if (!list) return list.error();
  for (const auto& e : *list) {
    if (!valid_image_path(e.key))
      return fail(e.value, "expected an absolute path in the image, without .. components");
    if (Status st = text(e.value, out.files[e.key], "expected the file's content as a string", true); !st)
      return st;
  }
  return {};
}

Status Parser::env(const Field& f, std::map<std::string, std::string>& out) const {
  auto list = entries(f, "expected a mapping of names to values");
  if (!list) return list.error();
  for (const auto& e : *list) {
    if (e.key.empty() || e.key.find('=') != std::string::npos || e.key.find('\0') != std::string::npos)
      return fail(e.value, "not a variable name (names are non-empty and have no '=')");
    if (Status st = text(e.value, out[e.key], "expected a string (write \"\" for an empty value)"); !st)
      return st;
  }
  return {};
}

Status Parser::user(const Field& f, bool names, std::string& out) const {
  const std::string expected =
      names ? "expected \"user\", \"user:group\", \"uid\" or \"uid:gid\" (ids 0 to 2147483647, what runc "
              "takes), like \"app\" or \"101:101\""
            : "expected \"uid\" or \"uid:gid\" in digits, each 0 to 2147483647 (what runc takes), like "
              "\"101:101\" "
              "(names need an image with its own config: ref, oci or archive)";
  if (Status st = text(f, out, expected); !st) return st;
  // A name as /etc/passwd and /etc/group hold it: no ':', no spaces.
  auto name_ok = [&](std::string_view s) {
    return names && !s.empty() && s.size() <= 256 && !has_space_or_control(s) &&
           s.find(':') == std::string_view::npos;
  };
  auto id_ok = [&](std::string_view s) {
    if (s.empty() || s.size() > 10) return false;
    for (char c : s)
      if (c < '0' || c > '9') return false;
    // runc refuses ids above INT32_MAX ("uids and gids must be in range
    // 0-2147483647"), and so Docker and Podman, which run containers with it.
    return std::stoull(std::string(s)) <= 2147483647ULL;
  };
  auto part_ok = [&](std::string_view s) {
    bool digits = !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
    return digits ? id_ok(s) : name_ok(s);
  };
  std::string_view s = out;
  size_t colon = s.find(':');
  bool ok = colon == std::string_view::npos ? part_ok(s)
                                            : part_ok(s.substr(0, colon)) && part_ok(s.substr(colon + 1));
  if (!ok) return fail(f, expected);
  return {};
}

Status Parser::ready(const Field& f, ReadyProbe& out) const {
  constexpr std::string_view known[] = {"tcp", "http", "exec", "log", "timeout"};
  auto m = fields(f, known, "expected a mapping with " + one_of(kProbeKinds) + " (and optionally timeout)");
  if (!m) return m.error();
  out.line = f.line;
  auto kinds = present(*m, kProbeKinds);
  if (kinds.empty()) return fail(f, "expected " + one_of(kProbeKinds));
  if (kinds.size() > 1)
    return fail(f, "more than one probe (" + std::string(kinds[0]) + " and " + std::string(kinds[1]) +
                       "); give exactly one");
  const Field& probe = *m->get(kinds[0]);
  const std::string port_expected = "expected a port 1..65535";
  if (kinds[0] == "tcp") {
    out.kind = ReadyProbe::Kind::Tcp;
    if (Status st = integer(probe, 1, 65535, port_expected, out.port); !st) return st;
  } else if (kinds[0] == "http") {
    out.kind = ReadyProbe::Kind::Http;
    constexpr std::string_view http_known[] = {"port", "path"};
    auto h = fields(probe, http_known, "expected a mapping with port (and optionally path)");
    if (!h) return h.error();
    auto port = required(*h, "port");
    if (!port) return port.error();
    if (Status st = integer(*port, 1, 65535, port_expected, out.port); !st) return st;
    if (const Field* path = h->get("path")) {
      if (Status st = text(*path, out.path); !st) return st;
      if (!out.path.starts_with('/') || has_space_or_control(out.path))
        return fail(*path, "expected a URL path starting with /");
    }
  } else if (kinds[0] == "exec") {
    out.kind = ReadyProbe::Kind::Exec;
    if (Status st = argv(probe, out.exec); !st) return st;
  } else {
    out.kind = ReadyProbe::Kind::Log;
    if (Status st = nonempty_text(probe, out.log); !st) return st;
    try {
      std::regex check(out.log);
    } catch (const std::regex_error& e) {
      return fail(probe, "not a valid regular expression: " + std::string(e.what()));
    }
  }
  if (const Field* timeout = m->get("timeout")) {
    if (Status st = duration(*timeout, out.timeout); !st) return st;
  }
  return {};
}

Status Parser::metric(const Field& f, Metric& out) const {
  constexpr std::string_view known[] = {"regex", "unit"};
  auto m = fields(
      f, known,
      "expected a mapping with regex and unit, like {regex: 'Requests/sec: *([0-9.]+)', unit: requests/s}");
  if (!m) return m.error();
  out.line = f.line;
  auto regex = required(*m, "regex");
  if (!regex) return regex.error();
  if (Status st = nonempty_text(*regex, out.regex); !st) return st;
  try {
    std::regex check(out.regex);
    if (check.mark_count() == 0)
      return fail(*regex,
                  "no capture group: put parentheses around the number, like 'Requests/sec: *([0-9.]+)'");
  } catch (const std::regex_error& e) {
    return fail(*regex, "not a valid regular expression: " + std::string(e.what()));
  }
  auto unit = required(*m, "unit");
  if (!unit) return unit.error();
  if (Status st = nonempty_text(*unit, out.unit); !st) return st;
  for (unsigned char c : out.unit)
    if (std::iscntrl(c)) return fail(*unit, "a unit is one line of printable text");
  return {};
}

Status Parser::step(const Field& f, const std::string& default_name, List list, Step& out) const {
  const bool bench = list == List::Bench, explore = list == List::Explore;
  // Generated steps are exploration: what validate and bench run is the same at every run.
  if (!explore && f.node.IsMap()) {
    const YAML::Node& node = f.node;  // const: a lookup must not add the key
    if (const YAML::Node generated = node["auto"])
      return fail(line_of(generated, f.line), member(f.path, "auto"),
                  "auto steps belong in explore: validate and bench steps are the same at every run");
  }
  const std::string expected =
      "expected a step: a mapping with " + (explore ? one_of(kExploreActions) : one_of(kStepActions));
  auto m = bench     ? fields(f, kBenchStepFields, expected)
           : explore ? fields(f, kExploreStepFields, expected)
                     : fields(f, kStepFields, expected);
  if (!m) return m.error();
  out.line = f.line;
  auto actions = present(*m, kExploreActions);
  if (actions.empty())
    return fail(f, "no action; a step has " + (explore ? one_of(kExploreActions) : one_of(kStepActions)));
  if (actions.size() > 1)
    return fail(f, "more than one action (" + std::string(actions[0]) + " and " + std::string(actions[1]) +
                       "); a step has exactly one");
  out.name = default_name;
  if (const Field* name = m->get("name")) {
    if (Status st = nonempty_text(*name, out.name); !st) return st;
    for (unsigned char c : out.name)
      if (std::iscntrl(c)) return fail(*name, "a step name is one line of printable text");
  }
  const Field& action = *m->get(actions[0]);
  if (actions[0] == "run") {
    out.kind = Step::Kind::Run;
    if (Status st = text(action, out.run, "expected a shell command as a string"); !st) return st;
    if (out.run.empty()) return fail(action, "must not be empty");
  } else if (actions[0] == "exec") {
    out.kind = Step::Kind::Exec;
    if (Status st = argv(action, out.exec); !st) return st;
  } else if (actions[0] == "signal") {
    out.kind = Step::Kind::Signal;
    if (Status st = signal(action, out.signal); !st) return st;
  } else if (actions[0] == "restart") {
    out.kind = Step::Kind::Restart;
    const std::string expected_restart = "expected true or {signal: SIG}";
    if (action.node.IsMap()) {
      // {signal: SIG}: stopped with that signal instead of the spec's stop signal
      auto r = fields(action, kRestartFields, expected_restart);
      if (!r) return r.error();
      auto sig = required(*r, "signal");
      if (!sig) return sig.error();
      if (Status st = signal(*sig, out.restart_signal); !st) return st;
    } else {
      std::string value;
      if (Status st = text(action, value, expected_restart); !st) return st;
      if (value != "true" && value != "True" && value != "TRUE") return fail(action, expected_restart);
    }
  } else if (actions[0] == "auto") {
    out.kind = Step::Kind::Auto;
    if (Status st = auto_explore(action, out.generate); !st) return st;
  } else {
    out.kind = Step::Kind::Sleep;
    if (Status st = duration(action, out.sleep); !st) return st;
  }
  if (out.kind == Step::Kind::Auto)
    for (const char* other : {"timeout", "expect"})
      if (const Field* f = m->get(other))
        return fail(*f, "an auto step has a budget, not a " + std::string(other) + " (auto: {budget: 120s})");
  if (const Field* timeout = m->get("timeout")) {
    if (Status st = duration(*timeout, out.timeout); !st) return st;
  }
  if (const Field* expect = m->get("expect")) {
    if (out.kind != Step::Kind::Run && out.kind != Step::Kind::Exec)
      return fail(*expect, "only run and exec steps have an exit status to expect");
    if (Status st = integer(*expect, 0, 255, "expected an exit status 0..255", out.expect); !st) return st;
  }
  if (const Field* metric = m->get("metric")) {
    if (out.kind != Step::Kind::Run && out.kind != Step::Kind::Exec)
      return fail(*metric, "only run and exec steps have output to take a metric from");
    Metric parsed;
    if (Status st = this->metric(*metric, parsed); !st) return st;
    out.metric = std::move(parsed);
  }
  return {};
}

Status Parser::auto_explore(const Field& f, AutoExplore& out) const {
  auto m =
      fields(f, kAutoFields, "expected a mapping like {budget: 120s, quiet: 40} (or {} for the defaults)");
  if (!m) return m.error();
  if (const Field* budget = m->get("budget")) {
    if (Status st = duration(*budget, out.budget); !st) return st;
  }
  if (const Field* quiet = m->get("quiet")) {
    if (Status st = integer(*quiet, 0, 1'000'000, "expected a number of steps 0..1000000 (0: no quiet rule)",
                            out.quiet);
        !st)
      return st;
  }
  if (const Field* step_timeout = m->get("step_timeout")) {
    if (Status st = duration(*step_timeout, out.step_timeout); !st) return st;
  }
  if (const Field* parts = m->get("parts")) {
    if (Status st = strings(*parts, out.parts); !st) return st;
    for (size_t i = 0; i < out.parts.size(); ++i) {
      if (!contains(kAutoParts, out.parts[i]))
        return fail(line_of(parts->node[i], parts->line), element(parts->path, i),
                    "unknown part " + in_quotes(out.parts[i]) + " (expected " + one_of(kAutoParts) + ")");
    }
  }
  if (const Field* max_pages = m->get("max_pages")) {
    if (Status st = integer(*max_pages, 0, 100000, "expected a number of pages 0..100000", out.max_pages);
        !st)
      return st;
  }
  if (const Field* seed = m->get("seed")) {
    if (Status st = integer(*seed, 0, 2147483647, "expected a number 0..2147483647", out.seed); !st)
      return st;
  }
  if (const Field* health = m->get("health")) {
    if (Status st = argv(*health, out.health); !st) return st;
  }
  return {};
}

Status Parser::steps(const Field& f, bool at_least_one, List list, std::vector<Step>& out) const {
  if (!f.node.IsSequence()) return fail(f, "expected a list of steps");
  if (at_least_one && f.node.size() == 0) return fail(f, "needs at least one step");
  std::map<std::string, int> first_line;
  out.clear();
  for (size_t i = 0; i < f.node.size(); ++i) {
    Field item(f.node[i], element(f.path, i), line_of(f.node[i], f.line));
    Step s;
    if (Status st = step(item, item.path, list, s); !st) return st;
    auto [first, fresh] = first_line.emplace(s.name, s.line);
    if (!fresh) {
      const YAML::Node& step_node = item.node;  // const: a lookup must not add the key
      const YAML::Node name = step_node["name"];
      int line = name ? line_of(name, item.line) : item.line;
      return fail(line, member(item.path, "name"),
                  "duplicate step name " + in_quotes(s.name) + " (first on line " +
                      std::to_string(first->second) + ")");
    }
    out.push_back(std::move(s));
  }
  return {};
}

Status Parser::stop(const Field& f, Stop& out) const {
  constexpr std::string_view known[] = {"signal", "timeout"};
  auto m = fields(f, known, "expected a mapping with signal and/or timeout");
  if (!m) return m.error();
  if (const Field* sig = m->get("signal")) {
    if (Status st = signal(*sig, out.signal); !st) return st;
    out.signal_given = true;
  }
  if (const Field* timeout = m->get("timeout")) {
    if (Status st = duration(*timeout, out.timeout); !st) return st;
  }
  return {};
}

Result<Spec> Parser::spec(const Field& top) const {
  if (top.node.IsNull()) return fail(top, "the spec is empty; it needs name, image, command and explore");
  auto m = fields(top, kTopFields, "expected a mapping of fields (name, image, command, explore, ...)");
  if (!m) return m.error();
  Spec s;
  s.file = file_;

  auto name = required(*m, "name");
  if (!name) return name.error();
  if (Status st = text(*name, s.name); !st) return st.error();
  if (!valid_spec_name(s.name))
    return fail(*name, in_quotes(s.name) +
                           " is not a valid name: 1 to 63 characters, runs of a-z and 0-9 joined by '.', "
                           "'_', '__' or '-' (it "
                           "names images: sandmine/<name>)");

  auto image = required(*m, "image");
  if (!image) return image.error();
  if (Status st = this->image(*image, s.image); !st) return st.error();

  s.image_line = image->line;
  const bool configured = has_image_config(s.image);

  // An image with a config says what to run; the others need command.
  if (const Field* command = configured ? m->get("command") : nullptr) {
    if (Status st = argv(*command, s.command); !st) return st.error();
    s.command_line = command->line;
  } else if (!configured) {
    auto required_command = required(*m, "command");
    if (!required_command) return required_command.error();
    if (Status st = argv(*required_command, s.command); !st) return st.error();
    s.command_line = required_command->line;
  }
  if (const Field* f = m->get("args")) {
    auto& args = s.args.emplace();
    // [] is allowed: no Cmd at all.
    bool none = f->node.IsSequence() && f->node.size() == 0;
    if (!none) {
      if (Status st = strings(*f, args); !st) return st.error();
    }
  }

  if (const Field* f = m->get("env")) {
    if (Status st = env(*f, s.env); !st) return st.error();
  }
  if (const Field* f = m->get("user")) {
    if (Status st = user(*f, configured, s.user); !st) return st.error();
    s.user_line = f->line;
  }
  if (const Field* f = m->get("workdir")) {
    if (Status st = text(*f, s.workdir); !st) return st.error();
    if (!s.workdir.starts_with('/')) return fail(*f, "expected an absolute path");
  }
  if (const Field* f = m->get("ready")) {
    ReadyProbe probe;
    if (Status st = ready(*f, probe); !st) return st.error();
    s.ready = std::move(probe);
  }

  auto explore = required(*m, "explore");
  if (!explore) return explore.error();
  if (Status st = steps(*explore, true, List::Explore, s.explore); !st) return st.error();
  if (const Field* f = m->get("validate")) {
    if (Status st = steps(*f, false, List::Validate, s.validate); !st) return st.error();
  }
  if (const Field* f = m->get("bench")) {
    if (Status st = steps(*f, false, List::Bench, s.bench); !st) return st.error();
  }
  if (const Field* f = m->get("stop")) {
    if (Status st = stop(*f, s.stop); !st) return st.error();
  }
  return s;
}

// Watches the documents of a stream go by: for each, where its root is and
// whether it is a null (empty) document.
class DocumentRoots : public YAML::EventHandler {
 public:
  int documents = 0;
  bool root_is_null = false;
  YAML::Mark root_mark;

  void OnDocumentStart(const YAML::Mark& mark) override {
    ++documents;
    depth_ = 0;
    root_is_null = false;
    root_mark = mark;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override {
    if (depth_ == 0) root(mark, true);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
    if (depth_ == 0) root(mark, false);
  }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t, const std::string&) override {
    if (depth_ == 0) root(mark, false);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    if (depth_++ == 0) root(mark, false);
  }
  void OnSequenceEnd() override { --depth_; }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    if (depth_++ == 0) root(mark, false);
  }
  void OnMapEnd() override { --depth_; }

 private:
  void root(const YAML::Mark& mark, bool null) {
    root_mark = mark;
    root_is_null = null;
  }
  int depth_ = 0;
};

// The spec's one document; yaml-cpp reports syntax errors by exception. Not
// YAML::LoadAll: on some invalid text (a lone ",") yaml-cpp 0.7 hands out
// empty documents forever, and LoadAll collects them until memory runs out.
// So the documents are counted here up to the second, stopping at the first
// empty one as later yaml-cpp does, and the first is loaded on its own.
Result<YAML::Node> load(std::string_view yaml, const std::string& file) {
  try {
    std::istringstream in{std::string(yaml)};
    YAML::Parser parser(in);
    DocumentRoots roots;
    while (roots.documents < 2 && parser.HandleNextDocument(roots)) {
      if (roots.root_is_null) break;
      if (roots.documents == 2)
        return error_at(file, roots.root_mark.is_null() ? 1 : roots.root_mark.line + 1,
                        "top level: more than one YAML document; a spec is one document");
    }
    return YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    int line = e.mark.is_null() ? 1 : e.mark.line + 1;
    return error_at(file, line, "YAML syntax error: " + e.msg);
  }
}

}  // namespace

Result<Spec> parse_spec(std::string_view yaml, const std::string& file) {
  auto root = load(yaml, file);
  if (!root) return root.error();
  return Parser(file).spec(Field(*root, "", line_of(*root, 1)));
}

bool has_image_config(const Image& image) {
  return std::holds_alternative<RefImage>(image) || std::holds_alternative<OciImage>(image) ||
         std::holds_alternative<ArchiveImage>(image);
}

std::optional<int> parse_signal(std::string_view s) { return signal_number(s); }

Error spec_error(const std::string& file, int line, const std::string& what) {
  return error_at(file, line, what);
}

Result<Spec> read_spec(const std::string& path) {
  auto text = sys::read_file(path);
  if (!text) return errno_error("cannot read spec " + path, text.error().errnum);
  return parse_spec(*text, path);
}

}  // namespace sandmine::spec
