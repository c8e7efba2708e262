#include "profile/allowed_values.h"

#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>

#include "syscalls/argument_names.h"
#include "syscalls/arguments.h"

namespace sandmine::profile {

using nlohmann::json;

namespace {

constexpr std::uint64_t kAllBits = ~std::uint64_t{0};

// The table's row for an argument a filter can compare, and its position in
// the spec (which is where a recorded call keeps its value); -1 for none.
int position_of(const syscalls::ArgumentSpec* spec, unsigned index) {
  if (!spec) return -1;
  for (std::size_t i = 0; i < spec->rules.size(); ++i)
    if (spec->rules[i].index == static_cast<int>(index) && spec->rules[i].struct_offset < 0)
      return static_cast<int>(i);
  return -1;
}

// The mask under which the table's rules compare the argument: a flags row
// compares its bits, the others the value as recorded.
std::uint64_t natural_mask(const syscalls::ArgumentRule& row) {
  return row.compare == syscalls::Compare::flags ? row.mask : row.record_mask();
}

std::uint64_t mask_of(const ArgCondition& c) { return c.op == "SCMP_CMP_MASKED_EQ" ? c.value : kAllBits; }

// What the column's bits must equal (or be compared with).
std::uint64_t operand_of(const ArgCondition& c) {
  return c.op == "SCMP_CMP_MASKED_EQ" ? c.value_two : c.value;
}

std::string op_prefix(const std::string& op) {
  if (op == "SCMP_CMP_NE") return "!=";
  if (op == "SCMP_CMP_LT") return "<";
  if (op == "SCMP_CMP_LE") return "<=";
  if (op == "SCMP_CMP_GT") return ">";
  if (op == "SCMP_CMP_GE") return ">=";
  return "";
}

ArgumentColumn column_for(const syscalls::ArgumentSpec* spec, unsigned index, std::uint64_t mask) {
  ArgumentColumn col{index, fmt::format("arg{}", index), mask, ""};
  int pos = position_of(spec, index);
  if (pos < 0) {
    col.text = mask == kAllBits ? col.name : fmt::format("{}&{:#x}", col.name, mask);
    return col;
  }
  const auto& row = spec->rules[static_cast<std::size_t>(pos)];
  col.name = row.argument;
  if (mask == kAllBits || (row.compare == syscalls::Compare::exact && mask == row.record_mask())) {
    col.text = col.name;
  } else if (row.compare == syscalls::Compare::flags && mask == row.mask) {
    std::vector<std::uint64_t> call(spec->rules.size(), 0);
    call[static_cast<std::size_t>(pos)] = mask;
    col.text =
        fmt::format("{}&({})", col.name, syscalls::format_value(*spec, static_cast<std::size_t>(pos), call));
  } else {
    col.text = fmt::format("{}&{:#x}", col.name, mask);
  }
  return col;
}

// Whether a cell's value prints by the names of the table's row: the rule
// compares the argument as the table does (or the whole value).
bool prints_by_name(const syscalls::ArgumentSpec* spec, const ArgumentColumn& col) {
  int pos = position_of(spec, col.index);
  return pos >= 0 &&
         (col.mask == kAllBits || col.mask == natural_mask(spec->rules[static_cast<std::size_t>(pos)]));
}

}  // namespace

AllowedValues allowed_values(const Profile& profile) {
  AllowedValues out;
  out.otherwise = profile.default_action;
  for (const auto& [name, policy] : profile.syscalls) {
    if (policy.action) {
      // Only the ENOSYS answers made on purpose (clone3): names denied with
      // another errno than the default's are no argument rule.
      if (policy.action->answers_missing() && *policy.action != profile.default_action)
        out.answered.push_back({name, *policy.action, policy.comment});
      continue;
    }
    if (policy.rules.empty()) continue;
    const syscalls::ArgumentSpec* spec = syscalls::argument_spec(name);
    SyscallValues v{name, {}, {}};
    std::map<std::pair<unsigned, std::uint64_t>, std::size_t> columns;  // (index, mask) -> position
    for (const auto& rule : policy.rules)
      for (const auto& c : rule.args) columns.emplace(std::pair(c.index, mask_of(c)), 0);
    for (auto& [key, position] : columns) {
      position = v.columns.size();
      v.columns.push_back(column_for(spec, key.first, key.second));
    }
    for (const auto& rule : policy.rules) {
      ValueRule r{rule.action, std::vector<ArgumentCell>(v.columns.size())};
      // The values the rule pins, as a recorded call holds them: the names of
      // one argument may depend on another's (setsockopt's optname on its level).
      std::vector<std::uint64_t> call(spec ? spec->rules.size() : 0, 0);
      for (const auto& c : rule.args) {
        int pos = position_of(spec, c.index);
        if (pos >= 0 && (c.op == "SCMP_CMP_EQ" || c.op == "SCMP_CMP_MASKED_EQ"))
          call[static_cast<std::size_t>(pos)] = operand_of(c);
      }
      for (const auto& c : rule.args) {
        std::size_t col = columns.at(std::pair(c.index, mask_of(c)));
        auto& cell = r.cells[col];
        std::string text;
        if (prints_by_name(spec, v.columns[col])) {
          auto pos = static_cast<std::size_t>(position_of(spec, c.index));
          std::vector<std::uint64_t> with = call;
          with[pos] = operand_of(c);
          text = syscalls::format_value(*spec, pos, with);
          if (text == "0" && spec->rules[pos].compare == syscalls::Compare::flags) text = "none";
        } else {
          text = fmt::format("{:#x}", operand_of(c));
        }
        text = op_prefix(c.op) + text;
        if (cell.op.empty()) {
          cell = {c.op, operand_of(c), text};
        } else {  // two conditions on one column (a range): both must hold
          cell.op += " " + c.op;
          cell.text += " and " + text;
        }
      }
      for (auto& cell : r.cells)
        if (cell.op.empty()) cell.text = "any";
      v.rules.push_back(std::move(r));
    }
    out.syscalls.push_back(std::move(v));
  }
  return out;
}

namespace {

json action_object(const Action& a) {
  json j = {{"action", a.name}};
  if (a.takes_errno()) j["errno"] = a.errno_ret;
  return j;
}

}  // namespace

json allowed_values_json(const AllowedValues& values) {
  json doc = {{"otherwise", action_object(values.otherwise)},
              {"syscalls", json::array()},
              {"answered", json::array()}};
  for (const auto& s : values.syscalls) {
    json columns = json::array(), rules = json::array();
    for (const auto& c : s.columns)
      columns.push_back(
          {{"index", c.index}, {"name", c.name}, {"mask", fmt::format("{:#x}", c.mask)}, {"text", c.text}});
    for (const auto& r : s.rules) {
      json cells = json::array();
      for (const auto& cell : r.cells)
        cells.push_back(
            cell.op.empty()
                ? json{{"op", nullptr}, {"text", cell.text}}
                : json{{"op", cell.op}, {"value", fmt::format("{:#x}", cell.value)}, {"text", cell.text}});
      rules.push_back({{"action", action_object(r.action)}, {"values", cells}});
    }
    doc["syscalls"].push_back({{"syscall", s.syscall}, {"arguments", columns}, {"rules", rules}});
  }
  for (const auto& a : values.answered) {
    json j = {{"syscall", a.syscall}, {"action", action_object(a.action)}, {"comment", a.comment}};
    doc["answered"].push_back(j);
  }
  return doc;
}

}  // namespace sandmine::profile
