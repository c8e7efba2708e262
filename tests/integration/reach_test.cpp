// Static reachability against the recorder: what the test programs were seen
// doing must be reachable, and what they never did but can is reported
// unseen (sandmine trace, then sandmine reach; the host's C library table).
#include <gtest/gtest.h>

#include <filesystem>

#include "reach/code_graph.h"
#include "reach/elf_object.h"
#include "reach/libc_table.h"
#include "support/trace_run.h"
#include "syscalls/syscalls.h"

namespace sandmine::test {
namespace {

class Reach : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!is_root()) GTEST_SKIP() << "recording needs root (CI runs as root)";
  }
  void TearDown() override {
    if (is_root()) {
      EXPECT_EQ(leftovers(), std::vector<std::string>{});
    }
  }
};

std::set<std::string> names(const nlohmann::json& list) {
  std::set<std::string> out;
  for (const auto& n : list) out.insert(n.get<std::string>());
  return out;
}

std::set<std::string> unseen_names(const nlohmann::json& binary) {
  std::set<std::string> out;
  for (const auto& u : binary["unseen"])
    if (u["arch"] == "x86_64") out.insert(u["name"].get<std::string>());
  return out;
}

// sandmine trace -o DIR/trace.json -- argv, then sandmine reach DIR.
struct Reached {
  Outcome trace, reach;
  nlohmann::json doc;
};

Reached trace_and_reach(const TempDir& dir, const std::vector<std::string>& argv) {
  Reached r;
  std::vector<std::string> args{"trace", "-o", dir.file("trace.json"), "--"};
  args.insert(args.end(), argv.begin(), argv.end());
  r.trace = sandmine(args);
  r.reach = sandmine({"reach", dir.path(), "--no-cache"});
  if (std::filesystem::exists(dir.file("reach.json"))) r.doc = read_json(dir.file("reach.json"));
  return r;
}

TEST_F(Reach, TraceRecordsTheExecutedFile) {
  auto t = trace("ebpf", {prog("reach_branch")});
  ASSERT_EQ(t.run.exit_code, 0) << t.run.err;
  ASSERT_EQ(t.doc["binaries"].size(), 1u) << t.doc.dump();
  EXPECT_EQ(t.doc["binaries"][0]["path"], prog("reach_branch"));
  EXPECT_EQ(t.doc["binaries"][0]["execs"], 1);
  // prog_rare_syscalls execs prog_exec_target in a grandchild: both are named, once each.
  auto r = trace("ebpf", {prog("rare_syscalls"), prog("exec_target")});
  ASSERT_EQ(r.run.exit_code, 0) << r.run.err;
  ASSERT_EQ(r.doc["binaries"].size(), 2u) << r.doc.dump();
  EXPECT_EQ(r.doc["binaries"][0]["path"], prog("exec_target"));
  EXPECT_EQ(r.doc["binaries"][1]["path"], prog("rare_syscalls"));
  EXPECT_EQ(r.doc["binaries"][0]["execs"], 1);
  EXPECT_EQ(r.doc["binaries"][1]["execs"], 1);
}

TEST_F(Reach, DirectSyscallInABranchNeverTakenIsReachableUnseen) {
  TempDir dir;
  auto r = trace_and_reach(dir, {prog("reach_branch")});
  ASSERT_EQ(r.trace.exit_code, 0) << r.trace.err;
  ASSERT_EQ(r.reach.exit_code, 0) << r.reach.err;
  ASSERT_EQ(r.doc["binaries"].size(), 1u);
  const auto& b = r.doc["binaries"][0];
  EXPECT_EQ(b["path"], prog("reach_branch"));
  EXPECT_TRUE(unseen_names(b).count("sched_rr_get_interval")) << b["unseen"].dump();
  EXPECT_FALSE(unseen_names(b).count("getppid"));
  EXPECT_TRUE(names(r.doc["seen"]["x86_64"]).count("getppid"));
  EXPECT_EQ(r.doc["seen_unreachable"], nlohmann::json::object());
  EXPECT_EQ(r.doc["counts"]["seen_unreachable"], 0);
  // Taking the branch makes it seen.
  TempDir taken;
  auto t = trace_and_reach(taken, {prog("reach_branch"), "take"});
  ASSERT_EQ(t.reach.exit_code, 0) << t.reach.err;
  EXPECT_FALSE(unseen_names(t.doc["binaries"][0]).count("sched_rr_get_interval"));
  EXPECT_TRUE(names(t.doc["seen"]["x86_64"]).count("sched_rr_get_interval"));
}

TEST_F(Reach, ImportedFunctionsNeverCalledAreReachableUnseen) {
  TempDir dir;
  auto r = trace_and_reach(dir, {prog("reach_imports")});
  ASSERT_EQ(r.reach.exit_code, 0) << r.reach.err;
  const auto& b = r.doc["binaries"][0];
  EXPECT_TRUE(unseen_names(b).count("fsync")) << b["unseen"].dump();
  EXPECT_TRUE(unseen_names(b).count("mremap")) << b["unseen"].dump();
  // And when called, they are seen and reachable: fsync directly, mremap through realloc.
  for (auto [mode, call] : {std::pair{"fsync", "fsync"}, std::pair{"grow", "mremap"}}) {
    TempDir d;
    auto c = trace_and_reach(d, {prog("reach_imports"), mode});
    ASSERT_EQ(c.reach.exit_code, 0) << mode << ": " << c.reach.err;
    EXPECT_TRUE(names(c.doc["seen"]["x86_64"]).count(call)) << mode;
    EXPECT_FALSE(unseen_names(c.doc["binaries"][0]).count(call)) << mode;
  }
}

// abort(): the process dies by SIGABRT after the calls only abort makes
// (tgkill): they are seen and on a fatal path, so the soundness check names
// them apart (seen_fatal_path) and does not count them as a gap. Run
// normally, tgkill is on a fatal path and not in the unseen list.
TEST_F(Reach, WhatOnlyAbortMakesIsAFatalPath) {
  TempDir quiet;
  auto r = trace_and_reach(quiet, {prog("reach_fatal")});
  ASSERT_EQ(r.trace.exit_code, 0) << r.trace.err;
  ASSERT_EQ(r.reach.exit_code, 0) << r.reach.err;
  const auto& b = r.doc["binaries"][0];
  EXPECT_TRUE(names(b["fatal_path"]["x86_64"]).count("tgkill")) << b["fatal_path"].dump();
  EXPECT_TRUE(names(r.doc["fatal_path"]["x86_64"]).count("tgkill")) << r.doc["fatal_path"].dump();
  EXPECT_FALSE(unseen_names(b).count("tgkill"));
  EXPECT_FALSE(names(b["reachable"]["x86_64"]).count("tgkill"));
  EXPECT_EQ(b["can_cancel"], false);
  EXPECT_EQ(r.doc["seen_fatal_path"], nlohmann::json::object());

  TempDir died;
  auto a = trace_and_reach(died, {prog("reach_fatal"), "abort"});
  ASSERT_NE(a.trace.exit_code, 0) << "abort ends the process";
  ASSERT_EQ(a.reach.exit_code, 0) << a.reach.err;
  EXPECT_TRUE(names(a.doc["seen"]["x86_64"]).count("tgkill")) << a.doc["seen"].dump();
  EXPECT_TRUE(names(a.doc["seen_fatal_path"]["x86_64"]).count("tgkill")) << a.doc["seen_fatal_path"].dump();
  EXPECT_EQ(a.doc["seen_unreachable"], nlohmann::json::object());
}

// Cancellation acted on: a thread blocked in read is cancelled and unwound
// (glibc loads libgcc_s on the way). Every call the process made is
// reachable, because the program imports pthread_cancel.
TEST_F(Reach, ActedOnCancellationIsReachableWhenTheProgramCanCancel) {
  TempDir dir;
  auto r = trace_and_reach(dir, {prog("reach_cancel"), "cancel"});
  ASSERT_EQ(r.trace.exit_code, 0) << r.trace.err;
  ASSERT_EQ(r.reach.exit_code, 0) << r.reach.err;
  EXPECT_EQ(r.doc["seen_unreachable"], nlohmann::json::object());
  EXPECT_EQ(r.doc["seen_fatal_path"], nlohmann::json::object());
  EXPECT_EQ(r.doc["binaries"][0]["can_cancel"], true);
  EXPECT_EQ(r.doc["binaries"][0]["cancellation"], nlohmann::json::object());
}

// The host glibc table checked against the recorder: every syscall a mode of
// prog_libc_sample makes is in the table's sets of the functions it calls,
// of the start-up and exit path, of the library's init code, or of the
// dynamic loader's own code.
TEST_F(Reach, HostGlibcTableCoversWhatTheRecorderSees) {
  auto libc_elf = reach::read_elf("/lib/x86_64-linux-gnu/libc.so.6");
  ASSERT_TRUE(libc_elf) << libc_elf.error().message;
  auto table = reach::build_libc_table(*libc_elf);
  ASSERT_TRUE(table) << table.error().message;
  auto ld_elf = reach::read_elf("/lib64/ld-linux-x86-64.so.2");
  ASSERT_TRUE(ld_elf);
  auto ld = reach::whole(*reach::build_code_graph(*ld_elf));
  auto set_of = [&](const std::vector<std::string>& functions) {
    reach::NrSet s = ld.native | table->startup.native;
    for (const auto& f : functions) {
      EXPECT_TRUE(table->functions.count(f)) << "the table has no " << f;
      if (table->functions.count(f)) s |= table->functions.at(f).native;
    }
    return s;
  };
  const std::vector<std::string> base{"__libc_start_main", "__cxa_finalize"};
  const std::map<std::string, std::vector<std::string>> modes{
      {"none", {}},
      {"stdio", {"fopen", "fgets", "fclose", "fprintf", "fflush"}},
      {"grow", {"malloc", "realloc", "free"}},
      {"fsync", {"fsync"}},
      {"dir", {"opendir", "readdir", "closedir"}},
      {"sleep", {"nanosleep", "clock_gettime"}},
      {"pipe", {"pipe", "write", "read", "close"}},
      {"fork", {"fork", "waitpid", "_exit"}},
      {"thread", {"pthread_create", "pthread_join"}},
      {"sort", {"qsort"}},
  };
  for (const auto& [mode, functions] : modes) {
    auto fns = base;
    fns.insert(fns.end(), functions.begin(), functions.end());
    reach::NrSet allowed = set_of(fns);
    auto t = trace("ebpf", {prog("libc_sample"), mode});
    ASSERT_EQ(t.run.exit_code, 0) << mode << ": " << t.run.err;
    std::set<std::string> outside;
    for (const auto& [arch, name] : t.armed_set()) {
      // The first execve is sandmine's own (the filter is armed before it), not the program's.
      if (arch == "x86_64" && name == "execve") continue;
      auto nr = syscalls::number_of(arch, name);
      if (arch != "x86_64" || !nr || !allowed.test(static_cast<std::size_t>(*nr)))
        outside.insert(arch + ":" + name);
    }
    EXPECT_EQ(outside, std::set<std::string>{}) << "mode " << mode;
  }
}

}  // namespace
}  // namespace sandmine::test
