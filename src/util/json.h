#pragma once
// JSON files in and out. Reading is strict: a document is parsed whole, then
// read field by field through JsonValue, which checks each field's type and
// range; the first problem becomes one line naming the file and the field path
// ("t.json: steps[2].name: expected a string, got the number 5"), and every
// read after it does nothing, so a reader checks once, at its end. Writing
// never throws: strings that are not UTF-8 (process names, a tool's output)
// are repaired before a document is dumped.

#include <concepts>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "util/result.h"

namespace sandmine {

/// Parses text as one JSON document. source names it in the error:
/// "t.json: not valid JSON: syntax error while parsing value at line 1, column 3".
Result<nlohmann::json> parse_json(std::string_view text, const std::string& source);

/// Reads and parses a file; noun says what it should be, for the error when it
/// cannot be read: "cannot read trace t.json: No such file or directory".
Result<nlohmann::json> read_json_file(const std::string& path, const std::string& noun);

/// Whether s is UTF-8 (RFC 3629), as every JSON string must be.
bool valid_utf8(std::string_view s);

/// Replaces what is not UTF-8 in every string and key of doc with U+FFFD, so
/// that doc.dump() cannot throw.
void repair_utf8(nlohmann::json& doc);

class JsonValue;

/// One document being read, and the first problem found in it.
class JsonReader {
 public:
  /// doc must outlive the reader and the values it hands out.
  JsonReader(const nlohmann::json& doc, std::string source);
  JsonReader(const JsonReader&) = delete;
  JsonReader& operator=(const JsonReader&) = delete;

  /// The top-level value (its path is empty; errors call it "top level").
  JsonValue root() const;
  /// No problem so far.
  bool ok() const { return !state_->error; }
  /// The first problem; ok() must be false.
  const Error& error() const { return *state_->error; }
  /// Ok, or the first problem.
  Status status() const;

 private:
  friend class JsonValue;
  struct State {
    std::string source;
    std::optional<Error> error;
  };
  const nlohmann::json& doc_;
  std::unique_ptr<State> state_;
};

/// A value of a document and where it is ("steps[2].name"). Every check that
/// fails records its error in the reader (unless one is there already) and
/// returns false; once the reader has an error, reads return false and leave
/// their output alone.
class JsonValue {
 public:
  const nlohmann::json& json() const { return *value_; }
  const std::string& path() const { return path_; }
  bool is_null() const;

  /// Records "SOURCE: PATH: what" unless the reader has an error already. Returns false.
  bool fail(const std::string& what) const;

  /// Whether this is an object or array, recording an error if not.
  bool expect_object() const;
  bool expect_array() const;

  /// Whether the object has key, with any value (null too).
  bool has(std::string_view key) const;
  /// The member key of this object: none (and an error) when this is not an
  /// object or a required member is missing; none when an optional one is.
  std::optional<JsonValue> required(std::string_view key) const;
  std::optional<JsonValue> optional(std::string_view key) const;
  /// The elements of this array; none (and an error) when it is not one.
  std::vector<JsonValue> elements() const;
  /// The members of this object, in key order; none (and an error) when it is not one.
  std::vector<std::pair<std::string, JsonValue>> members() const;

  /// This value as out's type, within [lo, hi] for numbers. Integers take
  /// only JSON integers; doubles any finite number. A std::optional out takes
  /// null as none. std::vector<std::string> takes an array of strings.
  bool read(std::string& out) const;
  bool read(bool& out) const;
  bool read(double& out, double lo = std::numeric_limits<double>::lowest(),
            double hi = std::numeric_limits<double>::max()) const;
  template <std::integral I>
  requires(!std::same_as<I, bool>) bool read(I& out, I lo = std::numeric_limits<I>::min(),
                                             I hi = std::numeric_limits<I>::max()) const {
    std::int64_t v = 0;
    if (!read_integer(v, static_cast<std::int64_t>(lo), clamp_hi(hi), lo == std::numeric_limits<I>::min(),
                      hi == std::numeric_limits<I>::max()))
      return false;
    out = static_cast<I>(v);
    return true;
  }
  bool read(std::vector<std::string>& out) const;
  template <class T, class... Range>
  bool read(std::optional<T>& out, Range... range) const {
    if (!live()) return false;
    if (is_null()) {
      out.reset();
      return true;
    }
    T v{};
    if (!read(v, range...)) return false;
    out = std::move(v);
    return true;
  }

  /// The member key read into out: get() requires it; get_if() leaves out
  /// alone when it is absent.
  template <class T, class... Range>
  bool get(std::string_view key, T& out, Range... range) const {
    auto v = required(key);
    return v && v->read(out, range...);
  }
  template <class T, class... Range>
  bool get_if(std::string_view key, T& out, Range... range) const {
    auto v = optional(key);
    return v ? v->read(out, range...) : live();
  }

 private:
  friend class JsonReader;
  JsonValue(const nlohmann::json& value, std::string path, JsonReader::State& state)
      : value_(&value), path_(std::move(path)), state_(&state) {}
  bool live() const { return !state_->error; }
  // Integers are read as int64; larger unsigned bounds are taken as int64's maximum.
  template <class I>
  static std::int64_t clamp_hi(I hi) {
    if constexpr (std::is_unsigned_v<I> && sizeof(I) >= sizeof(std::int64_t))
      return hi > static_cast<I>(std::numeric_limits<std::int64_t>::max())
                 ? std::numeric_limits<std::int64_t>::max()
                 : static_cast<std::int64_t>(hi);
    else
      return static_cast<std::int64_t>(hi);
  }
  // The bounds flagged as the type's own are left out of the message unless crossed.
  bool read_integer(std::int64_t& out, std::int64_t lo, std::int64_t hi, bool lo_is_type_min,
                    bool hi_is_type_max) const;

  const nlohmann::json* value_;
  std::string path_;
  JsonReader::State* state_;
};

/// What a JSON value is, for messages: "the number 5", "the string \"x\"", "an array".
std::string describe_json(const nlohmann::json& v);

}  // namespace sandmine
