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

class ExampleBase : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!is_root()) SKIP_OR_FAIL_IN_CI("needs root (CI runs as root)");
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

class Example : public ExampleBase, public ::testing::WithParamInterface<std::string> {};
class NginxCheck : public ExampleBase {};

TEST_P(Example, MinesWithRuncAndPassesTheHeldOutCheck) {
  TempDir dir;
  // The default image cache: a second run of the suite builds nothing.
  Outcome r = sandmine({"mine", std::string(EXAMPLES_DIR) + "/" + GetParam() + ".yaml", "-o", dir.path()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("held-out check passed"), std::string::npos) << r.err;
  EXPECT_EQ(read_json(dir.file("check.json"))["violations"], nlohmann::json::array());
  auto profile = read_json(dir.file("profile.json"));
  auto names = profile["syscalls"][0]["names"];
  EXPECT_GT(names.size(), 40u);
  EXPECT_LT(names.size(), 200u) << "Docker's default allows 292";
  for (const char* never : {"mount", "pivot_root", "sethostname", "kexec_load", "init_module", "bpf"})
    EXPECT_EQ(std::find(names.begin(), names.end(), never), names.end()) << never;
  auto trace = read_json(dir.file("trace.json"));
  EXPECT_EQ(trace["partial"], false);
  EXPECT_NE(sys::read_file(dir.file("summary.md"))
                ->find("Held-out check under the mined profile (complain mode): passed"),
            std::string::npos);
}

// The soundness test on a real server: the mined nginx profile passes
// the held-out check enforced too, and without accept4 (every connection
// nginx takes) the check fails in both modes with the call named.
TEST_F(NginxCheck, WithoutAccept4TheCheckFailsInBothModes) {
  TempDir dir;
  std::string spec = std::string(EXAMPLES_DIR) + "/nginx.yaml";
  Outcome mined = sandmine({"mine", spec, "-o", dir.path()});
  ASSERT_EQ(mined.exit_code, 0) << mined.err;
  auto check = [&](const std::string& profile, const std::string& mode) {
    Outcome r =
        sandmine({"check", spec, "--profile", profile, "--mode", mode, "-o", dir.file("result.json")});
    return std::make_pair(r, read_json(dir.file("result.json")));
  };
  auto [ok, ok_result] = check(dir.file("profile.json"), "enforce");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok_result["passed"], true);

  auto profile = read_json(dir.file("profile.json"));
  auto& names = profile["syscalls"][0]["names"];
  ASSERT_NE(std::find(names.begin(), names.end(), "accept4"), names.end());
  names.erase(std::find(names.begin(), names.end(), "accept4"));
  write_text(dir.file("broken.json"), profile.dump());
  for (const char* mode : {"complain", "enforce"}) {
    auto [r, result] = check(dir.file("broken.json"), mode);
    EXPECT_EQ(r.exit_code, 1) << mode << "\n" << r.err;
    EXPECT_NE(r.err.find("sandmine: violation: x86_64 accept4 x"), std::string::npos) << r.err;
    ASSERT_EQ(result["violations"].size(), 1u) << result.dump(2);
    EXPECT_EQ(result["violations"][0]["syscall"], "accept4");
    EXPECT_EQ(result["violations"][0]["processes"], nlohmann::json::array({"nginx"}));
  }
}

INSTANTIATE_TEST_SUITE_P(Examples, Example,
                         ::testing::Values("nginx", "redis", "memcached", "apache2", "postgres", "mariadb"),
                         [](const auto& info) { return info.param; });

}  // namespace sandmine::test
