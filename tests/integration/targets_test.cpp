// One recorder, several targets; snapshots while a target runs.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <fstream>
#include <thread>

#include "support/run.h"
#include "sys/spawn.h"
#include "trace/ebpf_recorder.h"
#include "trace/ptrace_recorder.h"

namespace sandmine::test {

using trace::SyscallKey;

std::uint64_t count_of(const trace::Tallies& t, const std::string& arch, std::int64_t nr) {
  auto it = t.find(SyscallKey{arch, nr});
  return it == t.end() ? 0 : it->second.count;
}

constexpr std::int64_t kGetppid = 110, kGetpgid = 121;  // x86_64 numbers

class Targets : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!is_root()) SKIP_OR_FAIL_IN_CI("recording needs root (CI runs as root)");
  }
};

TEST_F(Targets, ConcurrentTargetsAreCountedApart) {
  auto rec = trace::EbpfRecorder::open();
  ASSERT_TRUE(rec.ok()) << rec.error().message;
  const std::vector<long> calls{1000, 3000, 7000};
  std::vector<trace::Target*> targets;
  std::vector<pid_t> pids;
  for (size_t i = 0; i < calls.size(); ++i) {
    auto t = (*rec)->add_target("t" + std::to_string(i));
    ASSERT_TRUE(t.ok()) << t.error().message;
    targets.push_back(*t);
    auto procs = (*t)->cgroup.open_procs();
    ASSERT_TRUE(procs.ok());
    // All three run at the same time; the loop's timing goes to /dev/null.
    auto child =
        sys::spawn({.argv = {prog("syscall_loop"), std::to_string(calls[i]), "/dev/null"},
                    .cgroup_procs_fd = procs->get(),
                    .allow_all_filter = true});
    ASSERT_TRUE(child.ok()) << child.error().message;
    pids.push_back(child->pid());
  }
  for (pid_t p : pids) {
    int status = 0;
    ASSERT_EQ(waitpid(p, &status, 0), p);
    EXPECT_EQ(status, 0);
  }
  for (size_t i = 0; i < calls.size(); ++i) {
    auto counts = (*rec)->snapshot(*targets[i]);
    ASSERT_TRUE(counts.ok()) << counts.error().message;
    EXPECT_EQ(count_of(counts->armed, "x86_64", kGetppid), static_cast<std::uint64_t>(calls[i]))
        << "target " << i;
  }
  EXPECT_TRUE((*rec)->health().ok());
  for (auto* t : targets) EXPECT_TRUE((*rec)->remove_target(t).ok());
}

TEST_F(Targets, TargetSlotsAreClearedForReuse) {
  auto rec = trace::EbpfRecorder::open({"/sys/kernel/btf/vmlinux", 1});
  ASSERT_TRUE(rec.ok()) << rec.error().message;
  for (long calls : {500L, 200L}) {  // the second run reuses the only slot
    auto r = (*rec)->record({{prog("syscall_loop"), std::to_string(calls), "/dev/null"}});
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(count_of(r->counts.armed, "x86_64", kGetppid), static_cast<std::uint64_t>(calls));
  }
  auto a = (*rec)->add_target("a");
  ASSERT_TRUE(a.ok());
  auto b = (*rec)->add_target("b");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().message, "the recorder already watches 1 targets (its maximum)");
}

// Snapshots through the Recorder interface while record() runs in another thread.
class Snapshot : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!is_root()) SKIP_OR_FAIL_IN_CI("recording needs root (CI runs as root)");
  }
};

TEST_P(Snapshot, SeesCallsMadeSoFarWhileTheTargetRuns) {
  std::unique_ptr<trace::Recorder> rec;
  if (GetParam() == "ebpf") {
    auto r = trace::EbpfRecorder::open();
    ASSERT_TRUE(r.ok()) << r.error().message;
    rec = std::move(*r);
  } else {
    auto r = trace::PtraceRecorder::create();
    ASSERT_TRUE(r.ok()) << r.error().message;
    rec = std::move(*r);
  }
  TempDir dir;
  std::string in = dir.file("in"), out = dir.file("out");
  ASSERT_EQ(mkfifo(in.c_str(), 0600), 0);
  ASSERT_EQ(mkfifo(out.c_str(), 0600), 0);
  // pauser: getppid, prints "ready", waits for a line, getpgid.
  Result<trace::Recording> result = Error{"not run"};
  std::thread recording([&] { result = rec->record({{prog("pauser"), in, out}}); });
  // pauser opens in, then out: open them in the same order or both block.
  int in_fd = open(in.c_str(), O_WRONLY);
  int out_fd = open(out.c_str(), O_RDONLY);
  char buf[16] = {};
  ASSERT_EQ(read(out_fd, buf, sizeof buf), 6);
  EXPECT_STREQ(buf, "ready\n");

  auto mid = rec->snapshot();
  ASSERT_TRUE(mid.ok()) << mid.error().message;
  EXPECT_EQ(count_of(mid->armed, "x86_64", kGetppid), 1u);
  EXPECT_EQ(count_of(mid->armed, "x86_64", kGetpgid), 0u);

  ASSERT_EQ(write(in_fd, "go\n", 3), 3);
  close(in_fd);
  recording.join();
  close(out_fd);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(count_of(result->counts.armed, "x86_64", kGetppid), 1u);
  EXPECT_EQ(count_of(result->counts.armed, "x86_64", kGetpgid), 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, Snapshot, ::testing::Values("ebpf", "ptrace"));

}  // namespace sandmine::test
