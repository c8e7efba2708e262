// The examples mined end to end with runc, each from Debian packages: the
// explore steps drive the server with its real clients, the profile is
// written, and the held-out validate steps pass under it.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/engines.h"
#include "support/trace_run.h"
#include "sys/files.h"

namespace sandmine::test {

namespace fs = std::filesystem;

class Example : public ::testing::TestWithParam<std::string> {
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

TEST_P(Example, MinesWithRuncAndPassesTheHeldOutCheck) {
  TempDir dir;
  // The default image cache: a second run of the suite builds nothing.
  Outcome r = sandmine({"mine", std::string(EXAMPLES_DIR) + "/" + GetParam() + ".yaml", "-o", dir.path()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("held-out check passed"), std::string::npos) << r.err;
  auto profile = read_json(dir.file("profile.json"));
  auto names = profile["syscalls"][0]["names"];
  EXPECT_GT(names.size(), 40u);
  EXPECT_LT(names.size(), 200u) << "Docker's default allows 309";
  for (const char* never : {"mount", "pivot_root", "sethostname", "kexec_load", "init_module", "bpf"})
    EXPECT_EQ(std::find(names.begin(), names.end(), never), names.end()) << never;
  auto trace = read_json(dir.file("trace.json"));
  EXPECT_EQ(trace["partial"], false);
  EXPECT_NE(sys::read_file(dir.file("summary.md"))->find("Held-out check under the mined profile: passed"),
            std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Examples, Example,
                         ::testing::Values("nginx", "redis", "memcached", "apache2", "postgres", "mariadb"),
                         [](const auto& info) { return info.param; });

}  // namespace sandmine::test
