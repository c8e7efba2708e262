#include "engine/ulimit.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <limits>

namespace sandmine::engine {

namespace {

// Docker's --ulimit types (go-units); Podman takes the same, and each is an
// OCI RLIMIT_<TYPE> runc sets.
constexpr std::array<std::string_view, 15> kTypes = {"core",    "cpu",      "data",   "fsize",      "locks",
                                                     "memlock", "msgqueue", "nice",   "nofile",     "nproc",
                                                     "rss",     "rtprio",   "rttime", "sigpending", "stack"};

std::string known_types() {
  std::string out;
  for (auto t : kTypes) out += (out.empty() ? "" : ", ") + std::string(t);
  return out;
}

// A whole number Docker and Podman can take (they parse an int64).
bool parse_limit(std::string_view s, std::uint64_t& out) {
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() &&
         out <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
}

}  // namespace

std::string to_string(const Ulimit& limit) {
  return limit.type + "=" + std::to_string(limit.soft) + ":" + std::to_string(limit.hard);
}

std::string oci_rlimit_type(const Ulimit& limit) {
  std::string out = "RLIMIT_";
  for (char c : limit.type) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

Result<Ulimit> parse_ulimit(std::string_view text) {
  std::string at = "--ulimit " + std::string(text) + ": ";
  auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0)
    return Error{at + "expected TYPE=SOFT:HARD, like nofile=1024:1024", EINVAL};
  Ulimit limit{.type = std::string(text.substr(0, eq))};
  if (std::find(kTypes.begin(), kTypes.end(), limit.type) == kTypes.end())
    return Error{at + "unknown type " + limit.type + " (one of " + known_types() + ")", EINVAL};
  std::string_view values = text.substr(eq + 1);
  auto colon = values.find(':');
  std::string_view soft = values.substr(0, colon);
  std::string_view hard = colon == std::string_view::npos ? soft : values.substr(colon + 1);
  if (!parse_limit(soft, limit.soft) || !parse_limit(hard, limit.hard))
    return Error{at + "expected TYPE=SOFT:HARD with whole numbers, like nofile=1024:1024", EINVAL};
  if (limit.soft > limit.hard)
    return Error{at + "the soft limit " + std::to_string(limit.soft) + " is above the hard limit " +
                     std::to_string(limit.hard),
                 EINVAL};
  return limit;
}

Result<std::vector<Ulimit>> parse_ulimits(const std::vector<std::string>& texts) {
  std::vector<Ulimit> out;
  for (const auto& text : texts) {
    auto limit = parse_ulimit(text);
    if (!limit) return limit.error();
    for (const auto& earlier : out)
      if (earlier.type == limit->type)
        return Error{
            "--ulimit " + text + ": " + limit->type + " is already given (" + to_string(earlier) + ")",
            EINVAL};
    out.push_back(std::move(*limit));
  }
  return out;
}

std::vector<Ulimit> with_defaults(const std::vector<Ulimit>& defaults, const std::vector<Ulimit>& given) {
  auto find = [](const std::vector<Ulimit>& in, const std::string& type) {
    return std::find_if(in.begin(), in.end(), [&](const Ulimit& u) { return u.type == type; });
  };
  std::vector<Ulimit> out;
  for (const auto& d : defaults) {
    auto it = find(given, d.type);
    out.push_back(it == given.end() ? d : *it);
  }
  for (const auto& g : given)
    if (find(defaults, g.type) == defaults.end()) out.push_back(g);
  return out;
}

}  // namespace sandmine::engine
