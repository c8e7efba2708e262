// The per-step bookkeeping of mining and of the held-out check, from counts
// alone: what each step used and added, and what fell outside the profile.
#include "explore/ledger.h"

#include <gtest/gtest.h>

namespace sandmine::explore {
namespace {

using trace::SyscallKey;
using Strings = std::vector<std::string>;

const SyscallKey kRead{"x86_64", 0}, kWrite{"x86_64", 1}, kMkdir{"x86_64", 83}, kGetpid86{"x86", 20};

trace::Tallies tallies(std::initializer_list<std::pair<SyscallKey, std::uint64_t>> counts) {
  trace::Tallies t;
  for (const auto& [key, n] : counts) t[key] = {n, 1};
  return t;
}

TEST(StepLedger, UsedIsWhatGrewAndNewIsWhatWasFirstSeen) {
  StepLedger ledger;
  ledger.record("start", "start", 0, 10, tallies({{kRead, 3}}));
  const auto& a = ledger.record("a", "explore", 10, 5, tallies({{kRead, 3}, {kWrite, 1}}));
  EXPECT_EQ(a.used, (Strings{"x86_64:write"}));
  EXPECT_EQ(a.new_syscalls, (Strings{"x86_64:write"}));
  EXPECT_EQ(a.total, 2u);
  const auto& b = ledger.record("b", "explore", 15, 5, tallies({{kRead, 4}, {kWrite, 1}, {kGetpid86, 2}}));
  EXPECT_EQ(b.used, (Strings{"x86:getpid", "x86_64:read"}));
  EXPECT_EQ(b.new_syscalls, (Strings{"x86:getpid"}));
  EXPECT_EQ(b.total, 3u);
  const auto& c = ledger.record("c", "explore", 20, 5, tallies({{kRead, 4}, {kWrite, 1}, {kGetpid86, 2}}));
  EXPECT_TRUE(c.used.empty());
  EXPECT_EQ(ledger.quiet_explore_steps(), 1u);
  EXPECT_EQ(ledger.last_new_step(), "b");
  EXPECT_EQ(ledger.first_step(kRead), "start");
  EXPECT_EQ(ledger.first_step(kGetpid86), "b");
  EXPECT_EQ(ledger.first_step(kMkdir), std::nullopt);
  EXPECT_EQ(ledger.steps().size(), 4u);
}

TEST(StepLedger, TheTailAfterTheLastSnapshotBelongsToTheLastStep) {
  StepLedger ledger;
  ledger.record("start", "start", 0, 1, tallies({{kRead, 1}}));
  ledger.record("stop", "stop", 1, 1, tallies({{kRead, 2}}));
  ledger.fold_tail(tallies({{kRead, 2}, {kMkdir, 1}}));
  const auto& stop = ledger.steps().back();
  EXPECT_EQ(stop.used, (Strings{"x86_64:mkdir", "x86_64:read"}));
  EXPECT_EQ(stop.new_syscalls, (Strings{"x86_64:mkdir"}));
  EXPECT_EQ(stop.total, 2u);
  EXPECT_EQ(ledger.first_step(kMkdir), "stop");
  // Only explore steps count toward saturation.
  EXPECT_EQ(ledger.quiet_explore_steps(), 0u);
}

trace::Violations seen(std::vector<trace::Violation> rows, std::set<int> pids = {}) {
  return {std::move(rows), std::move(pids)};
}

TEST(ViolationLedger, ComplainModeCountsArmedCallsOutsideTheProfilePerStep) {
  ViolationLedger ledger(CheckMode::Complain, {kRead, kWrite});
  trace::Counts counts;
  counts.armed = tallies({{kRead, 10}, {kMkdir, 2}});
  EXPECT_EQ(ledger.record("start", counts, seen({{kMkdir, "busybox", 2, 0}}, {41})), 2u);
  counts.armed = tallies({{kRead, 12}, {kMkdir, 5}, {kGetpid86, 1}});
  // exit_group never returns: no row names it, the counts do.
  EXPECT_EQ(ledger.record("probe", counts, seen({{kMkdir, "busybox", 5, 0}, {kMkdir, "sh", 0, 0}}, {41, 42})),
            4u);
  auto v = ledger.violations();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].key, kGetpid86);
  EXPECT_EQ(v[0].name, "getpid");
  EXPECT_EQ(v[0].processes, (std::set<std::string>{"?"}));
  EXPECT_EQ(v[0].first_step, "probe");
  EXPECT_EQ(v[1].name, "mkdir");
  EXPECT_EQ(v[1].count, 5u);
  EXPECT_EQ(v[1].processes, (std::set<std::string>{"busybox", "sh"}));
  EXPECT_EQ(v[1].per_step, (std::map<std::string, std::uint64_t>{{"start", 2}, {"probe", 3}}));
  EXPECT_EQ(v[1].first_step, "start");
  EXPECT_EQ(ledger.pids(), (std::set<int>{41, 42}));
}

TEST(ViolationLedger, EnforceModeCountsOnlyDenialsNotCallsThatFailedOnTheirOwn) {
  ViolationLedger ledger(CheckMode::Enforce, {kRead});
  trace::Counts ignored;
  ignored.armed = tallies({{kWrite, 100}});  // not read in enforce mode
  // mkdir returned an error 3 times out of 3 calls: denied; write succeeded.
  EXPECT_EQ(ledger.record("a", ignored, seen({{kMkdir, "busybox", 3, 3}, {kWrite, "busybox", 2, 0}})), 3u);
  auto v = ledger.violations();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].name, "mkdir");
  EXPECT_EQ(v[0].count, 3u);
  EXPECT_EQ(ledger.totals(), (std::map<SyscallKey, std::uint64_t>{{kMkdir, 3}}));
}

}  // namespace
}  // namespace sandmine::explore
