// What a seccomp filter costs one system call, as ratios to no filter,
// measured side by side in one run (Google Benchmark).
//
// A filter cannot be removed once installed, so each configuration lives in
// its own forked child: the child installs its filter, then waits for
// requests on a pipe and answers each with the time (CLOCK_MONOTONIC, read
// from the vDSO, so no syscall of its own) of N calls in a tight loop. The
// parent only hands out work; nothing it does is timed. Repetitions of all
// configurations are interleaved in random order (Google Benchmark's
// --benchmark_enable_random_interleaving), so drift on a noisy VM hits all
// alike; the table at the end gives medians and their ratios to no filter.
//
// Configurations: no filter; a mined profile (--profile, or a realistic
// 100-name allow list); Docker's default (containers-common's seccomp.json,
// taken as Docker takes it here). The filters are built with libseccomp as
// runc builds them (no bad-architecture action of their own), each with
// SCMP_FLTATR_CTL_OPTIMIZE 1 (rules in priority order: what runc, Docker and
// Podman get, the default) and 2 (a binary tree over syscall numbers).
//
// An allow-all filter (one instruction) is measured too: the fixed cost of
// having any filter at all.
//
// Three probes:
//   getppid  allowed by every profile here: since Linux 5.11 the kernel's
//            seccomp action cache answers a call that a filter allows
//            whatever its arguments without running the filter, so the
//            profile's size should not matter here
//   kcmp     kcmp(self, self, KCMP_VM): outside every profile here (Docker
//            allows it only with CAP_SYS_PTRACE), so the filter really runs
//            on every call, down to the rule or default that denies it: the
//            case the binary tree shortens. Without a filter the call runs.
//   fcntl    fcntl(-1, F_GETFL): EBADF at once. Allowed by name in the mined
//            and Docker profiles (the action cache answers it); in "args",
//            the mined profile with fcntl allowed for six commands as
//            `mine --args strict` writes them (one rule per value, F_GETFL
//            among them), the filter runs on every call down to the rule that
//            matches: the action cache covers only decisions that do not
//            depend on arguments.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "profile/docker_json.h"
#include "profile/filter.h"

namespace {

using namespace sandmine;

// What a small web server or cache allows: the shape of a mined profile
// (runtime start-up, the event loop, sockets, files, threads, signals).
const std::vector<std::string> kRealisticNames = {"accept4",
                                                  "access",
                                                  "arch_prctl",
                                                  "bind",
                                                  "brk",
                                                  "capget",
                                                  "capset",
                                                  "chdir",
                                                  "clock_getres",
                                                  "clock_gettime",
                                                  "clock_nanosleep",
                                                  "clone",
                                                  "clone3",
                                                  "close",
                                                  "connect",
                                                  "dup",
                                                  "dup2",
                                                  "dup3",
                                                  "epoll_create1",
                                                  "epoll_ctl",
                                                  "epoll_pwait",
                                                  "epoll_wait",
                                                  "eventfd2",
                                                  "execve",
                                                  "exit",
                                                  "exit_group",
                                                  "faccessat2",
                                                  "fchmod",
                                                  "fchown",
                                                  "fcntl",
                                                  "fdatasync",
                                                  "fstat",
                                                  "fstatfs",
                                                  "fsync",
                                                  "ftruncate",
                                                  "futex",
                                                  "getcwd",
                                                  "getdents64",
                                                  "getegid",
                                                  "geteuid",
                                                  "getgid",
                                                  "getpeername",
                                                  "getpid",
                                                  "getppid",
                                                  "getrandom",
                                                  "getrlimit",
                                                  "getsockname",
                                                  "getsockopt",
                                                  "gettid",
                                                  "gettimeofday",
                                                  "getuid",
                                                  "ioctl",
                                                  "kill",
                                                  "listen",
                                                  "lseek",
                                                  "madvise",
                                                  "mkdir",
                                                  "mmap",
                                                  "mprotect",
                                                  "munmap",
                                                  "nanosleep",
                                                  "newfstatat",
                                                  "openat",
                                                  "pipe2",
                                                  "poll",
                                                  "prctl",
                                                  "pread64",
                                                  "prlimit64",
                                                  "pwrite64",
                                                  "read",
                                                  "readlink",
                                                  "readv",
                                                  "recvfrom",
                                                  "recvmsg",
                                                  "rseq",
                                                  "rt_sigaction",
                                                  "rt_sigprocmask",
                                                  "rt_sigreturn",
                                                  "sched_getaffinity",
                                                  "sched_yield",
                                                  "sendfile",
                                                  "sendmsg",
                                                  "sendto",
                                                  "set_robust_list",
                                                  "set_tid_address",
                                                  "setgid",
                                                  "setgroups",
                                                  "setsockopt",
                                                  "setuid",
                                                  "shutdown",
                                                  "sigaltstack",
                                                  "socket",
                                                  "statx",
                                                  "tgkill",
                                                  "umask",
                                                  "uname",
                                                  "unlink",
                                                  "wait4",
                                                  "write",
                                                  "writev"};

struct Options {
  std::string profile;  // empty: kRealisticNames
  std::string docker = "/usr/share/containers/seccomp.json";
  long calls = 20'000;  // per iteration
  int cpu = -1;
};

// The probes: each child runs one of them in its loop.
enum Probe : int { kGetppid = 0, kKcmp = 1, kFcntl = 2 };
constexpr const char* kProbeNames[] = {"getppid", "kcmp", "fcntl"};
constexpr int kKcmpVm = 1;  // KCMP_VM: do two processes share their memory? Reads only.

long call(Probe p) {
  static const pid_t self = ::getpid();
  switch (p) {
    case kGetppid:
      return ::syscall(SYS_getppid);
    case kKcmp:
      return ::syscall(SYS_kcmp, self, self, kKcmpVm, 0, 0);
    case kFcntl:
      return ::syscall(SYS_fcntl, -1, F_GETFL, 0);
  }
  return -1;
}

// The profile as a BPF program, built as runc builds it (runc never sets the
// bad-architecture action), at an optimization level.
std::vector<sock_filter> build_filter(const profile::Profile& p, int optimize) {
  auto program = profile::compile_filter(p, profile::FilterMode::enforce,
                                         {.optimize = optimize, .bad_arch_default = false});
  if (!program) throw std::runtime_error(program.error().message);
  return std::move(*program);
}

// What the profile does with a probe's call, for the table.
std::string action_for(const profile::Profile& p, Probe probe) {
  auto a = profile::unconditional_action(p, kProbeNames[probe]);
  if (!a) return "by args";
  std::string n = a->name.substr(std::strlen("SCMP_ACT_"));
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
  return n;
}

// A child with (or without) a filter that times loops of a probe on request.
class Child {
 public:
  Child(const std::vector<sock_filter>* program, Probe probe) {
    int req[2], resp[2];
    if (::pipe2(req, O_CLOEXEC) != 0 || ::pipe2(resp, O_CLOEXEC) != 0)
      throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      // Nothing of the other children's pipes: each must see end of file when the parent closes its own.
      for (int fd = 3; fd < 4096; ++fd)
        if (fd != req[0] && fd != resp[1]) ::close(fd);
      serve(program, probe, req[0], resp[1]);
    }
    ::close(req[0]);
    ::close(resp[1]);
    to_ = req[1];
    from_ = resp[0];
    long ready = 0;
    if (::read(from_, &ready, sizeof ready) != sizeof ready || ready != 0)
      throw std::runtime_error(
          fmt::format("the child could not install its filter: {}", std::strerror(int(ready))));
  }
  ~Child() {
    ::close(to_);  // the child exits on end of file
    ::close(from_);
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // Nanoseconds the child took for `calls` calls.
  double time(long calls) {
    if (::write(to_, &calls, sizeof calls) != sizeof calls) throw std::runtime_error("the child is gone");
    double ns = 0;
    if (::read(from_, &ns, sizeof ns) != sizeof ns)
      throw std::runtime_error("the child did not answer (does its filter deny read or write?)");
    return ns;
  }

 private:
  [[noreturn]] static void serve(const std::vector<sock_filter>* program, Probe probe, int in, int out) {
    long status = 0;
    if (program) {
      sock_fprog prog{static_cast<unsigned short>(program->size()),
                      const_cast<sock_filter*>(program->data())};
      if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
          ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
        status = errno;
    }
    (void)!::write(out, &status, sizeof status);
    if (status) ::_exit(1);
    long calls = 0;
    while (::read(in, &calls, sizeof calls) == sizeof calls) {
      timespec t0{}, t1{};
      ::clock_gettime(CLOCK_MONOTONIC, &t0);
      for (long i = 0; i < calls; ++i) benchmark::DoNotOptimize(call(probe));
      ::clock_gettime(CLOCK_MONOTONIC, &t1);
      double ns = double(t1.tv_sec - t0.tv_sec) * 1e9 + double(t1.tv_nsec - t0.tv_nsec);
      if (::write(out, &ns, sizeof ns) != sizeof ns) break;
    }
    ::_exit(0);
  }

  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
};

struct Config {
  std::string name;
  std::optional<std::vector<sock_filter>> program;  // none: no filter
  std::string actions[3];                           // per probe
};

// Keeps the median ns/call of each benchmark as Google Benchmark reports it.
class TableReporter : public benchmark::ConsoleReporter {
 public:
  // Colours only on a terminal (a reporter of one's own does not follow --benchmark_color).
  TableReporter() : ConsoleReporter(::isatty(STDOUT_FILENO) ? OO_ColorTabular : OO_Tabular) {}
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& r : runs) {
      auto it = r.counters.find("ns/call");
      if (it == r.counters.end()) continue;
      bool median = r.run_type == Run::RT_Aggregate && r.aggregate_name == "median";
      bool single = r.run_type == Run::RT_Iteration && r.repetitions <= 1;
      if (median || single) ns[r.run_name.function_name] = it->second.value;
    }
  }
  std::map<std::string, double> ns;
};

// Google Benchmark's flags, with this bench's defaults first so the user's win.
std::vector<char*> with_defaults(int argc, char** argv, std::vector<std::string>& storage) {
  storage = {"--benchmark_repetitions=9", "--benchmark_enable_random_interleaving=true",
             "--benchmark_display_aggregates_only=true", "--benchmark_min_time=0.1"};
  std::vector<char*> out{argv[0]};
  for (auto& s : storage) out.push_back(s.data());
  for (int i = 1; i < argc; ++i) out.push_back(argv[i]);
  out.push_back(nullptr);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> storage;
  auto args = with_defaults(argc, argv, storage);
  int n = static_cast<int>(args.size()) - 1;
  benchmark::Initialize(&n, args.data());

  Options o;
  CLI::App app{
      "Cost of a seccomp filter per system call, as ratios to no filter (Google Benchmark flags too)"};
  app.add_option("--profile", o.profile,
                 "A mined Docker/OCI profile (default: a realistic 100-name allow list)");
  app.add_option("--docker-profile", o.docker, "Docker's default profile")->capture_default_str();
  app.add_option("--calls", o.calls, "Calls per iteration")->capture_default_str();
  app.add_option("--cpu", o.cpu, "Pin everything to this CPU (-1: the last)")->capture_default_str();
  try {
    app.parse(n, args.data());
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (o.cpu < 0) o.cpu = static_cast<int>(std::thread::hardware_concurrency()) - 1;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(o.cpu, &set);
  if (::sched_setaffinity(0, sizeof set, &set) != 0) {
    fmt::print(stderr, "filter_bench: cannot pin to CPU {}\n", o.cpu);
    return 2;
  }

  std::vector<Config> configs;
  std::vector<std::unique_ptr<Child>> children;
  std::string sources;  // what the profiles are, for the table
  try {
    profile::Profile mined;
    std::string mined_name = "mined";
    std::string mined_source = o.profile;
    if (o.profile.empty()) {
      mined = {.source = "built-in list", .default_action = profile::Action::error(1), .arches = {"x86_64"}};
      profile::allow(mined, std::set<std::string>(kRealisticNames.begin(), kRealisticNames.end()), "");
      mined_name = fmt::format("{}-name list", kRealisticNames.size());
      mined_source = "a built-in allow list of a small server's syscalls";
    } else {
      auto p = profile::read_profile(o.profile);
      if (!p) throw std::runtime_error(p.error().message);
      mined = std::move(*p);
    }
    // The same profile with fcntl decided by its command, six values allowed
    // (F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD_CLOEXEC), as the
    // strict tier writes them: the int compared under 32 bits.
    profile::Profile with_args = mined;
    {
      auto& fcntl = with_args.syscalls["fcntl"];
      fcntl.action.reset();
      fcntl.rules.clear();
      for (std::uint64_t cmd : {F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD_CLOEXEC})
        fcntl.rules.push_back(
            {profile::Action::allow(), {{1, 0xffffffffu, cmd, "SCMP_CMP_MASKED_EQ"}}, "", ""});
    }
    auto docker = profile::read_profile(o.docker);
    if (!docker) throw std::runtime_error(docker.error().message);
    sources = fmt::format(
        "{}: {}; docker: {}, as Docker takes it on this host; built with libseccomp {}.{}.{}, "
        "linear = SCMP_FLTATR_CTL_OPTIMIZE 1 (the default, what runc builds), tree = 2",
        mined_name, mined_source, o.docker, seccomp_version()->major, seccomp_version()->minor,
        seccomp_version()->micro);

    configs.push_back({.name = "none", .actions = {"allow", "runs", "allow"}});
    configs.push_back({.name = "allow-all",
                       .program = std::vector<sock_filter>{BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)},
                       .actions = {"allow", "allow", "allow"}});
    for (const auto& [name, p] : {std::pair{mined_name, &mined}, std::pair{std::string("docker"), &*docker},
                                  std::pair{std::string("args"), &with_args}})
      for (int opt : {1, 2})
        configs.push_back(
            {.name = fmt::format("{} {}", name, opt == 1 ? "linear" : "tree"),
             .program = build_filter(*p, opt),
             .actions = {action_for(*p, kGetppid), action_for(*p, kKcmp), action_for(*p, kFcntl)}});
    sources += fmt::format("; args: the {} with fcntl allowed for six commands (argument rules)", mined_name);
    for (int probe : {kGetppid, kKcmp, kFcntl})
      for (const auto& c : configs) {
        Child* child = children
                           .emplace_back(std::make_unique<Child>(c.program ? &*c.program : nullptr,
                                                                 static_cast<Probe>(probe)))
                           .get();
        benchmark::RegisterBenchmark(fmt::format("{}/{}", kProbeNames[probe], c.name).c_str(),
                                     [child, calls = o.calls](benchmark::State& state) {
                                       double total = 0;
                                       for (auto _ : state) {
                                         double ns = child->time(calls);
                                         total += ns;
                                         state.SetIterationTime(ns / 1e9);
                                       }
                                       state.counters["ns/call"] =
                                           total / double(calls) / double(state.iterations());
                                       state.SetItemsProcessed(state.iterations() * calls);
                                     })
            ->UseManualTime();
      }
  } catch (const std::exception& e) {
    fmt::print(stderr, "filter_bench: {}\n", e.what());
    return 2;
  }

  TableReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  children.clear();

  fmt::print(
      "\nseccomp filter cost per call, pinned to CPU {}; medians (Google Benchmark repetitions, randomly "
      "interleaved)\n",
      o.cpu);
  fmt::print("{}\n", sources);
  // kcmp without a filter does real work, so its column has no ratio to none:
  // what matters there is how long each filter takes to deny it.
  fmt::print("{:<20} {:>6}  {:>10} {:>7} {:>6}  {:>8} {:>6}  {:>8} {:>7} {:>7}\n", "filter", "insns",
             "getppid ns", "x none", "action", "kcmp ns", "action", "fcntl ns", "x none", "action");
  auto ns_of = [&](int probe, const Config& c) {
    auto it = reporter.ns.find(fmt::format("{}/{}", kProbeNames[probe], c.name));
    return it == reporter.ns.end() ? 0.0 : it->second;
  };
  double base = ns_of(kGetppid, configs.front());
  double fcntl_base = ns_of(kFcntl, configs.front());
  for (const auto& c : configs) {
    double ns = ns_of(kGetppid, c);
    double fcntl = ns_of(kFcntl, c);
    fmt::print("{:<20} {:>6}  {:>10.1f} {:>7.2f} {:>6}  {:>8.1f} {:>6}  {:>8.1f} {:>7.2f} {:>7}\n", c.name,
               c.program ? std::to_string(c.program->size()) : "-", ns, base > 0 ? ns / base : 0.0,
               c.actions[kGetppid], ns_of(kKcmp, c), c.actions[kKcmp], fcntl,
               fcntl_base > 0 ? fcntl / fcntl_base : 0.0, c.actions[kFcntl]);
  }
  // The binary tree against priority order, per profile and probe.
  for (size_t i = 2; i + 1 < configs.size(); i += 2)
    fmt::print("{}: tree / linear {:.2f} (getppid), {:.2f} (kcmp, denied)\n",
               configs[i].name.substr(0, configs[i].name.rfind(' ')),
               ns_of(kGetppid, configs[i + 1]) / ns_of(kGetppid, configs[i]),
               ns_of(kKcmp, configs[i + 1]) / ns_of(kKcmp, configs[i]));
  // The same call allowed by its name (the action cache answers it) and by
  // argument rules (the filter runs), side by side.
  // configs: none, allow-all, mined linear/tree, docker linear/tree, args linear/tree.
  for (int tree : {0, 1}) {
    const char* opt = tree ? "tree" : "linear";
    double by_name = ns_of(kFcntl, configs[2 + tree]);
    double by_args = ns_of(kFcntl, configs[6 + tree]);
    fmt::print(
        "fcntl ({}): argument rules / name only {:.2f} ({:+.1f} ns per call): the kernel's seccomp action "
        "cache answers only calls a filter allows whatever their arguments\n",
        opt, by_args / by_name, by_args - by_name);
  }
  return 0;
}
