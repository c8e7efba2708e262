// Argument values in trace.json: what entries_from attaches, the writer, and
// the strict reader's errors (field named, out-of-range values refused).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "trace/trace.h"

namespace sandmine::trace {

using nlohmann::json;

namespace {

const SyscallKey kSocketCall{"x86_64", 41};

// A trace with one mined syscall (socket: 3 calls, two values) and one not.
Trace values_trace() {
  Tallies t;
  add(t, kSocketCall, 3, 2'000'000);
  add_values(t, kSocketCall, {2, 1, 0}, 2);
  add_values(t, kSocketCall, {1, 2, 0}, 1);
  add(t, {"x86_64", 0}, 5, 2'000'000);
  Trace trace;
  trace.backend = "ebpf";
  trace.syscalls = entries_from(t, 1'000'000);
  return trace;
}

std::string values_error(const json& doc) {
  auto r = trace_from_json(doc, "t.json");
  return r.ok() ? "" : r.error().message;
}

}  // namespace

TEST(TraceValues, EntriesDescribeTheMinedArguments) {
  Trace trace = values_trace();
  ASSERT_EQ(trace.syscalls.size(), 2u);
  const SyscallEntry& read = trace.syscalls[0];
  EXPECT_EQ(read.name, "read");
  EXPECT_TRUE(read.arguments.empty());
  const SyscallEntry& socket = trace.syscalls[1];
  ASSERT_EQ(socket.arguments.size(), 3u);
  EXPECT_EQ(socket.arguments[0].name, "domain");
  EXPECT_EQ(socket.arguments[0].mask, 0xffffffffu);
  EXPECT_EQ(socket.arguments[1].compare, syscalls::Compare::masked);
  EXPECT_EQ(socket.arguments[1].mask, 0xfff7f7ffu);
  ASSERT_EQ(socket.values.size(), 2u);
  EXPECT_EQ(socket.values[0].args, (ArgValues{1, 2, 0}));
  EXPECT_EQ(socket.values[0].count, 1u);
  EXPECT_EQ(socket.values[1].args, (ArgValues{2, 1, 0}));
  EXPECT_EQ(socket.values_lost, 0);
}

TEST(TraceValues, NonNativeCallsHaveNoArguments) {
  Tallies t;
  add(t, {"x86", 359}, 1, 0);                 // i386 socket: name only
  add_values(t, {"x86", 359}, {2, 1, 0}, 1);  // not something a recorder produces; still not described
  auto entries = entries_from(t, 0);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_TRUE(entries[0].arguments.empty());
  EXPECT_TRUE(entries[0].values.empty());
}

TEST(TraceValues, JsonRoundTripWithFirstSteps) {
  Trace trace = values_trace();
  FirstSteps firsts{{kSocketCall, {{{2, 1, 0}, "start"}}}};
  set_value_steps(trace.syscalls, firsts, "stop");
  json doc = to_json(trace);
  EXPECT_EQ(doc["syscalls"][1]["arguments"][1],
            json({{"index", 1}, {"name", "type"}, {"compare", "masked"}, {"mask", "0xfff7f7ff"}}));
  EXPECT_EQ(doc["syscalls"][1]["values"],
            json::parse(R"([{"args": ["0x1", "0x2", "0x0"], "count": 1, "first_step": "stop"},
                            {"args": ["0x2", "0x1", "0x0"], "count": 2, "first_step": "start"}])"));
  EXPECT_EQ(doc["syscalls"][1]["values_complete"], true);
  EXPECT_FALSE(doc["syscalls"][1].contains("values_lost"));
  EXPECT_FALSE(doc["syscalls"][0].contains("arguments"));
  auto back = trace_from_json(doc, "t.json");
  ASSERT_TRUE(back.ok()) << back.error().message;
  const SyscallEntry& socket = back->syscalls[1];
  ASSERT_EQ(socket.arguments.size(), 3u);
  EXPECT_EQ(socket.arguments[2].name, "protocol");
  ASSERT_EQ(socket.values.size(), 2u);
  EXPECT_EQ(socket.values[1].args, (ArgValues{2, 1, 0}));
  EXPECT_EQ(socket.values[1].first_step, "start");
  EXPECT_EQ(socket.values[0].first_step, "stop");
}

TEST(TraceValues, FlagsAndStructFieldsAndLostValuesRoundTrip) {
  Tallies t;
  const SyscallKey clone3{"x86_64", 435};
  add(t, clone3, 4, 0);
  add_values(t, clone3, {0x3d0f00}, 2);
  add_values(t, clone3, {0x100000000ULL}, 1);
  t[clone3].values_lost = kValuesUnreadable;
  Trace trace;
  trace.backend = "ptrace";
  trace.syscalls = entries_from(t, 0);
  json doc = to_json(trace);
  EXPECT_EQ(doc["syscalls"][0]["arguments"][0], json({{"index", 0},
                                                      {"name", "flags"},
                                                      {"compare", "flags"},
                                                      {"mask", "0xffffffffffffffff"},
                                                      {"bits", "0x7e020080"},
                                                      {"struct_offset", 0}}));
  EXPECT_EQ(doc["syscalls"][0]["values_complete"], false);
  EXPECT_EQ(doc["syscalls"][0]["values_lost"], json({"unreadable"}));
  auto back = trace_from_json(doc, "t.json");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->syscalls[0].values_lost, kValuesUnreadable);
  EXPECT_EQ(back->syscalls[0].arguments[0].struct_offset, 0);
  EXPECT_EQ(back->syscalls[0].arguments[0].bits, 0x7e020080u);
  EXPECT_EQ(back->syscalls[0].values[1].args, (ArgValues{0x100000000ULL}));
  EXPECT_EQ(lost_values_report(*back),
            (std::vector<std::string>{
                "x86_64 clone3: argument values incomplete (an argument in the caller's memory "
                "could not be read, 2 distinct values kept): a profile allows it by name only"}));
  EXPECT_TRUE(lost_values_report(values_trace()).empty());
}

TEST(TraceValues, TheReaderRefusesWrongTypesAndOutOfRangeValues) {
  const json good = to_json(values_trace());
  ASSERT_EQ(values_error(good), "");
  auto with = [&](const std::function<void(json&)>& change) {
    json doc = good;
    change(doc["syscalls"][1]);
    return values_error(doc);
  };
  EXPECT_EQ(
      with([](json& s) { s["values"][1]["args"][1] = "0x800"; }),
      "t.json: syscalls[1].values[1].args[1]: 0x800 is out of range: it has bits outside the mask 0xfff7f7ff "
      "of argument type");
  EXPECT_EQ(
      with([](json& s) { s["values"][0]["args"][0] = "0x100000002"; }),
      "t.json: syscalls[1].values[0].args[0]: 0x100000002 is out of range: it has bits outside the mask "
      "0xffffffff of argument domain");
  EXPECT_EQ(with([](json& s) { s["values"][0]["args"][0] = 2; }),
            "t.json: syscalls[1].values[0].args[0]: expected a hex string (\"0x2\")");
  EXPECT_EQ(with([](json& s) { s["values"][0]["args"][0] = "0X2"; }),
            "t.json: syscalls[1].values[0].args[0]: expected a hex string (\"0x2\")");
  EXPECT_EQ(with([](json& s) { s["values"][0]["args"].erase(2); }),
            "t.json: syscalls[1].values[0].args: expected an array of 3 hex strings");
  EXPECT_EQ(with([](json& s) { s["values"][0]["count"] = -1; }),
            "t.json: syscalls[1].values[0].count: expected an integer of at least 1, got -1");
  EXPECT_EQ(with([](json& s) { s["values"][0]["count"] = 5; }),
            "t.json: syscalls[1].values: the values count 7 calls, the syscall 3 (complete values add up to "
            "count)");
  EXPECT_EQ(with([](json& s) { std::swap(s["values"][0], s["values"][1]); }),
            "t.json: syscalls[1].values[1].args: values must be distinct and sorted");
  EXPECT_EQ(with([](json& s) { s["values"][0]["first_step"] = 3; }),
            "t.json: syscalls[1].values[0].first_step: expected a string, got the number 3");
  EXPECT_EQ(with([](json& s) { s["values"] = "many"; }),
            "t.json: syscalls[1].values: expected an array, got the string \"many\"");
  EXPECT_EQ(with([](json& s) { s.erase("values_complete"); }),
            "t.json: syscalls[1].values_complete: missing");
  EXPECT_EQ(with([](json& s) { s["values_complete"] = false; }),
            "t.json: syscalls[1].values_complete: false needs values_lost to say why");
  EXPECT_EQ(with([](json& s) { s["values_lost"] = json::array({"map_full"}); }),
            "t.json: syscalls[1].values_lost: given although values_complete is true");
  EXPECT_EQ(with([](json& s) {
              s["values_complete"] = false;
              s["values_lost"] = json::array({"tired"});
            }),
            "t.json: syscalls[1].values_lost[0]: expected \"map_full\", \"unreadable\" or \"not_stored\"");
  EXPECT_EQ(with([](json& s) { s["arguments"][0]["index"] = 6; }),
            "t.json: syscalls[1].arguments[0].index: expected an integer from 0 to 5, got 6");
  EXPECT_EQ(with([](json& s) { s["arguments"][1]["index"] = 0; }),
            "t.json: syscalls[1].arguments[1].index: arguments must be in increasing index order");
  EXPECT_EQ(with([](json& s) { s["arguments"][0]["compare"] = "equal"; }),
            "t.json: syscalls[1].arguments[0].compare: expected \"exact\", \"masked\" or \"flags\"");
  EXPECT_EQ(with([](json& s) { s["arguments"][0]["mask"] = "0x0"; }),
            "t.json: syscalls[1].arguments[0].mask: expected a non-zero hex string (\"0xffffffff\")");
  EXPECT_EQ(with([](json& s) { s["arguments"][0]["bits"] = "0x1"; }),
            "t.json: syscalls[1].arguments[0].bits: only a flags comparison has bits");
  EXPECT_EQ(with([](json& s) { s["arguments"][0]["compare"] = "flags"; }),
            "t.json: syscalls[1].arguments[0].bits: missing");
  EXPECT_EQ(with([](json& s) {
              s["arguments"][0]["compare"] = "flags";
              s["arguments"][0]["bits"] = "0x100000000";
            }),
            "t.json: syscalls[1].arguments[0].bits: has bits outside the mask 0xffffffff");
  EXPECT_EQ(with([](json& s) { s["arguments"][0]["struct_offset"] = 4; }),
            "t.json: syscalls[1].arguments[0].struct_offset: expected a multiple of 8 in 0..4088");
  EXPECT_EQ(with([](json& s) { s["arguments"][0]["name"] = ""; }),
            "t.json: syscalls[1].arguments[0].name: expected a non-empty string");
  EXPECT_EQ(with([](json& s) { s["arguments"] = json::array(); }),
            "t.json: syscalls[1].arguments: expected a non-empty array");
  EXPECT_EQ(with([](json& s) { s.erase("arguments"); }),
            "t.json: syscalls[1].values: given without \"arguments\"");
  json unarmed = good;
  unarmed["unarmed"] = json::array({good["syscalls"][1]});
  unarmed["unarmed"][0]["values"][0]["args"][1] = "0x80000";
  EXPECT_EQ(values_error(unarmed),
            "t.json: unarmed[0].values[0].args[1]: 0x80000 is out of range: it has bits outside the mask "
            "0xfff7f7ff "
            "of argument type");
}

}  // namespace sandmine::trace
