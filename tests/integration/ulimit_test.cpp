// --ulimit under runc: config.json's process.rlimits reach the container's
// main process and what is exec'd in it; without the option, nofile=1024:1024.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/engine_checks.h"
#include "support/engines.h"
#include "support/trace_run.h"

namespace sandmine::test {

namespace fs = std::filesystem;

class RuncUlimit : public RuncTest {
 protected:
  TempDir cache_;
};

TEST_F(RuncUlimit, GivenLimitsAreWhatTheContainerRunsWith) {
  expect_container_limits(
      "runc", {"--ulimit", "nofile=512:512", "--ulimit", "sigpending=1000:2000"},
      {{"nofile", "Max open files", "n", 512, 512}, {"sigpending", "Max pending signals", "i", 1000, 2000}},
      cache_.path());
}

TEST_F(RuncUlimit, WithoutTheOptionNofileIs1024) {
  expect_container_limits("runc", {}, {{"nofile", "Max open files", "n", 1024, 1024}}, cache_.path());
}

}  // namespace sandmine::test
