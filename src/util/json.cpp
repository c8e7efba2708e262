#include "util/json.h"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace sandmine {

using nlohmann::json;

Result<json> parse_json(std::string_view text, const std::string& source) {
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    // "[json.exception.parse_error.101] parse error at line 3, column 5: syntax
    // error while parsing value - invalid literal; last read: '...'": what is
    // wrong and where, without the library's prefix and the text it quotes.
    // A number too large for a double is an out_of_range error (406), not a
    // parse_error.
    std::string what = e.what();
    if (auto bracket = what.find("] "); what.starts_with("[json.exception.") && bracket != std::string::npos)
      what.erase(0, bracket + 2);
    if (auto quote = what.find("; last read"); quote != std::string::npos) what.erase(quote);
    return Error{one_line(source + ": not valid JSON (" + what + ")"), EINVAL};
  }
}

Result<json> read_json_file(const std::string& path, const std::string& noun) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return errno_error(one_line("cannot read " + noun + " " + path));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return errno_error(one_line("cannot read " + noun + " " + path));
  return parse_json(text.str(), path);
}

namespace {

// The length of the valid UTF-8 sequence at s[i], or 0 (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
  unsigned char second = byte(i + 1);
  if (c == 0xe0 && second < 0xa0) return 0;  // overlong
  if (c == 0xed && second > 0x9f) return 0;  // surrogates
  if (c == 0xf0 && second < 0x90) return 0;  // overlong
  if (c == 0xf4 && second > 0x8f) return 0;  // above U+10FFFF
  return n;
}

std::string repaired(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = utf8_sequence(s, i);
    if (n == 0) {
      out += "\xef\xbf\xbd";  // U+FFFD REPLACEMENT CHARACTER
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

}  // namespace

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = utf8_sequence(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

void repair_utf8(json& doc) {
  std::vector<json*> pending{&doc};
  while (!pending.empty()) {
    json* j = pending.back();
    pending.pop_back();
    if (j->is_string()) {
      auto& s = j->get_ref<std::string&>();
      if (!valid_utf8(s)) s = repaired(s);
    } else if (j->is_array()) {
      for (auto& e : *j) pending.push_back(&e);
    } else if (j->is_object()) {
      // Keys cannot be changed in place: a member with a bad key is moved to a repaired one.
      std::vector<std::string> bad;
      for (auto& [key, value] : j->items())
        if (!valid_utf8(key)) bad.push_back(key);
      for (const auto& key : bad) {
        json value = std::move((*j)[key]);
        j->erase(key);
        (*j)[repaired(key)] = std::move(value);
      }
      for (auto& [key, value] : j->items()) pending.push_back(&value);
    }
  }
}

std::string describe_json(const json& v) {
  constexpr std::size_t kShown = 40;
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    return "the string \"" + (s.size() > kShown ? s.substr(0, kShown) + "..." : s) + "\"";
  }
  if (v.is_number_float()) return "the fractional number " + v.dump();
  if (v.is_number()) return "the number " + v.dump();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_null()) return "null";
  return v.is_array() ? "an array" : "an object";
}

// ---- JsonReader

JsonReader::JsonReader(const json& doc, std::string source)
    : doc_(doc), state_(std::make_unique<State>(State{std::move(source), std::nullopt})) {}

JsonValue JsonReader::root() const { return JsonValue(doc_, "", *state_); }

Status JsonReader::status() const {
  if (state_->error) return *state_->error;
  return {};
}

// ---- JsonValue

bool JsonValue::is_null() const { return value_->is_null(); }

bool JsonValue::fail(const std::string& what) const {
  if (!state_->error)
    state_->error =
        Error{one_line(state_->source + ": " + (path_.empty() ? "top level" : path_) + ": " + what), EINVAL};
  return false;
}

bool JsonValue::expect_object() const {
  if (!live()) return false;
  return value_->is_object() || fail("expected an object, got " + describe_json(*value_));
}

bool JsonValue::expect_array() const {
  if (!live()) return false;
  return value_->is_array() || fail("expected an array, got " + describe_json(*value_));
}

bool JsonValue::has(std::string_view key) const { return value_->is_object() && value_->contains(key); }

std::optional<JsonValue> JsonValue::optional(std::string_view key) const {
  if (!expect_object()) return std::nullopt;
  auto it = value_->find(key);
  if (it == value_->end()) return std::nullopt;
  std::string path = path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  return JsonValue(*it, std::move(path), *state_);
}

std::optional<JsonValue> JsonValue::required(std::string_view key) const {
  auto v = optional(key);
  if (!v && live()) {
    JsonValue missing(*value_, path_.empty() ? std::string(key) : path_ + "." + std::string(key), *state_);
    missing.fail("missing");
  }
  return v;
}

std::vector<JsonValue> JsonValue::elements() const {
  std::vector<JsonValue> out;
  if (!expect_array()) return out;
  out.reserve(value_->size());
  for (std::size_t i = 0; i < value_->size(); ++i)
    out.push_back(JsonValue((*value_)[i], path_ + "[" + std::to_string(i) + "]", *state_));
  return out;
}

std::vector<std::pair<std::string, JsonValue>> JsonValue::members() const {
  std::vector<std::pair<std::string, JsonValue>> out;
  if (!expect_object()) return out;
  for (auto it = value_->begin(); it != value_->end(); ++it)
    out.emplace_back(it.key(), JsonValue(it.value(), path_ + "[\"" + it.key() + "\"]", *state_));
  return out;
}

bool JsonValue::read(std::string& out) const {
  if (!live()) return false;
  if (!value_->is_string()) return fail("expected a string, got " + describe_json(*value_));
  out = value_->get<std::string>();
  return true;
}

bool JsonValue::read(bool& out) const {
  if (!live()) return false;
  if (!value_->is_boolean()) return fail("expected true or false, got " + describe_json(*value_));
  out = value_->get<bool>();
  return true;
}

bool JsonValue::read(double& out, double lo, double hi) const {
  if (!live()) return false;
  if (!value_->is_number()) return fail("expected a number, got " + describe_json(*value_));
  double v = value_->get<double>();
  if (!std::isfinite(v) || v < lo || v > hi) {
    std::ostringstream range;
    if (hi == std::numeric_limits<double>::max())
      range << "expected a number of at least " << lo;
    else
      range << "expected a number from " << lo << " to " << hi;
    return fail(range.str() + ", got " + value_->dump());
  }
  out = v;
  return true;
}

bool JsonValue::read_integer(std::int64_t& out, std::int64_t lo, std::int64_t hi, bool lo_is_type_min,
                             bool hi_is_type_max) const {
  if (!live()) return false;
  auto range = [&] {
    if (lo == 0 && hi_is_type_max) return std::string("a non-negative integer");
    if (lo_is_type_min && hi_is_type_max) return std::string("an integer");
    if (hi_is_type_max) return "an integer of at least " + std::to_string(lo);
    if (lo_is_type_min) return "an integer of at most " + std::to_string(hi);
    return "an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
  };
  if (!value_->is_number_integer()) return fail("expected " + range() + ", got " + describe_json(*value_));
  bool too_large = false, too_small = false;
  std::int64_t v = 0;
  if (value_->is_number_unsigned()) {
    auto u = value_->get<std::uint64_t>();
    too_large = hi < 0 || u > static_cast<std::uint64_t>(hi);
    too_small = lo > 0 && u < static_cast<std::uint64_t>(lo);
    v = static_cast<std::int64_t>(u);
  } else {
    v = value_->get<std::int64_t>();
    too_large = v > hi;
    too_small = v < lo;
  }
  // A bound the range does not spell out is the type's: say which side was crossed.
  const bool lo_written = !lo_is_type_min || (lo == 0 && hi_is_type_max);
  if (too_large || too_small)
    return fail("expected " + range() + ", got " + value_->dump() +
                (too_large && hi_is_type_max ? " (too large)"
                 : too_small && !lo_written  ? " (too small)"
                                             : ""));
  out = v;
  return true;
}

bool JsonValue::read(std::vector<std::string>& out) const {
  if (!live()) return false;
  if (!value_->is_array()) return fail("expected an array of strings, got " + describe_json(*value_));
  std::vector<std::string> list;
  for (const auto& e : elements()) {
    std::string s;
    if (!e.read(s)) return false;
    list.push_back(std::move(s));
  }
  out = std::move(list);
  return true;
}

}  // namespace sandmine
