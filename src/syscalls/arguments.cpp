#include "syscalls/arguments.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <iostream>
#include <map>
#include <sstream>

#include "syscalls/argument_names.h"
#include "syscalls/syscalls.h"
#include "util/csv.h"

extern const char kArgumentRulesCsv[];

namespace sandmine::syscalls {

namespace {

constexpr std::uint64_t kInt32 = 0xffffffffULL;

// Architectures a table row's syscall may exist on: a name none of them has is a typo.
constexpr std::string_view kTableArches[] = {"x86_64",  "aarch64", "x86",    "arm",
                                             "riscv64", "s390x",   "ppc64le"};

std::optional<std::uint64_t> parse_hex(std::string_view text) {
  if (!text.starts_with("0x") || text.size() < 3 || text.size() > 18) return std::nullopt;
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data() + 2, text.data() + text.size(), v, 16);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<int> parse_small(std::string_view text) {
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

std::vector<std::string> split_words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

struct RowError {
  const std::string& source;
  std::size_t line;
  Error operator()(const std::string& column, const std::string& what) const {
    return Error{source + ":" + std::to_string(line) + ": " + column + ": " + what, EINVAL};
  }
};

// The names column: "enum:SET", "bits:SET", "clone:SET" or empty.
Status check_names(const std::string& names, const RowError& fail) {
  if (names.empty()) return {};
  auto colon = names.find(':');
  std::string kind = names.substr(0, colon == std::string::npos ? 0 : colon);
  if (kind != "enum" && kind != "bits" && kind != "clone")
    return fail("names", "\"" + names + "\" is not enum:SET, bits:SET or clone:SET");
  std::string set = names.substr(colon + 1);
  if (set.find('{') != std::string::npos) return {};  // checked once the syscall's rows are known
  if (!has_name_set(set)) return fail("names", "no set \"" + set + "\" in data/argument_names.csv");
  return {};
}

}  // namespace

std::uint64_t ArgumentRule::record_mask() const {
  std::uint64_t width = is_int ? kInt32 : ~0ULL;
  return compare == Compare::masked ? (mask & width) : width;
}

std::string to_string(Compare compare) {
  switch (compare) {
    case Compare::exact:
      return "exact";
    case Compare::masked:
      return "masked";
    case Compare::flags:
      return "flags";
  }
  return "exact";
}

std::string to_string(Tier tier) { return tier == Tier::safe ? "safe" : "strict"; }

std::optional<Compare> compare_from_string(std::string_view text) {
  if (text == "exact") return Compare::exact;
  if (text == "masked") return Compare::masked;
  if (text == "flags") return Compare::flags;
  return std::nullopt;
}

Result<std::vector<ArgumentSpec>> parse_argument_rules(std::string_view csv, const std::string& source) {
  auto rows = parse_csv(csv, source);
  if (!rows) return rows.error();
  std::map<std::string, ArgumentSpec> specs;
  std::size_t line = 1;
  for (auto& r : *rows) {
    ++line;
    RowError fail{source, line};
    for (const char* column : {"syscall", "index", "argument", "read", "compare", "mask", "int", "tier",
                               "always", "names", "reason", "source"})
      if (!r.count(column)) return fail(column, "missing column");
    ArgumentRule rule;
    rule.syscall = r["syscall"];
    bool exists = false;
    for (auto arch : kTableArches) exists = exists || number_of(arch, rule.syscall).has_value();
    if (!exists) return fail("syscall", "no syscall \"" + rule.syscall + "\" on any architecture");
    auto index = parse_small(r["index"]);
    if (!index || *index < 0 || *index > 5) return fail("index", "expected 0..5, got \"" + r["index"] + "\"");
    rule.index = *index;
    rule.argument = r["argument"];
    if (rule.argument.empty()) return fail("argument", "empty");
    if (r["read"] == "arg") {
      rule.struct_offset = -1;
    } else if (r["read"].starts_with("mem64:")) {
      auto offset = parse_small(std::string_view(r["read"]).substr(6));
      if (!offset || *offset < 0 || *offset % 8 != 0 || *offset >= 4096)
        return fail("read", "mem64:N needs a byte offset that is a multiple of 8 below 4096");
      rule.struct_offset = *offset;
    } else {
      return fail("read", "expected arg or mem64:OFFSET, got \"" + r["read"] + "\"");
    }
    auto compare = compare_from_string(r["compare"]);
    if (!compare) return fail("compare", "expected exact, masked or flags, got \"" + r["compare"] + "\"");
    rule.compare = *compare;
    if (r["int"] != "yes" && r["int"] != "no") return fail("int", "expected yes or no");
    rule.is_int = r["int"] == "yes";
    if (rule.compare == Compare::exact) {
      if (!r["mask"].empty()) return fail("mask", "an exact comparison takes no mask");
    } else {
      auto mask = parse_hex(r["mask"]);
      if (!mask || *mask == 0)
        return fail("mask", "expected a non-zero hex mask (0x...), got \"" + r["mask"] + "\"");
      if (rule.is_int && (*mask >> 32) != 0) return fail("mask", "an int argument has 32 bits");
      rule.mask = *mask;
    }
    if (r["tier"] != "safe" && r["tier"] != "strict") return fail("tier", "expected safe or strict");
    rule.tier = r["tier"] == "safe" ? Tier::safe : Tier::strict;
    rule.names = r["names"];
    if (auto st = check_names(rule.names, fail); !st) return st.error();
    for (const auto& word : split_words(r["always"])) {
      if (rule.compare == Compare::flags)
        return fail("always", "a flags comparison always allows the bits' absence");
      auto v = parse_value(rule, word);
      if (!v) return fail("always", v.error().message);
      if ((*v & ~rule.record_mask()) != 0)
        return fail("always", word + " has bits outside the compared mask");
      rule.always.push_back(*v);
    }
    rule.reason = r["reason"];
    rule.source = r["source"];
    if (rule.reason.empty()) return fail("reason", "empty");
    if (rule.source.empty()) return fail("source", "empty");
    auto& spec = specs[rule.syscall];
    spec.syscall = rule.syscall;
    for (const auto& other : spec.rules)
      if (other.index == rule.index)
        return fail("index", rule.syscall + " argument " + std::to_string(rule.index) + " is listed twice");
    if (spec.rules.size() >= kMaxMinedArguments)
      return fail("syscall", rule.syscall + " has more than " + std::to_string(kMaxMinedArguments) +
                                 " mined arguments (the recorder keeps that many per call)");
    spec.rules.push_back(std::move(rule));
  }
  std::vector<ArgumentSpec> out;
  for (auto& [name, spec] : specs) {
    std::sort(spec.rules.begin(), spec.rules.end(),
              [](const ArgumentRule& a, const ArgumentRule& b) { return a.index < b.index; });
    for (const auto& rule : spec.rules) {
      auto open = rule.names.find('{');
      if (open == std::string::npos) continue;
      auto close = rule.names.find('}', open);
      auto ref = close == std::string::npos
                     ? std::nullopt
                     : parse_small(std::string_view(rule.names).substr(open + 1, close - open - 1));
      bool found = ref && std::any_of(spec.rules.begin(), spec.rules.end(), [&](const ArgumentRule& o) {
                     return o.index == *ref && o.index != rule.index;
                   });
      if (!found)
        return Error{source + ": " + name + " argument " + std::to_string(rule.index) + ": names \"" +
                         rule.names + "\" refers to an argument the table does not mine for " + name,
                     EINVAL};
    }
    out.push_back(std::move(spec));
  }
  return out;
}

const std::vector<ArgumentSpec>& argument_specs() {
  static const std::vector<ArgumentSpec> table = [] {
    auto specs = parse_argument_rules(kArgumentRulesCsv, "data/argument_rules.csv");
    if (!specs) {  // a build-time file: a broken one is a bug in this build, not user input
      std::cerr << "sandmine: built with a broken table: " << specs.error().message << "\n";
      std::abort();
    }
    return std::move(*specs);
  }();
  return table;
}

const ArgumentSpec* argument_spec(std::string_view syscall) {
  for (const auto& spec : argument_specs())
    if (spec.syscall == syscall) return &spec;
  return nullptr;
}

const ArgumentSpec* mined_arguments(std::string_view arch, std::int64_t nr) {
  // Numbers of the native architecture -> spec, resolved once.
  static const std::pair<std::string, std::map<std::int64_t, const ArgumentSpec*>> by_number = [] {
    std::pair<std::string, std::map<std::int64_t, const ArgumentSpec*>> out{native_arch(), {}};
    for (const auto& spec : argument_specs())
      if (auto n = number_of(out.first, spec.syscall)) out.second[*n] = &spec;
    return out;
  }();
  if (arch != by_number.first) return nullptr;
  auto it = by_number.second.find(nr);
  return it == by_number.second.end() ? nullptr : it->second;
}

std::vector<std::size_t> positions_in_tier(const ArgumentSpec& spec, Tier tier) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < spec.rules.size(); ++i)
    if (tier == Tier::strict || spec.rules[i].tier == Tier::safe) out.push_back(i);
  return out;
}

std::set<std::vector<std::uint64_t>> project(const std::set<std::vector<std::uint64_t>>& values,
                                             const std::vector<std::size_t>& positions) {
  std::set<std::vector<std::uint64_t>> out;
  for (const auto& v : values) {
    std::vector<std::uint64_t> p;
    for (auto i : positions)
      if (i < v.size()) p.push_back(v[i]);
    out.insert(std::move(p));
  }
  return out;
}

}  // namespace sandmine::syscalls
