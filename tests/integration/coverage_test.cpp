// sandmine mine --until-saturated with runc: the rounds stop by the rule they
// announce, and the coverage block agrees with the per-step incidence it was
// computed from.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include "support/engines.h"
#include "support/trace_run.h"
#include "sys/files.h"

namespace sandmine::test {

namespace fs = std::filesystem;

class Coverage : public RuncTest {
 protected:
  Outcome mine(const std::vector<std::string>& flags) {
    std::vector<std::string> args{"mine",    std::string(EXAMPLES_DIR) + "/busybox-httpd.yaml",
                                  "-o",      dir_.path(),
                                  "--cache", cache_.path()};
    args.insert(args.end(), flags.begin(), flags.end());
    return sandmine(args);
  }
  TempDir cache_, dir_;
};

std::vector<std::string> explore_names() {
  std::vector<std::string> names;
  for (const auto& s : httpd_example().explore) names.push_back(s.name);
  return names;
}

// The coverage block recomputed from the steps' incidence, and checked
// against the rest of the trace.
void expect_consistent_coverage(const nlohmann::json& trace) {
  ASSERT_TRUE(trace.contains("coverage")) << trace.dump();
  const auto& c = trace["coverage"];
  std::set<std::string> all, armed;
  std::map<std::string, int> explore_steps_using;
  std::size_t units = 0, incidences = 0, cumulative = 0;
  for (const auto& s : trace["steps"]) {
    auto used = s["used"].get<std::vector<std::string>>();
    std::set<std::string> used_set(used.begin(), used.end());
    EXPECT_EQ(used_set.size(), used.size()) << "a step lists a syscall once: " << s.dump();
    for (const auto& n : s["new_syscalls"])
      EXPECT_TRUE(used_set.count(n)) << n << " new but not used in " << s.dump();
    cumulative += s["new_syscalls"].size();
    EXPECT_EQ(s["total"], cumulative) << s.dump();
    all.insert(used.begin(), used.end());
    if (s["phase"] == "explore") {
      ++units;
      incidences += used.size();
      for (const auto& n : used) ++explore_steps_using[n];
    }
  }
  for (const auto& e : trace["syscalls"])
    armed.insert(e["arch"].get<std::string>() + ":" +
                 (e["name"].is_string() ? e["name"].get<std::string>() : "#" + e["nr"].dump()));
  EXPECT_EQ(all, armed) << "every armed syscall is used in some step, and nothing else is";
  std::size_t q1 = 0, q2 = 0;
  for (const auto& [name, k] : explore_steps_using) {
    q1 += k == 1;
    q2 += k == 2;
  }
  EXPECT_EQ(c["observed"], trace["syscalls"].size());
  EXPECT_EQ(c["steps"], units);
  EXPECT_EQ(c["incidences"], incidences);
  EXPECT_EQ(c["observed_in_steps"], explore_steps_using.size());
  EXPECT_EQ(c["q1"], q1);
  EXPECT_EQ(c["q2"], q2);
  ASSERT_TRUE(c["sample_coverage"].is_number()) << c.dump();
  double coverage = c["sample_coverage"], chao2 = c["chao2"], unseen = c["unseen_estimate"];
  EXPECT_GE(coverage, 0.0);
  EXPECT_LE(coverage, 1.0);
  EXPECT_GE(chao2, c["observed"].get<double>());
  EXPECT_NEAR(chao2, c["observed"].get<double>() + unseen, 1e-5);
  EXPECT_EQ(q1 == 0, coverage == 1.0) << c.dump();
}

TEST_F(Coverage, UntilSaturatedStopsByItsRuleAndSaysAfterHowManyRounds) {
  Outcome r = mine({"--until-saturated", "4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(r.err, m,
                        std::regex(R"(sandmine: saturated: 4 explore steps in a row added no syscall \(the )"
                                   R"(last: (\S+)\), in round (\d+) of at most 5\n)")))
      << r.err;
  std::string last = m[1];
  int rounds = std::stoi(m[2]);

  auto trace = read_json(dir_.file("trace.json"));
  EXPECT_EQ(trace["saturation"]["rounds"], rounds);
  EXPECT_EQ(trace["saturation"]["saturated"], true);
  EXPECT_EQ(trace["saturation"]["wanted"], 4);
  // The explore steps are the example's, round after round, up to where the rule stopped them.
  std::vector<std::string> explore, expected;
  std::vector<bool> added;
  for (const auto& s : trace["steps"])
    if (s["phase"] == "explore") {
      explore.push_back(s["name"]);
      added.push_back(!s["new_syscalls"].empty());
    }
  for (int round = 1; expected.size() < explore.size(); ++round)
    for (const auto& n : explore_names())
      if (expected.size() < explore.size())
        expected.push_back(round == 1 ? n : n + "#" + std::to_string(round));
  EXPECT_EQ(explore, expected);
  ASSERT_FALSE(explore.empty());
  EXPECT_EQ(explore.back(), last);
  EXPECT_EQ(explore.back().find("#" + std::to_string(rounds + 1)), std::string::npos);
  if (rounds > 1) {
    EXPECT_NE(explore.back().find("#" + std::to_string(rounds)), std::string::npos);
  }
  EXPECT_EQ(r.err.find("round " + std::to_string(rounds + 1) + " of at most 5"), std::string::npos);
  if (rounds > 1) {
    EXPECT_NE(r.err.find("round " + std::to_string(rounds) + " of at most 5"), std::string::npos);
  }
  // The rule: the last 4 explore steps added nothing, and no 4 in a row did before them.
  ASSERT_GE(added.size(), 4u);
  int quiet = 0;
  for (std::size_t i = 0; i < added.size(); ++i) {
    quiet = added[i] ? 0 : quiet + 1;
    if (i + 1 < added.size()) {
      EXPECT_LT(quiet, 4) << "it should have stopped after " << explore[i];
    }
  }
  EXPECT_EQ(quiet, 4);
  EXPECT_EQ(trace["steps"].back()["name"], "stop");
  EXPECT_EQ(trace["partial"], false);

  expect_consistent_coverage(trace);
  std::string summary = *sys::read_file(dir_.file("summary.md"));
  EXPECT_NE(summary.find("## Coverage estimate"), std::string::npos);
  EXPECT_NE(
      summary.find(fmt::format("Rounds of the explore steps (--until-saturated 4): {}. saturated: ", rounds)),
      std::string::npos)
      << summary;
  EXPECT_NE(sys::read_file(dir_.file("report.html"))->find("<svg data-chart=\"discovery\""),
            std::string::npos);
}

TEST_F(Coverage, MaxRoundsEndsRoundsThatNeverSaturate) {
  Outcome r = mine({"--until-saturated", "100", "--max-rounds", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto names = explore_names();
  EXPECT_NE(
      r.err.find(fmt::format("sandmine: round 2 of at most 2: the {} explore steps again", names.size())),
      std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("sandmine: not saturated after 2 rounds (--max-rounds): "), std::string::npos)
      << r.err;
  const std::size_t total = 2 * names.size() + 2;
  EXPECT_NE(r.err.find(fmt::format("[{}/{}] stop stop: ok", total, total)), std::string::npos) << r.err;
  auto trace = read_json(dir_.file("trace.json"));
  std::vector<std::string> steps, expected{"start"};
  for (const auto& s : trace["steps"]) steps.push_back(s["name"]);
  for (const auto& n : names) expected.push_back(n);
  for (const auto& n : names) expected.push_back(n + "#2");
  expected.push_back("stop");
  EXPECT_EQ(steps, expected);
  EXPECT_EQ(trace["saturation"]["saturated"], false);
  EXPECT_EQ(trace["saturation"]["rounds"], 2);
  expect_consistent_coverage(trace);
}

TEST_F(Coverage, OneRoundByDefaultWithItsEstimate) {
  Outcome r = mine({});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("round 2"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("saturated"), std::string::npos) << r.err;
  auto trace = read_json(dir_.file("trace.json"));
  EXPECT_FALSE(trace.contains("saturation"));
  EXPECT_EQ(trace["coverage"]["steps"], explore_names().size());
  expect_consistent_coverage(trace);
}

TEST(CoverageFlags, BadValuesAreOneClearLine) {
  Outcome zero =
      sandmine({"mine", std::string(EXAMPLES_DIR) + "/busybox-httpd.yaml", "--until-saturated", "0"});
  EXPECT_EQ(zero.exit_code, 2);
  EXPECT_NE(zero.err.find("--until-saturated"), std::string::npos) << zero.err;
  Outcome alone = sandmine({"mine", std::string(EXAMPLES_DIR) + "/busybox-httpd.yaml", "--max-rounds", "3"});
  EXPECT_EQ(alone.exit_code, 2);
  EXPECT_NE(alone.err.find("--max-rounds requires --until-saturated"), std::string::npos) << alone.err;
}

}  // namespace sandmine::test
