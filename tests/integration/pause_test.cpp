// runc pause and resume: the container's processes are frozen (no CPU time)
// until resumed, and a paused container is still removed whole.
#include <gtest/gtest.h>

#include "support/engine_checks.h"
#include "support/engines.h"

namespace sandmine::test {

class RuncPause : public RuncTest {
 protected:
  TempDir cache_;
};

TEST_F(RuncPause, PausedContainerGetsNoCpuUntilResumed) {
  expect_engine_pauses_and_resumes("runc", cache_.path());
}

TEST_F(RuncPause, PausedContainerIsRemovedWhole) {
  expect_paused_container_is_removed("runc", cache_.path());
}

}  // namespace sandmine::test
