// The oracle: the eBPF backend against the ptrace backend on the SAME run. The
// ptrace recorder puts its tracee in a cgroup inside an eBPF target, so one
// execution is recorded by two independent mechanisms (cgroup ancestry and
// seccomp mode read in BPF, against ptrace stops and /proc), and every (arch,
// nr) must have the same count, armed and unarmed, even for programs whose
// behaviour varies from run to run.
#include <gtest/gtest.h>

#include "support/run.h"
#include "trace/ebpf_recorder.h"
#include "trace/ptrace_recorder.h"

namespace sandmine::test {

struct OracleCase {
  std::string name;
  std::vector<std::string> argv;
  bool recording_filter = true;
};

void PrintTo(const OracleCase& c, std::ostream* os) { *os << c.name; }

std::map<trace::SyscallKey, std::uint64_t> counts_of(const trace::Tallies& t) {
  std::map<trace::SyscallKey, std::uint64_t> out;
  for (const auto& [k, v] : t) out[k] = v.count;
  return out;
}

std::string diff(const std::map<trace::SyscallKey, std::uint64_t>& ebpf,
                 const std::map<trace::SyscallKey, std::uint64_t>& ptrace) {
  std::set<trace::SyscallKey> keys;
  for (const auto& [k, v] : ebpf) keys.insert(k);
  for (const auto& [k, v] : ptrace) keys.insert(k);
  std::string out;
  for (const auto& k : keys) {
    auto e = ebpf.count(k) ? ebpf.at(k) : 0, p = ptrace.count(k) ? ptrace.at(k) : 0;
    if (e != p)
      out += k.arch + "/" + std::to_string(k.nr) + ": ebpf " + std::to_string(e) + ", ptrace " +
             std::to_string(p) + "\n";
  }
  return out;
}

// Argument values per (syscall, values), and why any are missing: compared
// exactly between the backends, like counts.
std::map<std::pair<trace::SyscallKey, trace::ArgValues>, std::uint64_t> values_of(const trace::Tallies& t) {
  std::map<std::pair<trace::SyscallKey, trace::ArgValues>, std::uint64_t> out;
  for (const auto& [k, v] : t)
    for (const auto& [args, n] : v.values) out[{k, args}] = n;
  return out;
}

std::map<trace::SyscallKey, int> lost_of(const trace::Tallies& t) {
  std::map<trace::SyscallKey, int> out;
  for (const auto& [k, v] : t)
    if (v.values_lost) out[k] = v.values_lost;
  return out;
}

std::string values_diff(const trace::Tallies& ebpf, const trace::Tallies& ptrace) {
  auto e = values_of(ebpf), p = values_of(ptrace);
  std::set<std::pair<trace::SyscallKey, trace::ArgValues>> keys;
  for (const auto& [k, v] : e) keys.insert(k);
  for (const auto& [k, v] : p) keys.insert(k);
  std::string out;
  for (const auto& k : keys) {
    auto a = e.count(k) ? e.at(k) : 0, b = p.count(k) ? p.at(k) : 0;
    if (a == b) continue;
    out += k.first.arch + "/" + std::to_string(k.first.nr) + " (";
    for (auto v : k.second) out += std::to_string(v) + " ";
    out += "): ebpf " + std::to_string(a) + ", ptrace " + std::to_string(b) + "\n";
  }
  return out;
}

class Oracle : public ::testing::TestWithParam<OracleCase> {
 protected:
  void SetUp() override {
    if (!is_root()) SKIP_OR_FAIL_IN_CI("recording needs root (CI runs as root)");
  }
};

TEST_P(Oracle, EbpfCountsEqualPtraceCountsOnTheSameRun) {
  const auto& c = GetParam();
  auto ebpf = trace::EbpfRecorder::open();
  ASSERT_TRUE(ebpf.ok()) << ebpf.error().message;
  auto target = (*ebpf)->add_target("oracle");
  ASSERT_TRUE(target.ok()) << target.error().message;
  auto ptrace = trace::PtraceRecorder::create((*target)->cgroup.path());
  ASSERT_TRUE(ptrace.ok()) << ptrace.error().message;

  auto rec = (*ptrace)->record({.argv = c.argv, .recording_filter = c.recording_filter});
  ASSERT_TRUE(rec.ok()) << rec.error().message;
  EXPECT_EQ(rec->exit.shell_code(), 0);
  auto seen = (*ebpf)->snapshot(**target);
  ASSERT_TRUE(seen.ok()) << seen.error().message;
  EXPECT_TRUE((*ebpf)->health().ok());

  auto e_armed = counts_of(seen->armed), p_armed = counts_of(rec->counts.armed);
  auto e_unarmed = counts_of(seen->unarmed), p_unarmed = counts_of(rec->counts.unarmed);
  EXPECT_GE(e_armed.size() + e_unarmed.size(), 10u) << "the corpus program did next to nothing";
  EXPECT_EQ(e_armed, p_armed) << diff(e_armed, p_armed);
  EXPECT_EQ(e_unarmed, p_unarmed) << diff(e_unarmed, p_unarmed);
  EXPECT_EQ(values_of(seen->armed), values_of(rec->counts.armed))
      << values_diff(seen->armed, rec->counts.armed);
  EXPECT_EQ(values_of(seen->unarmed), values_of(rec->counts.unarmed))
      << values_diff(seen->unarmed, rec->counts.unarmed);
  EXPECT_EQ(lost_of(seen->armed), lost_of(rec->counts.armed));
  EXPECT_EQ(lost_of(seen->unarmed), lost_of(rec->counts.unarmed));
  EXPECT_TRUE((*ebpf)->remove_target(*target).ok());
}

INSTANTIATE_TEST_SUITE_P(
    Corpus, Oracle,
    ::testing::Values(OracleCase{"threads_forks_exec", {prog("rare_syscalls"), prog("exec_target")}},
                      OracleCase{"int80", {prog("int80")}}, OracleCase{"argument_values", {prog("args")}},
                      OracleCase{"argument_in_unreadable_memory", {prog("args"), "bad-clone3"}},
                      OracleCase{"arming_without_recording_filter", {prog("arming")}, false},
                      OracleCase{"arming_with_recording_filter", {prog("arming")}},
                      OracleCase{"exec_chain", {"/bin/sh", "-c", "exec /usr/bin/env " + prog("exec_target")}},
                      OracleCase{"pipeline",
                                 {"/bin/sh", "-c",
                                  "echo hello | tr a-z A-Z | wc -c > /dev/null; ls / | sort -r > /dev/null"}},
                      OracleCase{
                          "python",
                          {"/usr/bin/python3", "-c",
                           "import os, threading, subprocess\n"
                           "ts = [threading.Thread(target=os.listdir, args=('/',)) for _ in range(4)]\n"
                           "[t.start() for t in ts]; [t.join() for t in ts]\n"
                           "subprocess.run(['/bin/true'], check=True)"}},
                      OracleCase{"perl",
                                 {"/usr/bin/perl", "-e",
                                  "my $p = fork(); if ($p == 0) { exec('/bin/true') } waitpid($p, 0); "
                                  "opendir(my $d, '/') or die; my @e = readdir($d); exit 0"}}),
    [](const auto& info) { return info.param.name; });

}  // namespace sandmine::test
