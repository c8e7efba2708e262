// Interruption, privileges and host set-up: what a user hits first.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>

#include "support/trace_run.h"
#include "sys/cgroup.h"
#include "sys/files.h"
#include "sys/tracefs.h"

namespace sandmine::test {

namespace fs = std::filesystem;

class Lifecycle : public ::testing::TestWithParam<std::tuple<std::string, int>> {
 protected:
  void SetUp() override {
    if (!is_root()) SKIP_OR_FAIL_IN_CI("recording needs root (CI runs as root)");
  }
};

// The pids in the target's cgroup, once sandmine has started the command.
std::vector<pid_t> target_pids(pid_t sandmine_pid, const std::string& backend) {
  std::string dir =
      *sys::cgroup2_mount() + (backend == "ebpf" ? "/sandmine-" + std::to_string(sandmine_pid) + "/trace-1"
                                                 : "/sandmine-ptrace-" + std::to_string(sandmine_pid));
  std::vector<pid_t> pids;
  auto procs = sys::read_file(dir + "/cgroup.procs");
  if (!procs) return pids;
  std::istringstream in(*procs);
  for (pid_t p; in >> p;) pids.push_back(p);
  return pids;
}

TEST_P(Lifecycle, InterruptStopsTheCommandAndSavesAPartialTrace) {
  auto [backend, sig] = GetParam();
  TempDir dir;
  // prog_pauser makes getppid, prints "ready" and blocks reading its stdin
  // (sandmine's, kept open): interrupted there, the partial trace holds
  // exactly that getppid and not the getpgid that would follow the read.
  Background sm({SANDMINE_BIN, "trace", "--backend", backend, "-o", dir.file("t.json"), "--", prog("pauser")},
                "", true);
  ASSERT_TRUE(sm.wait_for_output("ready\n")) << "the command never got to its read";
  std::vector<pid_t> pids = target_pids(sm.pid(), backend);
  ASSERT_FALSE(pids.empty()) << "the command is not in its cgroup";
  kill(sm.pid(), sig);
  Outcome r = sm.wait();

  EXPECT_EQ(r.exit_code, 2) << r.err;
  std::string name = sig == SIGINT ? "SIGINT" : "SIGTERM";
  EXPECT_NE(r.err.find("sandmine: interrupted by " + name + ": stopped " + prog("pauser") +
                       "; partial trace (marked partial) written to " + dir.file("t.json")),
            std::string::npos)
      << r.err;
  for (pid_t p : pids) EXPECT_EQ(kill(p, 0), -1) << "pid " << p << " still alive";
  auto doc = read_json(dir.file("t.json"));
  EXPECT_EQ(doc["partial"], true);
  EXPECT_EQ(doc["partial_reason"], "interrupted by " + name + "; the command was stopped");
  std::map<std::string, std::uint64_t> markers;
  for (const auto& e : doc["syscalls"])
    if (e["name"] == "getppid" || e["name"] == "getpgid") markers[e["name"]] = e["count"];
  EXPECT_EQ(markers, (std::map<std::string, std::uint64_t>{{"getppid", 1}})) << doc.dump();
  EXPECT_EQ(leftovers(), std::vector<std::string>{});
}

INSTANTIATE_TEST_SUITE_P(BackendsAndSignals, Lifecycle,
                         ::testing::Combine(::testing::Values("ebpf", "ptrace"),
                                            ::testing::Values(SIGINT, SIGTERM)));

class Privileged : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!is_root()) SKIP_OR_FAIL_IN_CI("needs root to drop privileges and mount tracefs (CI runs as root)");
  }
};

std::vector<std::string> as_nobody(std::vector<std::string> args) {
  std::vector<std::string> argv{"/usr/bin/setpriv", "--reuid=65534",       "--regid=65534", "--clear-groups",
                                "--inh-caps=-all",  "--bounding-set=-all", SANDMINE_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

TEST_F(Privileged, NotRootIsAClearError) {
  for (const char* backend : {"ebpf", "ptrace"})
    expect_one_line_error(run(as_nobody({"trace", "--backend", backend, "--", "/bin/true"})),
                          "needs root (CAP_SYS_ADMIN)");
  Outcome info = run(as_nobody({"info"}));
  EXPECT_EQ(info.exit_code, 2);
  EXPECT_NE(info.out.find("recording:     impossible: not root"), std::string::npos) << info.out;
}

TEST_F(Privileged, MissingBtfIsAClearError) {
  expect_one_line_error(sandmine({"trace", "--btf", "/nonexistent/vmlinux", "--", "/bin/true"}),
                        "no kernel BTF at /nonexistent/vmlinux: the kernel needs CONFIG_DEBUG_INFO_BTF");
  Outcome info = sandmine({"info", "--btf", "/nonexistent/vmlinux"});
  EXPECT_EQ(info.exit_code, 2);
  EXPECT_NE(info.out.find("BTF:           no (/nonexistent/vmlinux missing"), std::string::npos) << info.out;
}

TEST_F(Privileged, InfoSaysRecordingWorks) {
  Outcome info = sandmine({"info"});
  EXPECT_EQ(info.exit_code, 0) << info.out;
  for (const char* line : {"BTF:           yes", "privileges:    CAP_SYS_ADMIN", "cgroup v2:     /",
                           "seccomp:       filter mode; actions: kill_process",
                           "arches:        x86_64 (native), x86, x32", "recording:     works"})
    EXPECT_NE(info.out.find(line), std::string::npos) << line << "\n" << info.out;
}

// Only the eBPF backend uses tracefs (to check the tracepoint exists). When it
// is missing sandmine mounts it, says so, and unmounts it again.
TEST_F(Privileged, MountsTracefsWhenMissingAndLeavesNoMount) {
  auto mounted = [] { return sys::find_tracefs_mount(*sys::read_file("/proc/self/mountinfo")).has_value(); };
  std::optional<std::string> was = sys::find_tracefs_mount(*sys::read_file("/proc/self/mountinfo"));
  if (was) {
    ASSERT_EQ(umount2(was->c_str(), 0), 0) << "tracefs is busy; cannot test mounting it";
  }
  Outcome r = sandmine({"trace", "--", "/bin/true"});
  bool after = mounted();
  if (was) mount("nodev", was->c_str(), "tracefs", 0, nullptr);  // restore the host as it was
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("sandmine: tracefs was not mounted: mounted it at /sys/kernel/tracing for this run"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(after) << "tracefs left mounted";
}

// Two sandmines at once: the one that mounted tracefs finishes first, and the
// other still has it until it is done; then it is gone.
TEST_F(Privileged, ConcurrentUsersKeepTracefsUntilTheLastIsDone) {
  auto mounted = [] { return sys::find_tracefs_mount(*sys::read_file("/proc/self/mountinfo")).has_value(); };
  std::optional<std::string> was = sys::find_tracefs_mount(*sys::read_file("/proc/self/mountinfo"));
  if (was) {
    ASSERT_EQ(umount2(was->c_str(), 0), 0) << "tracefs is busy; cannot test mounting it";
  }
  bool after_first = false, after_both = true;
  bool first_mounted = false, second_owns = false;
  {
    // Each ensure() opens the lock anew: flock treats the two like two processes.
    auto first = std::make_optional(sys::Tracefs::ensure());
    auto second = sys::Tracefs::ensure();
    if (first->ok() && second.ok()) {
      first_mounted = (**first).mounted_here();
      second_owns = second->mounted_here();
      first.reset();
      after_first = mounted();
    }
  }
  after_both = mounted();
  if (was) mount("nodev", was->c_str(), "tracefs", 0, nullptr);  // restore the host as it was
  EXPECT_TRUE(first_mounted);
  EXPECT_TRUE(second_owns) << "a sandmine mounted it: the last user unmounts it";
  EXPECT_TRUE(after_first) << "unmounted under the second user";
  EXPECT_FALSE(after_both) << "tracefs left mounted";
}

}  // namespace sandmine::test

namespace sandmine::test {

// A sandmine killed with SIGKILL cannot remove its cgroups; the next run does,
// when they are empty and their process is gone.
TEST_F(Privileged, StaleGroupsOfDeadRunsAreRemoved) {
  std::string mount = *sys::cgroup2_mount();
  const std::string dead = "4194305";  // above the largest pid_max: never a live pid
  for (const std::string& dir : {mount + "/sandmine-" + dead, mount + "/sandmine-" + dead + "/trace-1",
                                 mount + "/sandmine-ptrace-" + dead})
    ASSERT_EQ(mkdir(dir.c_str(), 0755), 0) << dir;
  // Engines also make the group in every v1 hierarchy; those can outlive the v2 one.
  std::vector<std::string> v1;
  for (const auto& m : sys::find_cgroup1_mounts(*sys::read_file("/proc/self/mountinfo"))) {
    v1.push_back(m + "/sandmine-" + dead);
    ASSERT_EQ(mkdir(v1.back().c_str(), 0755), 0) << v1.back();
  }
  Outcome ebpf = sandmine({"trace", "--", "/bin/true"});
  EXPECT_EQ(ebpf.exit_code, 0) << ebpf.err;
  EXPECT_FALSE(fs::exists(mount + "/sandmine-" + dead));
  for (const auto& dir : v1) EXPECT_FALSE(fs::exists(dir)) << dir;
  Outcome ptrace = sandmine({"trace", "--backend", "ptrace", "--", "/bin/true"});
  EXPECT_EQ(ptrace.exit_code, 0) << ptrace.err;
  EXPECT_FALSE(fs::exists(mount + "/sandmine-ptrace-" + dead));
  EXPECT_EQ(leftovers(), std::vector<std::string>{});
}

}  // namespace sandmine::test
