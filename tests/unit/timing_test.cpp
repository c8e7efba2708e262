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
  // Seen or not, a timing-dependent name says why it is there.
  EXPECT_EQ(p.syscalls.at("rt_sigreturn").comment, kTimingDependentComment);
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

// The rules of a timing-dependent name under argument rules do not depend on
// whether the recording saw it: futex gets the lock and condition-variable
// operations either way, and the priority-inheritance ones only when seen.
TEST(Timing, ArgumentRulesOfTimingNamesAreTheSameSeenOrNot) {
  Profile unseen{.source = "u.json", .default_action = Action::error(1), .arches = {"x86_64"}};
  Profile seen = unseen;
  seen.syscalls["futex"].rules = baseline_rules("futex", ArgsMode::safe);
  ASSERT_EQ(seen.syscalls["futex"].rules.size(),
            7u);  // WAIT WAKE REQUEUE CMP_REQUEUE WAKE_OP WAIT_BITSET WAKE_BITSET
  EXPECT_TRUE(add_timing_dependent(unseen, true, ArgsMode::safe).count("futex"));
  EXPECT_FALSE(add_timing_dependent(seen, true, ArgsMode::safe).count("futex"));
  EXPECT_EQ(unseen.syscalls.at("futex").rules, seen.syscalls.at("futex").rules);
  EXPECT_FALSE(unseen.syscalls.at("futex").action);
  for (const auto& rule : unseen.syscalls.at("futex").rules) {
    EXPECT_EQ(rule.comment, kTimingDependentComment);
    ASSERT_EQ(rule.args.size(), 1u);
    EXPECT_EQ(rule.args[0].index, 1u);
    EXPECT_EQ(rule.args[0].value, 0xfffffe7fu);  // without FUTEX_PRIVATE_FLAG and FUTEX_CLOCK_REALTIME
    EXPECT_NE(rule.args[0].value_two, 12u);      // FUTEX_CMP_REQUEUE_PI
  }
  // A seen FUTEX_LOCK_PI (6) stays, next to the baseline.
  Profile pi{.source = "p.json", .default_action = Action::error(1), .arches = {"x86_64"}};
  pi.syscalls["futex"].rules = {{Action::allow(), {{1, 0xfffffe7f, 6, "SCMP_CMP_MASKED_EQ"}}, "", ""}};
  add_timing_dependent(pi, true, ArgsMode::safe);
  EXPECT_EQ(pi.syscalls.at("futex").rules.size(), 8u);
  EXPECT_EQ(pi.syscalls.at("futex").rules[0].args[0].value_two, 6u);

  // mmap's PROT_EXEC is a flags argument: unseen, mmap is allowed without it.
  ASSERT_EQ(unseen.syscalls.at("mmap").rules.size(), 1u);
  EXPECT_EQ(unseen.syscalls.at("mmap").rules[0].args,
            (std::vector<ArgCondition>{{2, 0x4, 0, "SCMP_CMP_MASKED_EQ"}}));
  // madvise's advice is compared only in the strict tier, and has no
  // always-allowed values: unseen, it is allowed by name in both tiers.
  EXPECT_EQ(unseen.syscalls.at("madvise").action, Action::allow());
  Profile strict{.source = "s.json", .default_action = Action::error(1), .arches = {"x86_64"}};
  add_timing_dependent(strict, true, ArgsMode::strict);
  EXPECT_EQ(strict.syscalls.at("madvise").action, Action::allow());
  // tgkill's signal is strict-tier, with SIGURG always allowed.
  ASSERT_EQ(strict.syscalls.at("tgkill").rules.size(), 1u);
  EXPECT_EQ(strict.syscalls.at("tgkill").rules[0].args[0].value_two, 23u);  // SIGURG
  EXPECT_EQ(unseen.syscalls.at("tgkill").action, Action::allow());
}

TEST(Timing, NothingWithoutAnArchitecture) {
  Profile p{.source = "p.json", .default_action = Action::error(1)};
  EXPECT_TRUE(add_timing_dependent(p, true).empty());
  EXPECT_TRUE(p.syscalls.empty());
}

}  // namespace profile
}  // namespace sandmine
