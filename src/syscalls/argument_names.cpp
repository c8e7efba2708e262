#include "syscalls/argument_names.h"

#include <fmt/format.h>

#include <bit>
#include <charconv>
#include <cstdlib>
#include <iostream>
#include <map>

#include "util/csv.h"

extern const char kArgumentNamesCsv[];

namespace sandmine::syscalls {

namespace {

struct NameSet {
  std::map<std::uint64_t, std::string> by_value;
  std::map<std::string, std::uint64_t, std::less<>> by_name;
};

using NameSets = std::map<std::string, NameSet, std::less<>>;

const NameSets& name_sets() {
  static const NameSets sets = [] {
    auto rows = parse_csv(kArgumentNamesCsv, "data/argument_names.csv");
    auto broken = [](const std::string& what) {  // a build-time file: a bug in this build
      std::cerr << "sandmine: built with a broken table: data/argument_names.csv: " << what << "\n";
      std::abort();
    };
    if (!rows) broken(rows.error().message);
    NameSets out;
    for (auto& r : *rows) {
      std::uint64_t v = 0;
      const std::string& text = r["value"];
      auto [end, ec] = std::from_chars(text.data() + std::min<std::size_t>(2, text.size()),
                                       text.data() + text.size(), v, 16);
      if (!text.starts_with("0x") || ec != std::errc{} || end != text.data() + text.size())
        broken(r["name"] + ": value \"" + text + "\" is not hex");
      NameSet& set = out[r["set"]];
      if (!set.by_value.emplace(v, r["name"]).second) broken(r["set"] + " has two names for " + text);
      if (!set.by_name.emplace(r["name"], v).second) broken(r["set"] + " has " + r["name"] + " twice");
    }
    return out;
  }();
  return sets;
}

const NameSet* find_set(std::string_view set) {
  auto it = name_sets().find(set);
  return it == name_sets().end() ? nullptr : &it->second;
}

std::string hex(std::uint64_t v) { return v == 0 ? "0" : fmt::format("{:#x}", v); }

// The bits of value named from set, ascending, what has no name in hex.
std::string bit_names(const NameSet* set, std::uint64_t value) {
  std::string out;
  std::uint64_t rest = 0;
  for (std::uint64_t bits = value; bits != 0; bits &= bits - 1) {
    std::uint64_t bit = bits & (~bits + 1);
    const std::string* name = nullptr;
    if (set)
      if (auto it = set->by_value.find(bit); it != set->by_value.end()) name = &it->second;
    if (name)
      out += (out.empty() ? "" : "|") + *name;
    else
      rest |= bit;
  }
  if (rest) out += (out.empty() ? "" : "|") + hex(rest);
  return out;
}

// The set a rule's names column names for one call: "sockopt.{1}" with
// argument 1's value put in.
std::string resolve_set(const ArgumentSpec& spec, const std::string& set,
                        const std::vector<std::uint64_t>& call) {
  auto open = set.find('{');
  if (open == std::string::npos) return set;
  auto close = set.find('}', open);
  if (close == std::string::npos) return set;
  int ref = std::atoi(set.substr(open + 1, close - open - 1).c_str());
  for (std::size_t i = 0; i < spec.rules.size() && i < call.size(); ++i)
    if (spec.rules[i].index == ref)
      return set.substr(0, open) + std::to_string(call[i]) + set.substr(close + 1);
  return "";
}

std::pair<std::string, std::string> split_names(const std::string& names) {
  auto colon = names.find(':');
  if (colon == std::string::npos) return {"", ""};
  return {names.substr(0, colon), names.substr(colon + 1)};
}

std::optional<std::uint64_t> parse_number(std::string_view text) {
  std::uint64_t v = 0;
  int base = 10;
  if (text.starts_with("0x")) {
    text.remove_prefix(2);
    base = 16;
  }
  if (text.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, base);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace

bool has_name_set(std::string_view set) { return find_set(set) != nullptr; }

std::optional<std::string> name_in(std::string_view set, std::uint64_t value) {
  const NameSet* s = find_set(set);
  if (!s) return std::nullopt;
  auto it = s->by_value.find(value);
  if (it == s->by_value.end()) return std::nullopt;
  return it->second;
}

std::optional<std::uint64_t> value_in(std::string_view set, std::string_view name) {
  const NameSet* s = find_set(set);
  if (!s) return std::nullopt;
  auto it = s->by_name.find(name);
  if (it == s->by_name.end()) return std::nullopt;
  return it->second;
}

std::string format_value(const ArgumentSpec& spec, std::size_t position,
                         const std::vector<std::uint64_t>& call) {
  if (position >= spec.rules.size() || position >= call.size()) return "?";
  const ArgumentRule& rule = spec.rules[position];
  std::uint64_t value = call[position];
  auto [kind, set_name] = split_names(rule.names);
  std::string set = resolve_set(spec, set_name, call);
  const NameSet* s = set.empty() ? nullptr : find_set(set);
  if (kind == "enum") {
    if (s)
      if (auto it = s->by_value.find(value); it != s->by_value.end()) return it->second;
    return hex(value);
  }
  if (kind == "bits") {
    if (value == 0 && s)
      if (auto it = s->by_value.find(0); it != s->by_value.end()) return it->second;
    return value == 0 ? "0" : bit_names(s, value);
  }
  if (kind == "clone") {
    // clone(2): the low byte (CSIGNAL) is the signal sent to the parent at exit.
    std::string flags = value & ~0xffULL ? bit_names(s, value & ~0xffULL) : "";
    std::uint64_t sig = value & 0xff;
    if (sig == 0) return flags.empty() ? "0" : flags;
    std::string sig_text = name_in("signal", sig).value_or(std::to_string(sig));
    return flags.empty() ? sig_text : flags + "|" + sig_text;
  }
  return hex(value);
}

std::string format_call(const ArgumentSpec& spec, const std::vector<std::uint64_t>& values) {
  bool positional = true;
  for (std::size_t i = 0; i < spec.rules.size(); ++i)
    positional = positional && spec.rules[i].index == static_cast<int>(i);
  std::string out = spec.syscall + "(";
  for (std::size_t i = 0; i < spec.rules.size() && i < values.size(); ++i) {
    if (i) out += ", ";
    if (!positional) out += spec.rules[i].argument + "=";
    out += format_value(spec, i, values);
  }
  return out + ")";
}

Result<std::uint64_t> parse_value(const ArgumentRule& rule, std::string_view text) {
  if (auto n = parse_number(text)) return *n;
  auto [kind, set_name] = split_names(rule.names);
  const std::string set = set_name;  // a lambda cannot capture a structured binding before C++20 in clang 14
  auto fail = [&] {
    return Error{rule.syscall + " " + rule.argument + ": \"" + std::string(text) + "\" is no number" +
                     (set.empty() || set.find('{') != std::string::npos ? "" : " and no name in set " + set),
                 EINVAL};
  };
  if (set.empty() || set.find('{') != std::string::npos) return fail();
  if (kind == "enum") {
    auto v = value_in(set, text);
    if (!v) return fail();
    return *v;
  }
  // Bit sets: names or numbers joined by |; clone's low byte may be a signal name.
  std::uint64_t v = 0;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto bar = text.find('|', start);
    std::string_view part =
        text.substr(start, bar == std::string_view::npos ? std::string_view::npos : bar - start);
    if (auto bit = value_in(set, part))
      v |= *bit;
    else if (auto n = parse_number(part))
      v |= *n;
    else if (auto sig = kind == "clone" ? value_in("signal", part) : std::nullopt)
      v |= *sig;
    else
      return fail();
    if (bar == std::string_view::npos) break;
    start = bar + 1;
  }
  return v;
}

}  // namespace sandmine::syscalls
