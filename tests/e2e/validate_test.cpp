// The held-out check: the runc-mined profile passes the spec's validate steps
// under runc, Docker and Podman; the same profile without one syscall the
// server needs fails it.
#include <gtest/gtest.h>

#include <filesystem>

#include "explore/miner.h"
#include "spec/spec.h"
#include "support/engines.h"
#include "support/trace_run.h"

namespace sandmine::test {

namespace fs = std::filesystem;

class Validate : public AllEngines {};

TEST_F(Validate, MinedProfilePassesUnderEveryEngineAndABrokenOneFails) {
  TempDir dir, cache;
  std::string spec_file = std::string(EXAMPLES_DIR) + "/busybox-httpd.yaml";
  Outcome mined = sandmine({"mine", spec_file, "-o", dir.file("mined"), "--cache", cache.path()});
  ASSERT_EQ(mined.exit_code, 0) << mined.err;
  EXPECT_NE(mined.err.find("held-out check passed: 1 validate steps"), std::string::npos) << mined.err;
  auto spec = spec::read_spec(spec_file);
  ASSERT_TRUE(spec.ok()) << spec.error().message;

  for (const std::string engine : {"runc", "docker", "podman"}) {
    auto r = explore::validate(*spec, dir.file("mined/profile.json"),
                               {.engine = engine, .work_dir = dir.path(), .cache_dir = cache.path()});
    ASSERT_TRUE(r.ok()) << engine << ": " << r.error().message;
    EXPECT_TRUE(r->passed) << engine;
    ASSERT_EQ(r->steps.size(), 3u) << engine;
    EXPECT_EQ(r->steps[1].name, "index-again");
  }

  // Without accept the server cannot take the held-out request: the check fails
  // at readiness, and says so.
  auto profile = read_json(dir.file("mined/profile.json"));
  auto& names = profile["syscalls"][0]["names"];
  names.erase(std::find(names.begin(), names.end(), "accept"));
  write_text(dir.file("broken.json"), profile.dump());
  spec->ready->timeout = std::chrono::milliseconds(2000);
  auto broken = explore::validate(*spec, dir.file("broken.json"),
                                  {.engine = "runc", .work_dir = dir.path(), .cache_dir = cache.path()});
  ASSERT_TRUE(broken.ok()) << broken.error().message;
  EXPECT_FALSE(broken->passed);
  EXPECT_FALSE(broken->steps[0].ok);
  EXPECT_NE(broken->steps[0].failure.find("ready: not ready after 2.0 s"), std::string::npos)
      << broken->steps[0].failure;
  run({kDocker, "rmi", "-f",
       "sandmine/busybox-httpd:" +
           read_json(dir.file("mined/trace.json"))["target"]["image"].get<std::string>().substr(0, 12)});
}

}  // namespace sandmine::test
