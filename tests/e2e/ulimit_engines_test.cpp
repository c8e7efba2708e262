// --ulimit under Docker and Podman: their --ulimit flags reach the container's
// main process and what is exec'd in it, as runc's rlimits do
// (tests/integration/ulimit_test.cpp); without the option nofile=1024:1024
// under both, and Podman's nproc=4096:4096 stays unless replaced.
#include <gtest/gtest.h>

#include "support/engine_checks.h"
#include "support/engines.h"

namespace sandmine::test {

class UlimitEngines : public AllEngines {
 protected:
  void TearDown() override {
    remove_images("sandmine/ulimits");
    AllEngines::TearDown();
  }
  TempDir cache_;
};

const std::vector<std::string> kGiven{"--ulimit", "nofile=512:512", "--ulimit", "sigpending=1000:2000"};
const ExpectedLimit kNofile512{"nofile", "Max open files", "n", 512, 512};
const ExpectedLimit kSigpending{"sigpending", "Max pending signals", "i", 1000, 2000};
const ExpectedLimit kNofile1024{"nofile", "Max open files", "n", 1024, 1024};

TEST_F(UlimitEngines, DockerRunsTheContainerWithTheGivenLimits) {
  expect_container_limits("docker", kGiven, {kNofile512, kSigpending}, cache_.path());
}

TEST_F(UlimitEngines, PodmanRunsTheContainerWithTheGivenLimits) {
  expect_container_limits("podman", kGiven,
                          {kNofile512, kSigpending, {"nproc", "Max processes", "u", 4096, 4096}},
                          cache_.path());
}

TEST_F(UlimitEngines, WithoutTheOptionEveryEngineGivesNofile1024) {
  expect_container_limits("docker", {}, {kNofile1024}, cache_.path());
  expect_container_limits("podman", {}, {kNofile1024, {"nproc", "Max processes", "u", 4096, 4096}},
                          cache_.path());
}

TEST_F(UlimitEngines, PodmansNprocDefaultCanBeReplaced) {
  expect_container_limits("podman", {"--ulimit", "nproc=2048:4096"},
                          {kNofile1024, {"nproc", "Max processes", "u", 2048, 4096}}, cache_.path());
}

}  // namespace sandmine::test
