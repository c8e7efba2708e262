#include <gtest/gtest.h>

#include "profile/timing.h"
#include "util/csv.h"

namespace sandmine {

TEST(Csv, QuotedFieldsAndErrors) {
  auto rows = parse_csv("a,b\n1,\"x, \"\"y\"\"\"\n\n2,z\n", "t.csv");
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].at("b"), "x, \"y\"");
  EXPECT_EQ((*rows)[1].at("a"), "2");
  auto short_row = parse_csv("a,b\n1\n", "t.csv");
  ASSERT_FALSE(short_row.ok());
  EXPECT_EQ(short_row.error().message, "t.csv:2: 1 fields, the header has 2");
  auto open_quote = parse_csv("a\n\"x\n", "t.csv");
  ASSERT_FALSE(open_quote.ok());
  EXPECT_EQ(open_quote.error().message, "t.csv:2: unterminated quoted field");
}

namespace profile {

TEST(Timing, TableHasReasonsAndSources) {
  const auto& table = timing_dependent();
  ASSERT_EQ(table.size(), 14u);
  for (const auto& t : table) {
    EXPECT_FALSE(t.reason.empty()) << t.name;
    EXPECT_FALSE(t.source.empty()) << t.name;
    EXPECT_TRUE(t.applies == "always" || t.applies == "runc") << t.name;
  }
}

TEST(Timing, AddedOnEachArchitectureWhereTheNameExistsWithTheirComment) {
  Profile p{.source = "p.json", .default_action = Action::error(1), .arches = {"x86_64"}};
  allow(p, {"read", "rt_sigreturn"}, "");
  // rt_sigreturn was already seen: only what is new is reported.
  EXPECT_EQ(add_timing_dependent(p, false), (std::set<std::string>{"restart_syscall"}));
  EXPECT_EQ(allowed_names(p), (std::set<std::string>{"read", "restart_syscall", "rt_sigreturn"}));
  EXPECT_EQ(p.syscalls.at("restart_syscall").comment, kTimingDependentComment);
  EXPECT_EQ(p.syscalls.at("rt_sigreturn").comment, "");
  // i386's sigreturn exists only there: added once x86 is listed.
  p.arches.push_back("x86");
  EXPECT_EQ(add_timing_dependent(p, false), (std::set<std::string>{"sigreturn"}));
}

TEST(Timing, ContainersAlsoGetTheGoRuntimeOfRuncInit) {
  Profile command{.source = "c.json", .default_action = Action::error(1), .arches = {"x86_64"}};
  allow(command, {"read"}, "");
  Profile container = command;
  add_timing_dependent(command, false);
  add_timing_dependent(container, true);
  EXPECT_FALSE(command.syscalls.count("mmap"));
  for (const char* s : {"mmap", "futex", "nanosleep", "sched_yield", "tgkill", "rt_sigreturn"})
    EXPECT_TRUE(allowed_names(container).count(s)) << s;
}

TEST(Timing, NothingWithoutAnArchitecture) {
  Profile p{.source = "p.json", .default_action = Action::error(1)};
  EXPECT_TRUE(add_timing_dependent(p, true).empty());
  EXPECT_TRUE(p.syscalls.empty());
}

}  // namespace profile
}  // namespace sandmine
