// A restart step under Docker and Podman is `start` of the stopped container:
// what it wrote stays, its --cgroup-parent stays (so the restart is
// recorded), the main process and its network namespace are new.
#include <gtest/gtest.h>

#include "support/engine_checks.h"
#include "support/engines.h"

namespace sandmine::test {

class RestartEngines : public AllEngines {
 protected:
  void TearDown() override {
    remove_images("sandmine/restart");
    AllEngines::TearDown();
  }
  TempDir cache_;
};

TEST_F(RestartEngines, DockerStartsTheSameContainerAgainWithANewMainProcess) {
  expect_engine_restarts_the_same_container("docker", cache_.path());
}

TEST_F(RestartEngines, PodmanStartsTheSameContainerAgainWithANewMainProcess) {
  expect_engine_restarts_the_same_container("podman", cache_.path());
}

TEST_F(RestartEngines, MiningUnderDockerReadsAfterTheRestartWhatWasWrittenBefore) {
  expect_mining_with_a_restart("docker", cache_.path());
}

TEST_F(RestartEngines, MiningUnderPodmanReadsAfterTheRestartWhatWasWrittenBefore) {
  expect_mining_with_a_restart("podman", cache_.path());
}

}  // namespace sandmine::test
