// Static reachability on mined examples: soundness (every syscall the
// container was seen making is reachable from the binaries it ran, or was made
// by the runtime before its first program), and reach.json, summary.md and
// report.html carry the result.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "support/engines.h"
#include "support/trace_run.h"
#include "sys/files.h"

namespace sandmine::test {

namespace fs = std::filesystem;

class ReachExample : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!is_root()) GTEST_SKIP() << "needs root (CI runs as root)";
    if (!fs::exists(kRunc)) SKIP_OR_FAIL_IN_CI("runc is not installed");
    if (!fs::exists("/usr/bin/mmdebstrap")) SKIP_OR_FAIL_IN_CI("mmdebstrap is not installed");
  }
  void TearDown() override {
    if (is_root()) {
      EXPECT_EQ(leftovers(), std::vector<std::string>{});
      EXPECT_EQ(runc_leftovers(), std::vector<std::string>{});
    }
  }
};

TEST_P(ReachExample, SeenIsReachableFromTheBinariesItRan) {
  TempDir dir;
  Outcome mined =
      sandmine({"mine", std::string(EXAMPLES_DIR) + "/" + GetParam() + ".yaml", "-o", dir.path()});
  ASSERT_EQ(mined.exit_code, 0) << mined.err;
  auto trace = read_json(dir.file("trace.json"));
  ASSERT_TRUE(trace.contains("binaries")) << "mine records what ran";
  EXPECT_GE(trace["binaries"].size(), 1u);
  bool any_exec = false;
  for (const auto& b : trace["binaries"]) {
    EXPECT_EQ(b["path"].get<std::string>().front(), '/');
    if (b["execs"].get<int>() > 0) any_exec = true;
  }
  EXPECT_TRUE(any_exec);

  Outcome reached = sandmine({"reach", dir.path()});
  ASSERT_EQ(reached.exit_code, 0) << reached.err;
  auto doc = read_json(dir.file("reach.json"));
  EXPECT_EQ(doc["seen_unreachable"], nlohmann::json::object()) << "a gap in the analysis";
  EXPECT_EQ(doc["counts"]["seen_unreachable"], 0);
  EXPECT_EQ(doc["binaries"].size(), trace["binaries"].size());
  // Every seen syscall is reachable, or the runtime's own before the first exec.
  std::size_t seen = 0;
  for (const auto& [arch, names] : doc["seen"].items())
    for (const auto& n : names) {
      ++seen;
      bool reachable = doc["reachable"].contains(arch) &&
                       std::find(doc["reachable"][arch].begin(), doc["reachable"][arch].end(), n) !=
                           doc["reachable"][arch].end();
      bool runtime = doc["before_first_exec"].contains(arch) &&
                     std::find(doc["before_first_exec"][arch].begin(), doc["before_first_exec"][arch].end(),
                               n) != doc["before_first_exec"][arch].end();
      EXPECT_TRUE(reachable || runtime) << arch << ":" << n.get<std::string>();
    }
  EXPECT_EQ(seen, trace["syscalls"].size());
  EXPECT_EQ(doc["counts"]["seen"], seen);
  EXPECT_EQ(doc["counts"]["unseen"], doc["unseen"].size());
  for (const auto& u : doc["unseen"]) {
    bool safe = u["risk"].is_null() && u["cves"].empty();
    auto& list = doc["reachable_safe"][u["arch"].get<std::string>()];
    EXPECT_EQ(std::find(list.begin(), list.end(), u["name"]) != list.end(), safe) << u.dump();
  }
  auto summary = sys::read_file(dir.file("summary.md"));
  ASSERT_TRUE(summary);
  EXPECT_NE(summary->find("## Static reachability"), std::string::npos);
  auto html = sys::read_file(dir.file("report.html"));
  ASSERT_TRUE(html);
  EXPECT_NE(html->find("<section id=\"reach\">"), std::string::npos);
  // busybox-httpd runs the host's busybox-static: no C library to map through.
  // nginx's glibc table is cached by build id: a second run reads it.
  Outcome again = sandmine({"reach", dir.path()});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  auto second = read_json(dir.file("reach.json"));
  if (GetParam() == "busybox-httpd") {
    EXPECT_EQ(second["libc"]["path"], "");
  } else {
    EXPECT_EQ(second["libc"]["flavor"], "glibc");
    EXPECT_EQ(second["libc"]["cached"], true);
  }
}

// mine --allow reachable-safe: the profile allows, in rules marked as from
// static analysis, exactly the reachable-safe names it did not allow anyway;
// the held-out check (validate steps under that profile) passes.
TEST_F(ReachExample, MineAllowReachableSafeAddsExactlyTheSafeUnseen) {
  TempDir dir;
  Outcome mined = sandmine(
      {"mine", std::string(EXAMPLES_DIR) + "/nginx.yaml", "--allow", "reachable-safe", "-o", dir.path()});
  ASSERT_EQ(mined.exit_code, 0) << mined.err;
  EXPECT_NE(mined.err.find("--allow reachable-safe: allowing "), std::string::npos) << mined.err;
  auto reach = read_json(dir.file("reach.json"));
  auto profile = read_json(dir.file("profile.json"));
  std::set<std::string> added, other;
  for (const auto& rule : profile["syscalls"])
    for (const auto& n : rule["names"]) {
      bool from_reach = rule.value("comment", "").starts_with("added from static analysis");
      (from_reach ? added : other).insert(n.get<std::string>());
    }
  std::set<std::string> safe;
  for (const auto& n : reach["reachable_safe"]["x86_64"])
    if (!other.count(n.get<std::string>())) safe.insert(n.get<std::string>());
  EXPECT_FALSE(added.empty());
  EXPECT_EQ(added, safe);
  auto check = read_json(dir.file("check.json"));
  EXPECT_EQ(check["passed"], true) << check.dump();
}

INSTANTIATE_TEST_SUITE_P(Examples, ReachExample, ::testing::Values("busybox-httpd", "nginx"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace sandmine::test
