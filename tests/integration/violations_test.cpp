// Naming violations: the recorder watches a target against a profile's
// allowed set and names, at sys_exit, every call outside it, denied or not.
#include <gtest/gtest.h>

#include "support/run.h"
#include "syscalls/syscalls.h"
#include "trace/ebpf_recorder.h"

namespace sandmine::test {

using trace::SyscallKey;
using trace::Violation;

namespace {

constexpr std::int64_t kUname = 63, kSysinfo = 99;  // x86_64

// Every x86_64 number except uname and sysinfo: a profile without them.
trace::Watch all_but_uname_and_sysinfo() {
  trace::Watch w;
  for (std::int64_t nr = 0; nr < 512; ++nr)
    if (nr != kUname && nr != kSysinfo) w.allowed.insert({"x86_64", nr});
  return w;
}

std::uint64_t armed_count(const trace::Recording& r, std::int64_t nr) {
  auto it = r.counts.armed.find(SyscallKey{"x86_64", nr});
  return it == r.counts.armed.end() ? 0 : it->second.count;
}

std::vector<std::tuple<std::int64_t, std::string, std::uint64_t, std::uint64_t>> rows(
    const trace::Violations& v) {
  std::vector<std::tuple<std::int64_t, std::string, std::uint64_t, std::uint64_t>> out;
  for (const Violation& row : v.rows) {
    EXPECT_EQ(row.key.arch, "x86_64");
    out.emplace_back(row.key.nr, row.comm, row.count, row.denied);
  }
  return out;
}

}  // namespace

class Violations : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!is_root()) SKIP_OR_FAIL_IN_CI("recording needs root (CI runs as root)");
  }
};

TEST_F(Violations, DeniedCallsAreNamedAtExitWithExactCountsPerProcess) {
  auto rec = trace::EbpfRecorder::open({.violations = true});
  ASSERT_TRUE(rec.ok()) << rec.error().message;
  // The program arms itself: its filter denies uname and sysinfo with EPERM.
  auto r = (*rec)->record({.argv = {prog("deny"), "errno", "7"},
                           .recording_filter = false,
                           .watch = all_but_uname_and_sysinfo()});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->exit.code, 0);
  using Row = std::tuple<std::int64_t, std::string, std::uint64_t, std::uint64_t>;
  EXPECT_EQ(rows(r->violations),
            (std::vector<Row>{
                {kUname, "deny-child", 7, 7}, {kUname, "prog_deny", 7, 7}, {kSysinfo, "prog_deny", 14, 14}}));
  EXPECT_EQ(r->violations.pids.size(), 2u);  // the program and its child
  // A denied call never reaches sys_enter.
  EXPECT_EQ(armed_count(*r, kUname), 0u);
  EXPECT_EQ(armed_count(*r, kSysinfo), 0u);
  EXPECT_TRUE((*rec)->health().ok());
}

TEST_F(Violations, LoggedCallsAreNamedTooButNotDenied) {
  auto rec = trace::EbpfRecorder::open({.violations = true});
  ASSERT_TRUE(rec.ok()) << rec.error().message;
  auto r = (*rec)->record(
      {.argv = {prog("deny"), "log", "5"}, .recording_filter = false, .watch = all_but_uname_and_sysinfo()});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->exit.code, 0);
  using Row = std::tuple<std::int64_t, std::string, std::uint64_t, std::uint64_t>;
  EXPECT_EQ(rows(r->violations),
            (std::vector<Row>{
                {kUname, "deny-child", 5, 0}, {kUname, "prog_deny", 5, 0}, {kSysinfo, "prog_deny", 10, 0}}));
  // Logged calls run: sys_enter counts them, armed.
  EXPECT_EQ(armed_count(*r, kUname), 10u);
  EXPECT_EQ(armed_count(*r, kSysinfo), 10u);
}

TEST_F(Violations, AnAllowedCallThatFailsIsNoViolationAndUnwatchedTargetsAreNotNamed) {
  auto rec = trace::EbpfRecorder::open({.violations = true});
  ASSERT_TRUE(rec.ok()) << rec.error().message;
  // Everything allowed: the failing mkdir and the denied calls are in the set.
  trace::Watch all;
  for (std::int64_t nr = 0; nr < 512; ++nr) all.allowed.insert({"x86_64", nr});
  auto r = (*rec)->record({.argv = {prog("deny"), "errno", "3"}, .recording_filter = false, .watch = all});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->violations.rows.empty());
  EXPECT_TRUE(r->violations.pids.empty());
  // Without a watch nothing is named, and the slot's old rows are gone.
  auto again = (*rec)->record({.argv = {prog("deny"), "errno", "3"}, .recording_filter = false});
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(again->violations.rows.empty());
}

// A recorder opened without violation naming attaches sys_exit when a target
// is first watched (mine -j shares one recorder between runs that watch and
// runs that do not): the watch names what it should.
TEST_F(Violations, AWatchAttachesTheExitProgramOnFirstUse) {
  auto rec = trace::EbpfRecorder::open();
  ASSERT_TRUE(rec.ok()) << rec.error().message;
  auto r = (*rec)->record({.argv = {prog("deny"), "errno", "1"}, .watch = trace::Watch{}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  bool uname_named = false;
  for (const auto& row : rows(r->violations))
    if (std::get<0>(row) == kUname && std::get<1>(row) == "prog_deny") uname_named = true;
  EXPECT_TRUE(uname_named);
}

}  // namespace sandmine::test
