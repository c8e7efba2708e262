#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "trace/trace.h"

namespace sandmine::trace {

using nlohmann::json;

TEST(Counts, AddAndMergeKeepTheEarliestFirstSeen) {
  Tallies a, b;
  add(a, {"x86_64", 0}, 3, 500);
  add(a, {"x86_64", 0}, 2, 400);
  add(b, {"x86_64", 0}, 1, 450);
  add(b, {"x86", 20}, 7, 900);
  merge_into(a, b);
  EXPECT_EQ(a.size(), 2u);
  EXPECT_EQ((a[{"x86_64", 0}].count), 6u);
  EXPECT_EQ((a[{"x86_64", 0}].first_ns), 400u);
  EXPECT_EQ((a[{"x86", 20}].count), 7u);
}

TEST(Trace, EntriesAreNamedSortedAndRelativeToStart) {
  Tallies t;
  add(t, {"x86_64", 110}, 4, 3'000'000);  // getppid at 2 ms after start
  add(t, {"x86", 20}, 1, 1'500'000);      // i386 getpid
  add(t, {"x86_64", 999}, 1, 2'000'000);  // no such syscall
  auto entries = entries_from(t, 1'000'000);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].arch, "x86");
  EXPECT_EQ(entries[0].name, "getpid");
  EXPECT_EQ(entries[1].arch, "x86_64");
  EXPECT_EQ(entries[1].name, "");  // unnamed sorts first
  EXPECT_EQ(entries[1].nr, 999);
  EXPECT_EQ(entries[2].name, "getppid");
  EXPECT_EQ(entries[2].count, 4u);
  EXPECT_DOUBLE_EQ(entries[2].first_seen_ms, 2.0);
}

TEST(Trace, JsonRoundTrip) {
  Trace t;
  t.backend = "ebpf";
  t.partial = true;
  t.partial_reason = "interrupted by SIGINT";
  t.target.command = {"ls", "-l"};
  t.target.exit_code = 3;
  t.target.duration_ms = 12.5;
  t.syscalls = {{"x86_64", "read", 0, 10, 1.25, ""}, {"x86", "getpid", 20, 1, 2.0, ""}};
  t.unarmed = {{"x86_64", "seccomp", 317, 1, 0.5, ""}};
  json doc = to_json(t);
  EXPECT_EQ(doc["version"], 1);
  EXPECT_EQ(doc["syscalls"][0],
            json({{"arch", "x86_64"}, {"name", "read"}, {"nr", 0}, {"count", 10}, {"first_seen_ms", 1.25}}));
  auto back = trace_from_json(doc, "t.json");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->backend, "ebpf");
  EXPECT_TRUE(back->partial);
  EXPECT_EQ(back->partial_reason, "interrupted by SIGINT");
  EXPECT_EQ(back->target.command, (std::vector<std::string>{"ls", "-l"}));
  EXPECT_EQ(back->target.exit_code, 3);
  ASSERT_EQ(back->syscalls.size(), 2u);
  EXPECT_EQ(back->syscalls[1].name, "getpid");
  EXPECT_EQ(back->syscalls[1].nr, 20);
  ASSERT_EQ(back->unarmed.size(), 1u);
  EXPECT_EQ(back->unarmed[0].name, "seccomp");
}

std::string error_of(const json& doc) {
  auto r = trace_from_json(doc, "t.json");
  return r.ok() ? "" : r.error().message;
}

TEST(Trace, MalformedDocumentsAreRejectedWithTheField) {
  json good = {{"version", 1},
               {"backend", "ebpf"},
               {"syscalls", json::array({{{"arch", "x86_64"}, {"name", "read"}, {"nr", 0}, {"count", 1}}})}};
  EXPECT_EQ(error_of(good), "");
  EXPECT_EQ(error_of(json::array()), "t.json: top level: expected a JSON object (a sandmine trace.json)");
  json v = good;
  v["version"] = 7;
  EXPECT_EQ(error_of(v), "t.json: version: unsupported version 7 (this sandmine reads 1)");
  json missing = good;
  missing.erase("syscalls");
  EXPECT_EQ(error_of(missing), "t.json: syscalls: missing");
  json arch = good;
  arch["syscalls"][0]["arch"] = "vax";
  EXPECT_NE(error_of(arch).find("t.json: syscalls[0].arch: unknown architecture \"vax\""), std::string::npos);
  json name = good;
  name["syscalls"][0]["name"] = "frobnicate";
  EXPECT_EQ(error_of(name), "t.json: syscalls[0].name: no syscall \"frobnicate\" on x86_64");
  json mismatch = good;
  mismatch["syscalls"][0]["nr"] = 1;
  EXPECT_EQ(error_of(mismatch), "t.json: syscalls[0]: x86_64 read is number 0, not 1");
  json count = good;
  count["syscalls"][0]["count"] = -1;
  EXPECT_EQ(error_of(count), "t.json: syscalls[0].count: expected a non-negative integer, got -1");
}

// Found by fuzz_trace: a first_seen_ms of 1e308 was read, then written
// rounded (x 1000 is infinite, which JSON writes as null), and the trace
// sandmine wrote did not read back. Times are bounded when read.
TEST(Trace, TimesTooLargeToWriteAreRejected) {
  json doc = {
      {"version", 1},
      {"backend", "ebpf"},
      {"syscalls",
       json::array(
           {{{"arch", "x86_64"}, {"name", "read"}, {"nr", 0}, {"count", 1}, {"first_seen_ms", 1e308}}})}};
  EXPECT_EQ(error_of(doc),
            "t.json: syscalls[0].first_seen_ms: expected a number from 0 to 1e+15, got 1e+308");
  doc["syscalls"][0]["first_seen_ms"] = 1e15;
  auto t = trace_from_json(doc, "t.json");
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(trace_from_json(to_json(*t), "again.json").ok());
}

}  // namespace sandmine::trace
