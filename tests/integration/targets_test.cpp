// One recorder, several targets; snapshots while a target runs.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <fstream>
#include <map>
#include <thread>

#include "support/run.h"
#include "sys/cgroup.h"
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
    auto child = sys::spawn({.argv = {prog("syscall_loop"), std::to_string(calls[i]), "/dev/null"},
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

// A split target: each cgroup made below it (as an engine makes one per
// container under its cgroup parent) is counted in a slot of its own, from
// its first call; the target itself keeps only its own calls.
TEST_F(Targets, ASplitTargetCountsEachChildCgroupApart) {
  auto rec = trace::EbpfRecorder::open();
  ASSERT_TRUE(rec.ok()) << rec.error().message;
  auto parent = (*rec)->add_target("split");
  ASSERT_TRUE(parent.ok()) << parent.error().message;
  ASSERT_TRUE((*rec)->split(**parent).ok());
  const std::vector<long> calls{1500, 4000};
  std::vector<sys::Cgroup> kids;
  for (size_t i = 0; i < calls.size(); ++i) {
    auto kid = sys::Cgroup::create((*parent)->cgroup.path(), "kid" + std::to_string(i));
    ASSERT_TRUE(kid.ok()) << kid.error().message;
    auto procs = kid->open_procs();
    ASSERT_TRUE(procs.ok());
    auto child = sys::spawn({.argv = {prog("syscall_loop"), std::to_string(calls[i]), "/dev/null"},
                             .cgroup_procs_fd = procs->get(),
                             .allow_all_filter = true});
    ASSERT_TRUE(child.ok()) << child.error().message;
    int status = 0;
    ASSERT_EQ(waitpid(child->pid(), &status, 0), child->pid());
    EXPECT_EQ(status, 0);
    kids.push_back(std::move(*kid));
  }
  auto children = (*rec)->children(**parent);
  ASSERT_TRUE(children.ok()) << children.error().message;
  ASSERT_EQ(children->size(), 2u);
  EXPECT_EQ((*children)[0].name, "kid0") << "in the order they appeared";
  EXPECT_EQ((*children)[1].name, "kid1");
  EXPECT_EQ((*children)[0].cgroup_id, kids[0].id());
  EXPECT_NE((*children)[0].slot, (*children)[1].slot);
  for (size_t i = 0; i < calls.size(); ++i) {
    auto counts = (*rec)->snapshot((*children)[i]);
    ASSERT_TRUE(counts.ok()) << counts.error().message;
    EXPECT_EQ(count_of(counts->armed, "x86_64", kGetppid), static_cast<std::uint64_t>(calls[i])) << i;
  }
  auto own = (*rec)->snapshot(**parent);
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(count_of(own->armed, "x86_64", kGetppid), 0u);
  EXPECT_TRUE((*rec)->health().ok());
  // A released slot is free again: 16 slots, the parent holds one.
  for (auto& kid : kids) ASSERT_TRUE(kid.remove().ok());
  for (const auto& c : *children) EXPECT_TRUE((*rec)->release(c).ok());
  std::vector<trace::Target*> more;
  for (int i = 0; i < 15; ++i) {
    auto t = (*rec)->add_target("more" + std::to_string(i));
    ASSERT_TRUE(t.ok()) << i << ": " << t.error().message;
    more.push_back(*t);
  }
  for (auto* t : more) EXPECT_TRUE((*rec)->remove_target(t).ok());
  EXPECT_TRUE((*rec)->remove_target(*parent).ok());
}

// The paths a target opens, read-only or not, while capture is on.
TEST_F(Targets, OpenedFilesAreNotedWhileCaptured) {
  auto rec = trace::EbpfRecorder::open();
  ASSERT_TRUE(rec.ok()) << rec.error().message;
  auto t = (*rec)->add_target("opens");
  ASSERT_TRUE(t.ok()) << t.error().message;
  TempDir dir;
  write_text(dir.file("read-me"), "x");
  auto run = [&](const std::string& script) {
    auto procs = (*t)->cgroup.open_procs();
    ASSERT_TRUE(procs.ok());
    auto child = sys::spawn({.argv = {"/bin/sh", "-c", script}, .cgroup_procs_fd = procs->get()});
    ASSERT_TRUE(child.ok()) << child.error().message;
    int status = 0;
    ASSERT_EQ(waitpid(child->pid(), &status, 0), child->pid());
    EXPECT_EQ(status, 0);
  };
  run("cat " + dir.file("read-me") + " > /dev/null");  // before capture: not noted
  ASSERT_TRUE((*rec)->capture_opens(**t, true).ok());
  run("cat " + dir.file("read-me") + " " + dir.file("read-me") + " > " + dir.file("written"));
  ASSERT_TRUE((*rec)->capture_opens(**t, false).ok());
  run("cat " + dir.file("read-me") + " > /dev/null");  // after: not noted
  auto opened = (*rec)->opened(**t);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> seen;
  for (const auto& f : *opened) seen[f.path] = {f.reads, f.writes};
  EXPECT_EQ(seen[dir.file("read-me")], (std::pair<std::uint64_t, std::uint64_t>{2, 0}));
  EXPECT_EQ(seen[dir.file("written")], (std::pair<std::uint64_t, std::uint64_t>{0, 1}));
  EXPECT_TRUE((*rec)->remove_target(*t).ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, Snapshot, ::testing::Values("ebpf", "ptrace"));

}  // namespace sandmine::test
