// A profile mined under one engine starts the container and serves under the
// others (it is the same runc underneath), and still denies what it must:
// every pair of runc, Docker and Podman.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>

#include "engine/runc.h"
#include "profile/docker_json.h"
#include "support/engines.h"
#include "support/trace_run.h"
#include "sys/cgroup.h"
#include "sys/command.h"

namespace sandmine::test {

namespace fs = std::filesystem;

class CrossEngine : public AllEngines {};

std::unique_ptr<engine::Engine> engine_named(const std::string& name) {
  auto e = engine::make_engine(name);
  EXPECT_TRUE(e.ok()) << e.error().message;
  return e ? std::move(*e) : nullptr;
}

TEST_F(CrossEngine, ProfilesMinedUnderEachEngineHoldUnderEveryEngine) {
  TempDir dir, cache;
  std::string spec = std::string(EXAMPLES_DIR) + "/busybox-httpd.yaml";
  const std::vector<std::string> engines{"runc", "docker", "podman"};
  for (const std::string& engine : engines) {
    Outcome r = sandmine({"mine", spec, "--engine", engine, "-o", dir.file(engine), "--cache", cache.path()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  auto trace = read_json(dir.file("docker/trace.json"));
  std::string rootfs = cached_busybox_rootfs(cache.path());
  ASSERT_FALSE(rootfs.empty());
  std::string ref = "sandmine/busybox-httpd:" + trace["target"]["image"].get<std::string>().substr(0, 12);

  auto parent = sys::Cgroup::create(*sys::cgroup2_mount(), "sandmine-test-" + std::to_string(getpid()));
  ASSERT_TRUE(parent.ok()) << parent.error().message;
  int n = 0;
  for (const std::string& mined_under : engines)
    for (const std::string& run_under : engines) {
      SCOPED_TRACE("mined under " + mined_under + ", run under " + run_under);
      auto eng = engine_named(run_under);
      ASSERT_TRUE(eng);
      auto c = eng->start({.name = "sandmine-cross-" + std::to_string(getpid()) + "-" + std::to_string(++n),
                           .command = httpd_example().command,
                           .rootfs = rootfs,
                           .image = ref,
                           .profile = std::make_shared<const profile::Profile>(
                               profile::read_profile(dir.file(mined_under + "/profile.json")).value()),
                           .cgroup_parent = parent->relative_path(),
                           .log_file = dir.file("run.log"),
                           .work_dir = dir.path()});
      ASSERT_TRUE(c.ok()) << c.error().message;
      EXPECT_EQ(fetch_in_netns((*c)->netns_fd(), "http://127.0.0.1:8080/index.html"),
                "hello from busybox httpd\n");
      auto denied = (*c)->exec({"/bin/busybox", "mkdir", "/x"}, std::chrono::seconds(10));
      ASSERT_TRUE(denied.ok());
      EXPECT_NE(denied->output.find("Operation not permitted"), std::string::npos) << denied->output;
      auto stopped = (*c)->stop(SIGTERM, std::chrono::seconds(5));
      ASSERT_TRUE(stopped.ok());
      EXPECT_TRUE(*stopped);
    }
  run({kDocker, "rmi", "-f", ref});
  run({kPodman, "rmi", "-f", ref});
}

}  // namespace sandmine::test
