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

TEST(Timing, AddedPerArchitectureWhereTheNameExists) {
  Sandbox sb;
  sb.allowed["x86_64"] = {"read", "rt_sigreturn"};
  sb.allowed["x86"] = {"read"};
  auto added = add_timing_dependent(sb, false);
  EXPECT_EQ(sb.allowed["x86_64"], (std::set<std::string>{"read", "restart_syscall", "rt_sigreturn"}));
  EXPECT_EQ(sb.allowed["x86"], (std::set<std::string>{"read", "restart_syscall", "rt_sigreturn", "sigreturn"}));
  // rt_sigreturn was already seen on x86_64: only what is new is reported.
  EXPECT_EQ(added["x86_64"], (std::set<std::string>{"restart_syscall"}));
  EXPECT_EQ(added["x86"], (std::set<std::string>{"restart_syscall", "rt_sigreturn", "sigreturn"}));
}

TEST(Timing, ContainersAlsoGetTheGoRuntimeOfRuncInit) {
  Sandbox command, container;
  command.allowed["x86_64"] = container.allowed["x86_64"] = {"read"};
  add_timing_dependent(command, false);
  add_timing_dependent(container, true);
  EXPECT_FALSE(command.allowed["x86_64"].count("mmap"));
  for (const char* s : {"mmap", "futex", "nanosleep", "sched_yield", "tgkill", "rt_sigreturn"})
    EXPECT_TRUE(container.allowed["x86_64"].count(s)) << s;
}

TEST(Timing, NothingForAnEmptySandbox) {
  Sandbox sb;
  EXPECT_TRUE(add_timing_dependent(sb, true).empty());
  EXPECT_TRUE(sb.allowed.empty());
}

}  // namespace profile
}  // namespace sandmine
