// docker and podman pause and unpause: the container's processes are frozen
// (no CPU time) until unpaused, and a paused container is still removed whole.
#include <gtest/gtest.h>

#include "support/engine_checks.h"
#include "support/engines.h"

namespace sandmine::test {

class PauseEngines : public AllEngines {
 protected:
  void TearDown() override {
    remove_images("sandmine/pause");
    AllEngines::TearDown();
  }
  TempDir cache_;
};

TEST_F(PauseEngines, DockerPausedContainerGetsNoCpuUntilUnpaused) {
  expect_engine_pauses_and_resumes("docker", cache_.path());
}

TEST_F(PauseEngines, PodmanPausedContainerGetsNoCpuUntilUnpaused) {
  expect_engine_pauses_and_resumes("podman", cache_.path());
}

TEST_F(PauseEngines, DockerPausedContainerIsRemovedWhole) {
  expect_paused_container_is_removed("docker", cache_.path());
}

TEST_F(PauseEngines, PodmanPausedContainerIsRemovedWhole) {
  expect_paused_container_is_removed("podman", cache_.path());
}

}  // namespace sandmine::test
