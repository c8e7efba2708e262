// Argument values (data/argument_rules.csv) as both backends record them, on
// programs that make known values (tests/programs/args.c): exact sets and
// counts, int arguments under 32 bits, clone3's flags from user memory, i386
// calls by name only, and a full value map reported rather than silent.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/futex.h>
#include <linux/prctl.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <numeric>

#include "support/run.h"
#include "syscalls/syscalls.h"
#include "trace/ebpf_recorder.h"
#include "trace/ptrace_recorder.h"
#include "trace/trace.h"

namespace sandmine::test {

namespace {

using Values = std::map<trace::ArgValues, std::uint64_t>;

// One run of argv recorded by both backends: the ptrace tracee runs inside an eBPF target.
struct BothRecordings {
  trace::Counts ebpf;
  trace::Counts ptrace;
};

BothRecordings record_both(const std::vector<std::string>& argv) {
  BothRecordings out;
  auto ebpf = trace::EbpfRecorder::open();
  if (!ebpf) throw std::runtime_error(ebpf.error().message);
  auto target = (*ebpf)->add_target("args");
  if (!target) throw std::runtime_error(target.error().message);
  auto ptrace = trace::PtraceRecorder::create((*target)->cgroup.path());
  if (!ptrace) throw std::runtime_error(ptrace.error().message);
  auto rec = (*ptrace)->record({.argv = argv});
  if (!rec) throw std::runtime_error(rec.error().message);
  if (rec->exit.shell_code() != 0) throw std::runtime_error(argv[0] + " failed");
  auto seen = (*ebpf)->snapshot(**target);
  if (!seen) throw std::runtime_error(seen.error().message);
  if (auto st = (*ebpf)->health(); !st) throw std::runtime_error(st.error().message);
  (void)(*ebpf)->remove_target(*target);
  out.ebpf = std::move(*seen);
  out.ptrace = std::move(rec->counts);
  return out;
}

const trace::Tally& tally(const trace::Tallies& t, const std::string& arch, const std::string& name) {
  static const trace::Tally none;
  auto nr = syscalls::number_of(arch, name);
  if (!nr) return none;
  auto it = t.find({arch, *nr});
  return it == t.end() ? none : it->second;
}

const Values& values(const trace::Tallies& t, const std::string& name) {
  return tally(t, "x86_64", name).values;
}

std::uint64_t count_of(const Values& v, trace::ArgValues args) {
  auto it = v.find(args);
  return it == v.end() ? 0 : it->second;
}

std::map<std::pair<trace::SyscallKey, trace::ArgValues>, std::uint64_t> all_values(const trace::Tallies& t) {
  std::map<std::pair<trace::SyscallKey, trace::ArgValues>, std::uint64_t> out;
  for (const auto& [k, v] : t)
    for (const auto& [args, n] : v.values) out[{k, args}] = n;
  return out;
}

}  // namespace

class ArgumentValues : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!is_root()) GTEST_SKIP() << "recording needs root (CI runs as root)";
  }
};

TEST_F(ArgumentValues, KnownValuesExactlyOnBothBackends) {
  auto both = record_both({prog("args")});
  for (const auto* counts : {&both.ebpf, &both.ptrace}) {
    const auto& t = counts->armed;
    SCOPED_TRACE(counts == &both.ebpf ? "ebpf" : "ptrace");
    // The upper half of an int argument is ignored, by the kernel and so by the recorders.
    EXPECT_EQ(values(t, "socket"), (Values{{{AF_INET, SOCK_STREAM, 0}, 3},
                                           {{AF_UNIX, SOCK_DGRAM, 0}, 1},
                                           {{AF_INET6, SOCK_DGRAM, IPPROTO_UDP}, 1},
                                           {{AF_NETLINK, SOCK_RAW, 0}, 1},
                                           {{AF_PACKET, SOCK_DGRAM, 0}, 1}}));
    EXPECT_EQ(values(t, "setsockopt"),
              (Values{{{SOL_SOCKET, SO_REUSEADDR}, 2}, {{IPPROTO_TCP, TCP_NODELAY}, 1}}));
    EXPECT_EQ(values(t, "getsockopt"), (Values{{{SOL_SOCKET, SO_TYPE}, 1}}));
    EXPECT_EQ(values(t, "ioctl"), (Values{{{FIONBIO}, 1}, {{FIOCLEX}, 1}, {{FIONREAD}, 1}, {{TCGETS}, 1}}));
    EXPECT_EQ(values(t, "prctl"), (Values{{{PR_GET_DUMPABLE}, 2}, {{PR_SET_NAME}, 1}, {{PR_GET_NAME}, 1}}));
    EXPECT_EQ(values(t, "personality"), (Values{{{0xffffffff}, 1}}));
    EXPECT_EQ(values(t, "fcntl"),
              (Values{{{F_GETFD}, 1}, {{F_SETFD}, 1}, {{F_GETFL}, 1}, {{F_DUPFD_CLOEXEC}, 1}}));
    EXPECT_EQ(values(t, "kill"), (Values{{{0}, 1}, {{SIGCHLD}, 1}}));
    EXPECT_EQ(values(t, "tgkill"), (Values{{{SIGURG}, 1}}));
    EXPECT_EQ(values(t, "pipe2"), (Values{{{0}, 2}, {{O_CLOEXEC}, 1}, {{O_EXCL}, 1}}));
    // clone: the low 32 bits, the exit signal included; garbage above them is dropped.
    EXPECT_EQ(values(t, "clone"), (Values{{{SIGCHLD}, 2}, {{CLONE_NEWUTS | SIGCHLD}, 1}}));
    EXPECT_EQ(values(t, "unshare"), (Values{{{CLONE_FILES}, 1}, {{CLONE_NEWUTS}, 1}}));
    EXPECT_EQ(values(t, "setns"), (Values{{{0}, 1}, {{CLONE_NEWNET}, 1}}));
    // mprotect: the marker; the loader (RELRO) and thread stacks never make code executable.
    EXPECT_EQ(count_of(values(t, "mprotect"), {PROT_EXEC}), 1u);
    for (const auto& [args, n] : values(t, "mprotect"))
      EXPECT_TRUE(args[0] == PROT_EXEC || !(args[0] & PROT_EXEC)) << args[0];
    // Values glibc and the loader make too: the markers exactly, theirs present.
    const Values& futex = values(t, "futex");
    EXPECT_EQ(count_of(futex, {FUTEX_TRYLOCK_PI}), 1u);
    EXPECT_EQ(count_of(futex, {FUTEX_UNLOCK_PI}), 1u);
    EXPECT_EQ(count_of(futex, {FUTEX_CMP_REQUEUE_PI}), 1u);
    EXPECT_GE(count_of(futex, {FUTEX_WAKE}), 2u)
        << "private and shared: one value without FUTEX_PRIVATE_FLAG";
    EXPECT_GE(count_of(futex, {FUTEX_WAIT_BITSET}), 1u) << "without FUTEX_CLOCK_REALTIME";
    const Values& mmap = values(t, "mmap");
    EXPECT_EQ(count_of(mmap, {PROT_WRITE | PROT_EXEC}), 1u);
    EXPECT_EQ(count_of(mmap, {PROT_READ | PROT_WRITE | PROT_EXEC}), 1u);
    for (std::uint64_t prot : {PROT_NONE, PROT_READ, PROT_READ | PROT_EXEC})
      EXPECT_GE(count_of(mmap, {prot}), 1u);
    const Values& madvise = values(t, "madvise");
    EXPECT_EQ(count_of(madvise, {MADV_WILLNEED}), 1u);
    EXPECT_EQ(count_of(madvise, {MADV_DONTFORK}), 1u);
    EXPECT_EQ(count_of(madvise, {MADV_DONTDUMP}), 1u);
    // clone3: the raw call's 64-bit flag, and glibc's thread flags from pthread_create.
    const Values& clone3 = values(t, "clone3");
    ASSERT_EQ(clone3.size(), 2u);
    EXPECT_EQ(count_of(clone3, {CLONE_CLEAR_SIGHAND}), 1u);
    for (const auto& [args, n] : clone3)
      if (args[0] != CLONE_CLEAR_SIGHAND) {
        EXPECT_EQ(args[0] & (CLONE_VM | CLONE_THREAD | CLONE_SIGHAND),
                  std::uint64_t{CLONE_VM | CLONE_THREAD | CLONE_SIGHAND});
        EXPECT_EQ(n, 1u);
      }
    // Complete: every mined syscall's values add up to its count; nothing lost.
    for (const auto& [key, tl] : t) {
      EXPECT_EQ(tl.values_lost, 0) << key.nr;
      if (syscalls::mined_arguments(key.arch, key.nr)) {
        auto sum = std::accumulate(tl.values.begin(), tl.values.end(), std::uint64_t{0},
                                   [](std::uint64_t a, const auto& v) { return a + v.second; });
        EXPECT_EQ(sum, tl.count) << key.arch << " " << key.nr;
      } else {
        EXPECT_TRUE(tl.values.empty()) << key.arch << " " << key.nr;
      }
    }
    // i386: the same syscall through int $0x80 is recorded by name only.
    const trace::Tally& personality32 = tally(t, "x86", "personality");
    EXPECT_EQ(personality32.count, 1u);
    EXPECT_TRUE(personality32.values.empty());
    EXPECT_EQ(personality32.values_lost, 0);
  }
  EXPECT_EQ(all_values(both.ebpf.armed), all_values(both.ptrace.armed));
}

TEST_F(ArgumentValues, UnreadableClone3FlagsFallBackToTheNameOnBothBackends) {
  auto both = record_both({prog("args"), "bad-clone3"});
  for (const auto* counts : {&both.ebpf, &both.ptrace}) {
    SCOPED_TRACE(counts == &both.ebpf ? "ebpf" : "ptrace");
    const trace::Tally& clone3 = tally(counts->armed, "x86_64", "clone3");
    EXPECT_EQ(clone3.count, 1u);
    EXPECT_TRUE(clone3.values.empty());
    EXPECT_EQ(clone3.values_lost, trace::kValuesUnreadable);
  }
}

TEST_F(ArgumentValues, AFullValueMapFallsBackToNamesAndSaysWhich) {
  // Four entries: the loader's mmap and mprotect values fill it before main runs.
  auto rec = trace::EbpfRecorder::open({.max_arg_values = 4});
  ASSERT_TRUE(rec.ok()) << rec.error().message;
  auto r = (*rec)->record({.argv = {prog("args")}});
  ASSERT_TRUE(r.ok()) << r.error().message;  // a full map is no failed recording
  EXPECT_EQ(r->exit.shell_code(), 0);
  std::size_t kept = 0;
  for (const auto* tallies : {&r->counts.armed, &r->counts.unarmed})
    for (const auto& [key, tl] : *tallies) {
      kept += tl.values.size();
      if (!tl.values_lost && syscalls::mined_arguments(key.arch, key.nr)) {
        auto sum = std::accumulate(tl.values.begin(), tl.values.end(), std::uint64_t{0},
                                   [](std::uint64_t a, const auto& v) { return a + v.second; });
        EXPECT_EQ(sum, tl.count) << "a syscall not marked lost must have all its values: " << key.nr;
      }
    }
  EXPECT_LE(kept, 4u);
  // socket alone makes five distinct values: it cannot be complete.
  const trace::Tally& socket = tally(r->counts.armed, "x86_64", "socket");
  EXPECT_EQ(socket.count, 7u);
  EXPECT_EQ(socket.values_lost, trace::kValuesMapFull);
  trace::Trace t;
  t.syscalls = trace::entries_from(r->counts.armed, r->start_ns);
  auto report = trace::lost_values_report(t);
  EXPECT_NE(std::find_if(report.begin(), report.end(),
                         [](const std::string& line) {
                           return line.starts_with(
                               "x86_64 socket: argument values incomplete (the recorder's map "
                               "of argument values was full");
                         }),
            report.end());
  auto doc = trace::to_json(t);
  auto back = trace::trace_from_json(doc, "t.json");
  ASSERT_TRUE(back.ok()) << back.error().message;  // incomplete values are still a valid trace
}

}  // namespace sandmine::test
