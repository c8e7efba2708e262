// The recorder's exactness: exact (arch, name) sets and counts from purpose-built
// programs, on both backends, with the ptrace backend as the oracle.
#include <gtest/gtest.h>

#include "support/trace_run.h"

namespace sandmine::test {

class Recorder : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!is_root()) SKIP_OR_FAIL_IN_CI("recording needs root (CI runs as root)");
  }
  void TearDown() override {
    if (is_root()) {
      EXPECT_EQ(leftovers(), std::vector<std::string>{});
    }
  }
};

INSTANTIATE_TEST_SUITE_P(Backends, Recorder, ::testing::Values("ebpf", "ptrace"));

TEST_P(Recorder, RareSyscallsInThreadsForksAndExecsExactly) {
  auto t = trace(GetParam(), {prog("rare_syscalls"), prog("exec_target")});
  ASSERT_EQ(t.run.exit_code, 0) << t.run.err;
  CountMap armed = t.armed();
  // Main thread, second thread (the exact 1000), forked child, exec'd grandchild.
  EXPECT_EQ((armed[{"x86_64", "getppid"}]), 1u);
  EXPECT_EQ((armed[{"x86_64", "getpgid"}]), 1u);
  EXPECT_EQ((armed[{"x86_64", "sysinfo"}]), 1u);
  EXPECT_EQ((armed[{"x86_64", "getpriority"}]), 1000u);
  EXPECT_EQ((armed[{"x86_64", "times"}]), 1u);
  EXPECT_EQ((armed[{"x86_64", "sched_get_priority_max"}]), 1u);
  EXPECT_EQ((armed[{"x86_64", "execve"}]), 2u);  // the command and the grandchild
  for (const auto& [key, count] : armed) EXPECT_EQ(key.first, "x86_64") << key.second;
  // The recording filter arms the command from its first instruction.
  EXPECT_TRUE(t.unarmed().empty()) << t.doc["unarmed"].dump();
  EXPECT_EQ(t.doc["backend"], GetParam());
  EXPECT_EQ(t.doc["partial"], false);
  EXPECT_EQ(t.doc["target"]["exit_code"], 0);
}

TEST_P(Recorder, Int80CallsAreArchX86WithI386Numbers) {
  auto t = trace(GetParam(), {prog("int80")});
  ASSERT_EQ(t.run.exit_code, 0) << t.run.err;
  CountMap armed = t.armed();
  EXPECT_EQ((armed[{"x86", "getpid"}]), 1u);
  EXPECT_EQ((armed[{"x86", "getppid"}]), 3u);
  EXPECT_EQ((armed[{"x86_64", "getppid"}]), 1u);
  std::set<ArchName> x86;
  for (const auto& [key, n] : armed)
    if (key.first == "x86") x86.insert(key);
  EXPECT_EQ(x86, (std::set<ArchName>{{"x86", "getpid"}, {"x86", "getppid"}}));
  for (const auto& e : t.doc["syscalls"])
    if (e["arch"] == "x86" && e["name"] == "getpid") {
      EXPECT_EQ(e["nr"], 20);
    }
}

TEST_P(Recorder, OnlyTheThreadWithAFilterIsArmed) {
  // No recording filter: the program installs one on its main thread only.
  auto t = trace(GetParam(), {prog("arming")}, {"--no-recording-filter"});
  ASSERT_EQ(t.run.exit_code, 0) << t.run.err;
  CountMap armed = t.armed(), unarmed = t.unarmed();
  std::set<ArchName> armed_set = t.armed_set();
  armed_set.erase({"x86_64", "futex"});  // pthread_join waits only if thread B is still running
  EXPECT_EQ(armed_set,
            (std::set<ArchName>{
                {"x86_64", "getpgid"}, {"x86_64", "sysinfo"}, {"x86_64", "write"}, {"x86_64", "exit_group"}}))
      << describe(armed_set);
  EXPECT_EQ((armed[{"x86_64", "getpgid"}]), 1u);
  EXPECT_EQ((armed[{"x86_64", "sysinfo"}]), 1u);
  EXPECT_EQ((unarmed[{"x86_64", "getppid"}]), 1u);  // main thread, before its filter
  EXPECT_EQ((unarmed[{"x86_64", "getsid"}]), 1u);   // thread B never has a filter
  EXPECT_EQ((unarmed[{"x86_64", "times"}]), 1u);
  EXPECT_EQ((unarmed[{"x86_64", "seccomp"}]), 1u);  // the call that installs it is not yet filtered
  EXPECT_EQ(unarmed.count({"x86_64", "getpgid"}), 0u);

  // With the recording filter everything the program does is armed.
  auto all = trace(GetParam(), {prog("arming")});
  ASSERT_EQ(all.run.exit_code, 0) << all.run.err;
  EXPECT_TRUE(all.unarmed().empty());
  EXPECT_EQ((all.armed()[{"x86_64", "getsid"}]), 1u);
  EXPECT_EQ((all.armed()[{"x86_64", "getppid"}]), 1u);
}

TEST_P(Recorder, ExitStatusAndStdioPassThrough) {
  EXPECT_EQ(trace(GetParam(), {prog("exit_code"), "7"}).run.exit_code, 7);
  auto killed = trace(GetParam(), {prog("exit_code"), "0", "TERM"});
  EXPECT_EQ(killed.run.exit_code, 128 + 15);
  EXPECT_EQ(killed.doc["target"]["exit_signal"], 15);
  auto echo = trace(GetParam(), {"/bin/sh", "-c", "read x; echo \"got $x\"; echo err >&2"}, {}, "hello\n");
  EXPECT_EQ(echo.run.exit_code, 0);
  EXPECT_EQ(echo.run.out, "got hello\n");
  EXPECT_NE(echo.run.err.find("err\n"), std::string::npos) << echo.run.err;
}

TEST_P(Recorder, BusyProcessOutsideTheTargetContributesNothing) {
  // getppid is the busy loop's only call and rare_syscalls makes exactly one.
  pid_t busy = fork();
  if (busy == 0) {
    execl(prog("busy_loop").c_str(), "prog_busy_loop", "30", nullptr);
    _exit(127);
  }
  auto t = trace(GetParam(), {prog("rare_syscalls"), prog("exec_target")});
  kill(busy, SIGKILL);
  waitpid(busy, nullptr, 0);
  ASSERT_EQ(t.run.exit_code, 0) << t.run.err;
  EXPECT_EQ((t.armed()[{"x86_64", "getppid"}]), 1u);
  EXPECT_EQ((t.armed()[{"x86_64", "getpriority"}]), 1000u);
}

}  // namespace sandmine::test

namespace sandmine::test {

// The command gets its arguments exactly as typed, argv[0] included; only the
// file to execute is looked up on PATH.
TEST_P(Recorder, Argv0IsPassedAsTyped) {
  auto t = trace(GetParam(), {"sh", "-c", "echo \"$0\"", "as-typed"});
  EXPECT_EQ(t.run.exit_code, 0) << t.run.err;
  EXPECT_EQ(t.run.out, "as-typed\n");
  auto t0 = trace(GetParam(), {"busybox", "echo", "applet"});
  EXPECT_EQ(t0.run.exit_code, 0) << t0.run.err;
  EXPECT_EQ(t0.run.out, "applet\n");
  EXPECT_EQ(t0.doc["target"]["command"], nlohmann::json::array({"busybox", "echo", "applet"}));
}

}  // namespace sandmine::test
