// A restart step under runc stops and starts the same container: what it
// wrote stays, its cgroup stays (so the restart is recorded), the main
// process and its network namespace are new, and nothing is left behind.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/engine_checks.h"
#include "support/engines.h"
#include "support/trace_run.h"

namespace sandmine::test {

namespace fs = std::filesystem;

class RuncRestart : public RuncTest {
 protected:
  void TearDown() override {
    RuncTest::TearDown();
    if (!is_root()) return;
    EXPECT_FALSE(fs::exists("/run/sandmine/sandmine-restart-" + std::to_string(getpid())));
    EXPECT_EQ(sys::read_file("/proc/self/mountinfo")->find("/run/sandmine/sandmine-restart-"),
              std::string::npos);
  }
  TempDir cache_;
};

TEST_F(RuncRestart, TheSameContainerStartsAgainWithANewMainProcess) {
  expect_engine_restarts_the_same_container("runc", cache_.path());
}

TEST_F(RuncRestart, MiningReadsAfterTheRestartWhatWasWrittenBefore) {
  expect_mining_with_a_restart("runc", cache_.path());
}

}  // namespace sandmine::test
