// util/json.h: the checked accessors every JSON reader uses, parsing with
// one-line errors, and writing that cannot throw.
#include "util/json.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>

namespace sandmine {
namespace {

using nlohmann::json;

// The error a read of doc gives, or "" when it reads.
template <class F>
std::string error_of(const json& doc, F&& read) {
  JsonReader reader(doc, "f.json");
  read(reader.root());
  return reader.ok() ? "" : reader.error().message;
}

TEST(JsonRead, TypesAreCheckedAndTheFieldNamed) {
  json doc = json::parse(R"({"a": {"b": [1, "two", 3.5, null, true]}})");
  auto elements = [&](auto&& f) {
    return error_of(doc, [&](const JsonValue& top) { f(top.required("a")->required("b")->elements()); });
  };
  EXPECT_EQ(elements([](auto e) {
              int v;
              e[1].read(v);
            }),
            "f.json: a.b[1]: expected an integer, got the string \"two\"");
  EXPECT_EQ(elements([](auto e) {
              int v;
              e[2].read(v);
            }),
            "f.json: a.b[2]: expected an integer, got the fractional number 3.5");
  EXPECT_EQ(elements([](auto e) {
              std::string v;
              e[0].read(v);
            }),
            "f.json: a.b[0]: expected a string, got the number 1");
  EXPECT_EQ(elements([](auto e) {
              bool v;
              e[3].read(v);
            }),
            "f.json: a.b[3]: expected true or false, got null");
  EXPECT_EQ(elements([](auto e) {
              std::optional<int> v = 7;
              e[3].read(v);
              EXPECT_FALSE(v);
            }),
            "");
  EXPECT_EQ(elements([](auto e) {
              double v;
              e[4].read(v);
            }),
            "f.json: a.b[4]: expected a number, got true");
  EXPECT_EQ(error_of(doc, [](const JsonValue& top) { top.required("z"); }), "f.json: z: missing");
  EXPECT_EQ(error_of(doc, [](const JsonValue& top) { top.required("a")->elements(); }),
            "f.json: a: expected an array, got an object");
  EXPECT_EQ(error_of(json::array(), [](const JsonValue& top) { top.optional("a"); }),
            "f.json: top level: expected an object, got an array");
}

TEST(JsonRead, RangesAreCheckedAndSaidAsTheyAre) {
  auto read_int = [](const char* text, int lo, int hi) {
    return error_of(json::parse(text), [&](const JsonValue& v) {
      int x;
      v.read(x, lo, hi);
    });
  };
  EXPECT_EQ(read_int("300", 0, 255), "f.json: top level: expected an integer from 0 to 255, got 300");
  EXPECT_EQ(read_int("-1", 0, 255), "f.json: top level: expected an integer from 0 to 255, got -1");
  EXPECT_EQ(read_int("255", 0, 255), "");
  EXPECT_EQ(read_int("5000000000", 1, INT32_MAX),
            "f.json: top level: expected an integer of at least 1, got 5000000000 (too large)");
  EXPECT_EQ(read_int("-5000000000", INT32_MIN, INT32_MAX),
            "f.json: top level: expected an integer, got -5000000000 (too small)");
  auto read_u64 = [](const char* text) {
    return error_of(json::parse(text), [&](const JsonValue& v) {
      std::uint64_t x;
      v.read(x);
    });
  };
  EXPECT_EQ(read_u64("-1"), "f.json: top level: expected a non-negative integer, got -1");
  EXPECT_EQ(read_u64("18446744073709551615"),
            "f.json: top level: expected a non-negative integer, got 18446744073709551615 (too large)");
  auto read_double = [](const char* text) {
    return error_of(json::parse(text), [&](const JsonValue& v) {
      double x;
      v.read(x, 0.0, 1.0);
    });
  };
  EXPECT_EQ(read_double("1.5"), "f.json: top level: expected a number from 0 to 1, got 1.5");
  EXPECT_EQ(read_double("0.25"), "");
}

TEST(JsonRead, TheFirstErrorStandsAndLaterReadsDoNothing) {
  json doc = json::parse(R"({"a": "x", "b": 2})");
  JsonReader reader(doc, "f.json");
  int a = 0, b = 0;
  EXPECT_FALSE(reader.root().get("a", a));
  EXPECT_FALSE(reader.root().get("b", b));
  EXPECT_EQ(b, 0) << "reads after an error leave their output alone";
  EXPECT_EQ(reader.error().message, "f.json: a: expected an integer, got the string \"x\"");
}

TEST(JsonRead, ErrorsAreOneLineWhateverTheDocumentHolds) {
  json doc = json::parse(R"({"steps": {"a\nb": "x"}})");
  std::string e = error_of(doc, [](const JsonValue& top) {
    for (const auto& [key, v] : top.required("steps")->members()) {
      int n;
      v.read(n);
    }
  });
  EXPECT_EQ(e, "f.json: steps[\"a\\nb\"]: expected an integer, got the string \"x\"");
}

// Found by fuzz_trace: a number too large for a double is nlohmann's
// out_of_range (406), not a parse_error; it escaped and ended the process.
TEST(JsonParse, ANumberTooLargeIsAnErrorNotAnException) {
  auto doc = parse_json(R"({"version": 1, "x": 861e308})", "t.json");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.error().message, "t.json: not valid JSON (number overflow parsing '861e308')");
  auto bad = parse_json("{\"a\":\n  oops}", "t.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message,
            "t.json: not valid JSON (parse error at line 2, column 3: syntax error while parsing value - "
            "invalid literal)");
}

TEST(JsonWrite, InvalidUtf8IsRepairedSoDumpCannotThrow) {
  EXPECT_TRUE(valid_utf8("caf\xc3\xa9 \xf0\x9f\x99\x82"));
  for (const char* bad : {"\xff", "caf\xe9", "\xc3", "\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80"})
    EXPECT_FALSE(valid_utf8(bad)) << bad;
  json doc = {{"argv", {"ok", "caf\xe9"}}, {"k\xff", "v"}, {"nested", {{"s", "\xc3"}}}};
  EXPECT_THROW((void)doc.dump(), json::type_error);
  repair_utf8(doc);
  EXPECT_EQ(doc.dump(), R"({"argv":["ok","caf)"
                        "\xef\xbf\xbd"
                        R"("],"k)"
                        "\xef\xbf\xbd"
                        R"(":"v","nested":{"s":")"
                        "\xef\xbf\xbd"
                        R"("}})");
}

}  // namespace
}  // namespace sandmine
