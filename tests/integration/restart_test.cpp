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

// restart: {signal: INT} stops the container with INT, not with the spec's
// stop signal (TERM): the shell's INT trap leaves a mark the container keeps.
// The same spec with `restart: true` stops it with TERM, and the step that
// looks for the mark fails.
TEST_F(RuncRestart, ARestartStepWithASignalStopsTheContainerWithThatSignal) {
  auto spec = [](const std::string& restart) {
    std::string text = R"y(name: restart
image:
  busybox: {}
command: [/bin/sh, -c, "trap 'kill $p; exit 0' TERM; trap 'echo int > /tmp/by; kill $p; exit 0' INT; /bin/busybox touch /dev/ready; /bin/busybox sleep 1000 & p=$!; wait"]
ready: {exec: [/bin/busybox, test, -e, /dev/ready], timeout: 10s}
explore:
  - name: restart
    restart: RESTART
  - name: stopped-by-int
    exec: [/bin/sh, -c, 'test "$(cat /tmp/by)" = int']
stop: {signal: TERM, timeout: 5s}
)y";
    return text.replace(text.find("RESTART"), 7, restart);
  };
  TempDir dir;
  write_text(dir.file("int.yaml"), spec("{signal: INT}"));
  Outcome r = sandmine({"mine", dir.file("int.yaml"), "-o", dir.file("int"), "--cache", cache_.path()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* line : {"explore restart: ok", "explore stopped-by-int: ok", "stop stop: ok"})
    EXPECT_NE(r.err.find(line), std::string::npos) << line << "\n" << r.err;

  write_text(dir.file("term.yaml"), spec("true"));
  Outcome term = sandmine({"mine", dir.file("term.yaml"), "-o", dir.file("term"), "--cache", cache_.path()});
  EXPECT_EQ(term.exit_code, 2) << term.err;
  EXPECT_NE(term.err.find("explore stopped-by-int: FAILED"), std::string::npos) << term.err;
}

}  // namespace sandmine::test
