// The held-out check under every engine: the runc-mined profile passes the
// spec's validate steps under runc, Docker and Podman in both modes; the same
// profile without a syscall the server needs fails, with the call named.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/engines.h"
#include "support/trace_run.h"

namespace sandmine::test {

namespace fs = std::filesystem;

class Validate : public AllEngines {};

TEST_F(Validate, MinedProfilePassesUnderEveryEngineAndABrokenOneIsNamed) {
  TempDir dir, cache;
  std::string spec_file = std::string(EXAMPLES_DIR) + "/busybox-httpd.yaml";
  Outcome mined = sandmine({"mine", spec_file, "-o", dir.file("mined"), "--cache", cache.path()});
  ASSERT_EQ(mined.exit_code, 0) << mined.err;
  EXPECT_NE(mined.err.find("held-out check passed: 2 validate steps"), std::string::npos) << mined.err;
  EXPECT_EQ(read_json(dir.file("mined/check.json"))["passed"], true);

  auto check = [&](const std::string& engine, const std::string& mode, const std::string& profile) {
    return sandmine({"check", spec_file, "--profile", profile, "--engine", engine, "--mode", mode, "-o",
                     dir.file("result.json"), "--cache", cache.path()});
  };
  for (const std::string engine : {"runc", "docker", "podman"})
    for (const std::string mode : {"complain", "enforce"}) {
      Outcome r = check(engine, mode, dir.file("mined/profile.json"));
      EXPECT_EQ(r.exit_code, 0) << engine << " " << mode << "\n" << r.err;
      auto result = read_json(dir.file("result.json"));
      EXPECT_EQ(result["engine"], engine);
      EXPECT_EQ(result["violations"], nlohmann::json::array()) << engine << " " << mode;
      ASSERT_EQ(result["steps"].size(), 4u) << engine;
      EXPECT_EQ(result["steps"][1]["name"], "index-again");
    }

  // Without accept the server cannot take a request. Enforced, the container
  // never gets ready, and the check names the denied call; in complain mode
  // the server works and the call is named all the same.
  auto profile = read_json(dir.file("mined/profile.json"));
  auto& names = profile["syscalls"][0]["names"];
  names.erase(std::find(names.begin(), names.end(), "accept"));
  write_text(dir.file("broken.json"), profile.dump());
  for (const std::string engine : {"runc", "docker"}) {
    Outcome enforced = check(engine, "enforce", dir.file("broken.json"));
    EXPECT_EQ(enforced.exit_code, 1) << enforced.err;
    auto result = read_json(dir.file("result.json"));
    EXPECT_EQ(result["steps"][0]["ok"], false);
    EXPECT_NE(result["steps"][0]["failure"].get<std::string>().find("ready: not ready after"),
              std::string::npos);
    ASSERT_EQ(result["violations"].size(), 1u) << result.dump(2);
    EXPECT_EQ(result["violations"][0]["syscall"], "accept");
    EXPECT_EQ(result["violations"][0]["processes"], nlohmann::json::array({"busybox"}));
    EXPECT_EQ(result["violations"][0]["first_step"], "start");

    Outcome complained = check(engine, "complain", dir.file("broken.json"));
    EXPECT_EQ(complained.exit_code, 1) << complained.err;
    result = read_json(dir.file("result.json"));
    for (const auto& s : result["steps"]) EXPECT_EQ(s["ok"], true) << s.dump();
    ASSERT_EQ(result["violations"].size(), 1u) << result.dump(2);
    EXPECT_EQ(result["violations"][0]["syscall"], "accept");
    EXPECT_GT(result["violations"][0]["steps"].value("index-again", 0), 0);
  }
  run({kDocker, "rmi", "-f",
       "sandmine/busybox-httpd:" +
           read_json(dir.file("mined/trace.json"))["target"]["image"].get<std::string>().substr(0, 12)});
}

}  // namespace sandmine::test
