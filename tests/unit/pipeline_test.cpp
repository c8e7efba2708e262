// The mine -> profile -> held-out check -> fold-in -> check chain, with the
// stages that need the kernel replaced by fakes.
#include "explore/pipeline.h"

#include <gtest/gtest.h>

#include "profile/timing.h"

namespace sandmine::explore {
namespace {

spec::Spec spec_with_validate(std::size_t steps) {
  spec::Spec s;
  s.name = "web";
  s.file = "web.yaml";
  for (std::size_t i = 0; i < steps; ++i) s.validate.push_back(spec::Step{.name = "v" + std::to_string(i)});
  return s;
}

MineResult mined(std::vector<trace::SyscallEntry> syscalls, bool failed = false) {
  MineResult r;
  r.trace.backend = "ebpf";
  r.trace.target.kind = "container";
  r.trace.syscalls = std::move(syscalls);
  r.failed = failed;
  if (failed) r.failure = "step x failed";
  return r;
}

CheckResult check_with(std::vector<std::string> outside) {
  CheckResult c;
  c.steps.push_back(StepOutcome{.name = "start", .phase = "start"});
  for (const auto& name : outside)
    c.violations.push_back(CheckViolation{.key = {"x86_64", 83}, .name = name});
  return c;
}

const std::vector<trace::SyscallEntry> kSeen = {{"x86_64", "read", 0, 5, 0, "start"},
                                                {"x86_64", "write", 1, 2, 0, "start"}};

TEST(Pipeline, MinesBuildsTheProfileAndChecksIt) {
  auto spec = spec_with_validate(1);
  std::vector<std::set<std::string>> checked;
  Stages stages{.mine = [] { return Result<MineResult>(mined(kSeen)); },
                .check =
                    [&](const profile::Profile& p) {
                      checked.push_back(profile::allowed_names(p));
                      return Result<CheckResult>(check_with({}));
                    }};
  auto r = mine_and_check(spec, {.profile_path = "out/profile.json"}, stages);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->profile);
  EXPECT_EQ(r->profile->source, "out/profile.json");
  EXPECT_TRUE(r->profile->syscalls.at("read").comment.empty());
  // The timing-dependent rows for containers, with their comment.
  EXPECT_TRUE(r->timing_added.count("rt_sigreturn"));
  EXPECT_EQ(r->profile->syscalls.at("rt_sigreturn").comment, profile::kTimingDependentComment);
  ASSERT_EQ(checked.size(), 1u);
  EXPECT_EQ(checked[0], profile::allowed_names(*r->profile));
  EXPECT_TRUE(r->folded.empty());
  EXPECT_EQ(exit_code(*r, false), 0);
  EXPECT_EQ(exit_code(*r, true), 2);
}

TEST(Pipeline, HeldOutViolationsAreReportedAndFoldedInOnlyOnRequest) {
  auto spec = spec_with_validate(2);
  int checks = 0;
  Stages stages{.mine = [] { return Result<MineResult>(mined(kSeen)); },
                .check =
                    [&](const profile::Profile& p) {
                      ++checks;
                      return Result<CheckResult>(check_with(p.syscalls.count("mkdir")
                                                                ? std::vector<std::string>{}
                                                                : std::vector<std::string>{"mkdir"}));
                    }};
  auto reported = mine_and_check(spec, {}, stages);
  ASSERT_TRUE(reported.ok());
  EXPECT_EQ(checks, 1);
  EXPECT_FALSE(reported->profile->syscalls.count("mkdir"));
  EXPECT_EQ(exit_code(*reported, false), 1);

  checks = 0;
  auto folded = mine_and_check(spec, {.include_validate = true}, stages);
  ASSERT_TRUE(folded.ok());
  EXPECT_EQ(checks, 2);
  EXPECT_EQ(folded->folded, (std::set<std::string>{"mkdir"}));
  EXPECT_EQ(folded->profile->syscalls.at("mkdir").comment, kIncludeValidateComment);
  EXPECT_TRUE(folded->held_out->passed());
  EXPECT_EQ(exit_code(*folded, false), 0);
}

TEST(Pipeline, AFailedRunGivesNoProfileAndNoCheck) {
  auto spec = spec_with_validate(1);
  bool checked = false;
  Stages stages{.mine = [] { return Result<MineResult>(mined(kSeen, true)); },
                .check =
                    [&](const profile::Profile&) {
                      checked = true;
                      return Result<CheckResult>(check_with({}));
                    }};
  auto r = mine_and_check(spec, {}, stages);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->profile);
  EXPECT_FALSE(checked);
  EXPECT_EQ(exit_code(*r, false), 2);
}

TEST(Pipeline, ACheckThatCannotRunKeepsTheProfileAndSaysWhy) {
  auto spec = spec_with_validate(1);
  Stages stages{.mine = [] { return Result<MineResult>(mined(kSeen)); },
                .check =
                    [](const profile::Profile&) {
                      return Result<CheckResult>(Error{"the Docker daemon is not running"});
                    }};
  auto r = mine_and_check(spec, {}, stages);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->profile);
  EXPECT_FALSE(r->held_out);
  EXPECT_EQ(r->check_error, "the Docker daemon is not running");
  EXPECT_EQ(exit_code(*r, false), 2);
}

// --allow reachable-safe: what the binaries can reach but mining never saw
// is added when it is neither risky nor on a CVE path, before the check, so
// the check tests the profile as written.
TEST(Pipeline, ReachableSafeAddsTheSafeUnseenBeforeTheCheck) {
  auto spec = spec_with_validate(1);
  std::vector<std::set<std::string>> checked;
  Stages stages{.mine = [] { return Result<MineResult>(mined(kSeen)); },
                .check =
                    [&](const profile::Profile& p) {
                      checked.push_back(profile::allowed_names(p));
                      return Result<CheckResult>(check_with({}));
                    },
                .reach =
                    [](const trace::Trace&) {
                      reach::ReachReport report;
                      report.unseen = {{"x86_64", "fsync", "", {}},
                                       {"x86_64", "mremap", "", {}},
                                       {"x86_64", "read", "", {}},  // allowed already
                                       {"x86_64", "ptrace", "process inspection", {}},
                                       {"x86_64", "keyctl", "", {"CVE-2016-0728"}}};
                      report.seconds = 1.5;
                      return Result<reach::ReachReport>(report);
                    }};
  PipelineOptions options{.allow_reachable_safe = true};
  options.mine.engine = "runc";
  auto r = mine_and_check(spec, options, stages);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->reachable_added, (std::set<std::string>{"fsync", "mremap"}));
  EXPECT_EQ(r->profile->syscalls.at("fsync").comment, kReachableSafeComment);
  EXPECT_FALSE(profile::allowed_names(*r->profile).count("ptrace"));
  EXPECT_FALSE(profile::allowed_names(*r->profile).count("keyctl"));
  ASSERT_EQ(checked.size(), 1u);
  EXPECT_TRUE(checked[0].count("mremap"));
  ASSERT_TRUE(r->reach);
  EXPECT_EQ(exit_code(*r, false), 0);

  // Off by default: the profile is what was seen.
  auto plain = mine_and_check(spec, {}, stages);
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->reachable_added.empty());
  EXPECT_FALSE(profile::allowed_names(*plain->profile).count("fsync"));
}

TEST(Pipeline, AnAnalysisThatCannotRunKeepsTheMinedProfileUncheckedAndExitsTwo) {
  auto spec = spec_with_validate(1);
  int checks = 0;
  Stages stages{.mine = [] { return Result<MineResult>(mined(kSeen)); },
                .check =
                    [&](const profile::Profile&) {
                      ++checks;
                      return Result<CheckResult>(check_with({}));
                    },
                .reach =
                    [](const trace::Trace&) {
                      return Result<reach::ReachReport>(
                          Error{"the image's root file system is not in the image cache /c"});
                    }};
  auto r = mine_and_check(spec, {.allow_reachable_safe = true}, stages);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->profile);
  EXPECT_EQ(checks, 0);
  EXPECT_EQ(r->reach_error,
            "--allow reachable-safe: the image's root file system is not in the image cache /c");
  EXPECT_EQ(exit_code(*r, false), 2);
}

TEST(Pipeline, MiningThatCannotStartIsAnError) {
  Stages stages{.mine = [] { return Result<MineResult>(Error{"no runc"}); },
                .check = [](const profile::Profile&) { return Result<CheckResult>(check_with({})); }};
  auto r = mine_and_check(spec_with_validate(1), {}, stages);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "no runc");
}

}  // namespace
}  // namespace sandmine::explore
