// The diff of two snapshots: which syscalls and argument values a step used
// and used first.
#include <gtest/gtest.h>

#include "trace/snapshot_diff.h"

namespace sandmine::trace {

namespace {

const SyscallKey kSocket{"x86_64", 41};
const SyscallKey kRead{"x86_64", 0};
const SyscallKey kIoctl{"x86_64", 16};

Tallies snapshot(
    std::initializer_list<std::tuple<SyscallKey, std::uint64_t, std::map<ArgValues, std::uint64_t>>> rows) {
  Tallies out;
  for (const auto& [key, count, values] : rows) {
    add(out, key, count, 1);
    for (const auto& [v, n] : values) add_values(out, key, v, n);
  }
  return out;
}

}  // namespace

TEST(SnapshotDiff, EverythingIsNewAgainstNothing) {
  Tallies after = snapshot({{kRead, 3, {}}, {kSocket, 2, {{{2, 1, 0}, 1}, {{1, 2, 0}, 1}}}});
  SnapshotDiff d = diff_snapshots({}, after);
  EXPECT_EQ(d.used, (std::vector<SyscallKey>{kRead, kSocket}));
  EXPECT_EQ(d.new_syscalls, (std::vector<SyscallKey>{kRead, kSocket}));
  EXPECT_EQ(d.new_values, (std::map<SyscallKey, std::vector<ArgValues>>{{kSocket, {{1, 2, 0}, {2, 1, 0}}}}));
  EXPECT_EQ(d.used_values, d.new_values);
  EXPECT_TRUE(d.newly_lost.empty());
}

TEST(SnapshotDiff, GrowthIsUseAndAbsenceIsNew) {
  Tallies before = snapshot({{kRead, 3, {}}, {kSocket, 2, {{{2, 1, 0}, 2}}}, {kIoctl, 1, {{{0x5401}, 1}}}});
  Tallies after = snapshot({{kRead, 3, {}},                                   // unchanged: not used
                            {kSocket, 4, {{{2, 1, 0}, 3}, {{16, 3, 0}, 1}}},  // one old value grew, one new
                            {kIoctl, 2, {{{0x5401}, 2}}}});                   // same value, used again
  SnapshotDiff d = diff_snapshots(before, after);
  EXPECT_EQ(d.used, (std::vector<SyscallKey>{kIoctl, kSocket}));
  EXPECT_TRUE(d.new_syscalls.empty());
  EXPECT_EQ(d.new_values, (std::map<SyscallKey, std::vector<ArgValues>>{{kSocket, {{16, 3, 0}}}}));
  EXPECT_EQ(d.used_values, (std::map<SyscallKey, std::vector<ArgValues>>{
                               {kIoctl, {{0x5401}}}, {kSocket, {{2, 1, 0}, {16, 3, 0}}}}));
}

TEST(SnapshotDiff, WhatOnlyTheEarlierSnapshotHasIsIgnored) {
  Tallies before = snapshot({{kSocket, 2, {{{2, 1, 0}, 2}}}, {kRead, 5, {}}});
  Tallies after = snapshot({{kSocket, 1, {{{10, 1, 0}, 1}}}});
  SnapshotDiff d = diff_snapshots(before, after);
  EXPECT_TRUE(d.used.empty());  // the count went back: not a use
  EXPECT_EQ(d.new_values, (std::map<SyscallKey, std::vector<ArgValues>>{{kSocket, {{10, 1, 0}}}}));
}

TEST(SnapshotDiff, ValuesLostBetweenSnapshotsAreNamed) {
  Tallies before = snapshot({{kIoctl, 1, {{{0x5401}, 1}}}});
  Tallies after = before;
  after[kIoctl].count = 2;
  after[kIoctl].values_lost = kValuesMapFull;
  SnapshotDiff d = diff_snapshots(before, after);
  EXPECT_EQ(d.newly_lost, (std::vector<SyscallKey>{kIoctl}));
  EXPECT_TRUE(diff_snapshots(after, after).newly_lost.empty());  // already lost: not new
}

TEST(SnapshotDiff, FirstStepsKeepTheStepThatFirstUsedEachValue) {
  FirstSteps firsts;
  Tallies s1 = snapshot({{kSocket, 1, {{{2, 1, 0}, 1}}}});
  Tallies s2 = snapshot({{kSocket, 3, {{{2, 1, 0}, 2}, {{10, 1, 0}, 1}}}});
  Tallies s3 = snapshot({{kSocket, 5, {{{2, 1, 0}, 3}, {{10, 1, 0}, 2}}}, {kIoctl, 1, {{{0x5413}, 1}}}});
  note_first_steps(firsts, diff_snapshots({}, s1), "start");
  note_first_steps(firsts, diff_snapshots(s1, s2), "index");
  note_first_steps(firsts, diff_snapshots(s2, s3), "stop");
  note_first_steps(firsts, diff_snapshots({}, s3), "again");  // a repeat never moves a first step
  EXPECT_EQ(firsts, (FirstSteps{{kSocket, {{{2, 1, 0}, "start"}, {{10, 1, 0}, "index"}}},
                                {kIoctl, {{{0x5413}, "stop"}}}}));
}

TEST(Counts, ValuesMergeAndLostReasonsJoin) {
  Tallies a = snapshot({{kSocket, 2, {{{2, 1, 0}, 2}}}});
  Tallies b = snapshot({{kSocket, 3, {{{2, 1, 0}, 1}, {{1, 1, 0}, 2}}}});
  b[kSocket].values_lost = kValuesUnreadable;
  merge_into(a, b);
  EXPECT_EQ(a[kSocket].count, 5u);
  EXPECT_EQ(a[kSocket].values, (std::map<ArgValues, std::uint64_t>{{{1, 1, 0}, 2}, {{2, 1, 0}, 3}}));
  EXPECT_EQ(a[kSocket].values_lost, kValuesUnreadable);
  EXPECT_EQ(
      describe_values_lost(kValuesMapFull | kValuesUnreadable),
      "the recorder's map of argument values was full; an argument in the caller's memory could not be read");
}

}  // namespace sandmine::trace
