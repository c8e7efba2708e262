// The per-step bookkeeping of mining and of the held-out check, from counts
// alone: what each step used and added, and what fell outside the profile.
#include "explore/ledger.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cerrno>

namespace sandmine::explore {
namespace {

using trace::SyscallKey;
using Strings = std::vector<std::string>;

const SyscallKey kRead{"x86_64", 0}, kWrite{"x86_64", 1}, kMkdir{"x86_64", 83}, kGetpid86{"x86", 20};
const SyscallKey kSocket{"x86_64", 41}, kClone3{"x86_64", 435};

// A profile that allows these names on x86_64 (and lists x86, allowing nothing there).
profile::Profile allowing(std::initializer_list<const char*> names) {
  profile::Profile p{
      .source = "p.json", .default_action = profile::Action::error(1), .arches = {"x86_64", "x86"}};
  for (const char* n : names) p.syscalls[n].action = profile::Action::allow();
  return p;
}

// socket allowed for (AF_INET, SOCK_STREAM) and (AF_UNIX, any type) only, as
// the argument profiles write them: 32-bit masked comparisons.
profile::Profile with_socket_rules(profile::Profile p) {
  using profile::ArgCondition;
  p.syscalls["socket"].rules = {
      {profile::Action::allow(),
       {ArgCondition{0, 0xffffffff, 2, "SCMP_CMP_MASKED_EQ"},
        ArgCondition{1, 0xfff7f7ff, 1, "SCMP_CMP_MASKED_EQ"}}},
      {profile::Action::allow(), {ArgCondition{0, 0xffffffff, 1, "SCMP_CMP_MASKED_EQ"}}}};
  p.syscalls["clone3"].action = profile::Action::error(ENOSYS);
  return p;
}

trace::CallArgs socket_args(std::uint64_t domain, std::uint64_t type, std::uint64_t protocol = 0) {
  return {domain, type, protocol, 0, 0, 0};
}

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
  ViolationLedger ledger(CheckMode::Complain, allowing({"read", "write"}));
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
  ViolationLedger ledger(CheckMode::Enforce, allowing({"read"}));
  trace::Counts ignored;
  ignored.armed = tallies({{kWrite, 100}});  // not read in enforce mode
  // mkdir returned an error 3 times out of 3 calls: denied; write succeeded.
  EXPECT_EQ(ledger.record("a", ignored, seen({{kMkdir, "busybox", 3, 3}, {kWrite, "busybox", 2, 0}})), 3u);
  auto v = ledger.violations();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].name, "mkdir");
  EXPECT_EQ(v[0].count, 3u);
  EXPECT_EQ(ledger.totals(), (std::map<CallKey, std::uint64_t>{{{kMkdir, std::nullopt}, 3}}));
}

TEST(ViolationLedger, TheWatchKeepsTheArgumentsOfSyscallsDecidedByThemAndNeverNamesAnsweredOnes) {
  ViolationLedger ledger(CheckMode::Enforce, with_socket_rules(allowing({"read"})));
  const auto& w = ledger.watch();
  EXPECT_TRUE(w.allowed.contains(kRead));
  EXPECT_TRUE(w.allowed.contains(kClone3));  // ENOSYS on purpose: never named
  EXPECT_FALSE(w.allowed.contains(kSocket));
  EXPECT_FALSE(w.allowed.contains(kMkdir));
  // socket on both listed ABIs (x86: the direct socket call, 359), with the
  // bits the rules compare plus what the argument table records (the protocol).
  ASSERT_EQ(w.arguments.size(), 2u);
  trace::CallArgs masks{0xffffffff, 0xfff7f7ff, 0xffffffff, 0, 0, 0};
  EXPECT_EQ(w.arguments.at(kSocket), masks);
  EXPECT_EQ(w.arguments.at((SyscallKey{"x86", 359})), masks);
}

TEST(ViolationLedger, EnforceModeJudgesCallsByTheirArgumentsAndNamesTheDeniedOnesWithTheirValues) {
  ViolationLedger ledger(CheckMode::Enforce, with_socket_rules(allowing({"read"})));
  trace::Counts ignored;
  // Allowed values, one of them failing on its own (EPERM from the kernel,
  // not the filter: the values say the filter let it through).
  auto rows = seen({{kSocket, "nginx", 4, 1, socket_args(AF_INET, SOCK_STREAM)},
                    {kSocket, "nginx", 2, 0, socket_args(AF_UNIX, SOCK_DGRAM)},
                    {kSocket, "ip", 3, 3, socket_args(AF_NETLINK, SOCK_RAW)},
                    {kSocket, "nginx", 1, 1, socket_args(AF_INET, SOCK_RAW, 0)}},
                   {7});
  EXPECT_EQ(ledger.record("start", ignored, rows), 4u);
  std::vector<std::pair<std::string, std::uint64_t>> during{{"socket(AF_INET, SOCK_RAW, 0)", 1},
                                                            {"socket(AF_NETLINK, SOCK_RAW, 0)", 3}};
  EXPECT_EQ(ledger.last_step(), during);
  auto v = ledger.violations();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].name, "socket");
  EXPECT_EQ(v[0].call, "socket(AF_INET, SOCK_RAW, 0)");
  EXPECT_EQ(v[0].processes, (std::set<std::string>{"nginx"}));
  EXPECT_EQ(v[1].call, "socket(AF_NETLINK, SOCK_RAW, 0)");
  EXPECT_EQ(v[1].label(), "socket(AF_NETLINK, SOCK_RAW, 0)");
  EXPECT_EQ(v[1].count, 3u);
  EXPECT_EQ(v[1].processes, (std::set<std::string>{"ip"}));
  EXPECT_EQ(v[1].per_step, (std::map<std::string, std::uint64_t>{{"start", 3}}));
  std::vector<profile::CallArgument> args{
      {0, "domain", AF_NETLINK, "AF_NETLINK"}, {1, "type", SOCK_RAW, "SOCK_RAW"}, {2, "protocol", 0, "0"}};
  EXPECT_EQ(v[1].args, args);
}

TEST(ViolationLedger, ComplainModeCountsOutsideValuesAtExitAndNeverTheSysEnterCountOfTheirSyscall) {
  ViolationLedger ledger(CheckMode::Complain, with_socket_rules(allowing({"read"})));
  trace::Counts counts;
  // sys_enter counted every socket call, allowed values or not: not the measure.
  counts.armed = tallies({{kRead, 3}, {kSocket, 9}});
  auto rows = seen({{kSocket, "nginx", 7, 0, socket_args(AF_INET, SOCK_STREAM | SOCK_NONBLOCK)},
                    {kSocket, "ip", 2, 0, socket_args(AF_PACKET, SOCK_RAW)}});
  EXPECT_EQ(ledger.record("probe", counts, rows), 2u);
  auto v = ledger.violations();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].call, "socket(AF_PACKET, SOCK_RAW, 0)");
  EXPECT_EQ(v[0].processes, (std::set<std::string>{"ip"}));
  EXPECT_EQ(v[0].count, 2u);
}

TEST(ViolationLedger, ACallAnsweredWithEnosysOnPurposeIsNoViolation) {
  ViolationLedger ledger(CheckMode::Enforce, with_socket_rules(allowing({"read"})));
  trace::Counts ignored;
  EXPECT_EQ(ledger.record("start", ignored, seen({{kClone3, "nginx", 2, 2}})), 0u);
  EXPECT_TRUE(ledger.violations().empty());
}

}  // namespace
}  // namespace sandmine::explore
