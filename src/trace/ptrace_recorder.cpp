#include "trace/ptrace_recorder.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <optional>
#include <unordered_map>

#include "sys/cgroup.h"
#include "sys/fd.h"
#include "sys/files.h"
#include "sys/interrupt.h"
#include "sys/privilege.h"
#include "sys/process_memory.h"
#include "sys/ptrace_calls.h"
#include "sys/seccomp.h"
#include "sys/spawn.h"
#include "syscalls/arch.h"
#include "syscalls/arguments.h"
#include "syscalls/syscalls.h"

namespace sandmine::trace {

namespace {

using syscalls::kAbiCount;
using syscalls::kAbiNative;

constexpr int kSeccompModeFilter = 2;
// What a syscall stop reports as its signal with PTRACE_O_TRACESYSGOOD.
constexpr int kSyscallStopSignal = SIGTRAP | 0x80;

// Set on the command; every auto-attached tracee inherits them.
constexpr long kTraceOptions = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
                               PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL;

// The recorder ABI of a syscall entry as the kernel's syscall_get_arch() and
// the entry number report it, or -1 for an architecture this host does not
// have. x32 calls come in as x86_64 with the x32 bit in the number.
int abi_of(std::uint32_t audit_arch, std::int64_t nr) {
  static const std::string host = syscalls::native_arch();
  const auto* arch = syscalls::arch_of_audit(audit_arch, nr);
  return arch && arch->host == host ? arch->abi : -1;
}

bool is_execve(std::uint32_t audit_arch, std::int64_t nr) {
  return abi_of(audit_arch, nr) == kAbiNative && (nr == SYS_execve || nr == SYS_execveat);
}

// The mined argument values of one call (data/argument_rules.csv), as the
// eBPF recorder takes them: registers from PTRACE_GET_SYSCALL_INFO, a word in
// user memory with process_vm_readv, each under its row's record mask.
struct MinedValues {
  bool mined = false;  // the syscall's arguments are mined on this architecture
  ArgValues values;
  std::uint8_t lost = 0;  // ValuesLost bits: values is not to be kept
};

MinedValues mined_values(pid_t tid, const SyscallKey& key, const __ptrace_syscall_info& info) {
  MinedValues out;
  const syscalls::ArgumentSpec* spec = syscalls::mined_arguments(key.arch, key.nr);
  if (!spec) return out;
  out.mined = true;
  for (const auto& rule : spec->rules) {
    std::uint64_t v = info.entry.args[rule.index];
    if (rule.struct_offset >= 0) {
      auto word = sys::read_process_u64(tid, v + static_cast<std::uint64_t>(rule.struct_offset));
      if (!word) {
        out.lost = kValuesUnreadable;
        return out;
      }
      v = *word;
    }
    out.values.push_back(v & rule.record_mask());
  }
  return out;
}

// Where the tracing loop adds what it counts; snapshot() reads it concurrently.
struct CountSink {
  std::mutex& mutex;
  Counts& counts;

  void add(const SyscallKey& key, bool armed, std::uint64_t ns, const MinedValues& mined) {
    std::lock_guard lock(mutex);
    Tallies& tallies = armed ? counts.armed : counts.unarmed;
    trace::add(tallies, key, 1, ns);
    if (!mined.mined) return;
    if (mined.lost)
      tallies[key].values_lost |= mined.lost;
    else
      add_values(tallies, key, mined.values, 1);
  }
};

// What the loop knows about one traced thread.
struct Tracee {
  // A tracee attached through a fork/clone event starts with a SIGSTOP of
  // ptrace's own (the command's first stop is spawn's raise(SIGSTOP)); that
  // one is swallowed, later ones are the program's.
  bool awaiting_initial_stop = true;
  // Had a seccomp filter at a syscall entry. Filters are never removed and
  // are copied to every child, so once set, /proc is not read again.
  bool armed = false;
};

// The waitpid loop over the command's process tree, from its initial stop
// until every tracee has gone. Runs on the thread that spawned the command:
// that thread is the tracer.
class Tracer {
 public:
  Tracer(const sys::Cgroup& cgroup, pid_t command, CountSink sink)
      : cgroup_(cgroup), command_(command), sink_(sink) {
    for (int abi = 0; abi < kAbiCount; ++abi) arch_names_[abi] = syscalls::arch_for_abi(abi);
    tracees_.emplace(command, Tracee{});
  }

  // Returns when waitpid says there is nothing left to wait for (ECHILD).
  void run() {
    for (;;) {
      int status = 0;
      pid_t tid = sys::wait_any_traced(status);
      if (tid > 0) {
        handle(tid, status, monotonic_ns());
      } else if (errno == ECHILD) {
        return;
      } else if (errno != EINTR) {
        fail(errno_error("cannot wait for the traced processes"));
        return;
      }
      check_interrupt();
    }
  }

  ExitStatus exit() const { return exit_; }
  int interrupted_by() const { return interrupted_by_; }
  const std::optional<Error>& error() const { return error_; }

 private:
  void handle(pid_t tid, int status, std::uint64_t ns) {
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      if (tid == command_) exit_ = ExitStatus::from_wait(status);
      tracees_.erase(tid);
      return;
    }
    if (!WIFSTOPPED(status)) return;
    if (killing_) {
      // Covers a tracee cgroup.kill missed (not moved in yet, or no cgroup.kill).
      sys::kill_thread(tid);
      return;
    }
    // A new tracee's first stop can come before its parent's fork event.
    Tracee& tracee = tracees_[tid];
    if (tid == command_ && !options_set_) {
      if (sys::ptrace_set_options(tid, kTraceOptions) != 0) {
        if (errno != ESRCH) fail(errno_error("cannot set the ptrace options of " + std::to_string(tid)));
        return;
      }
      options_set_ = true;
    }
    int signal = WSTOPSIG(status);
    int event = status >> 16;
    if (signal == kSyscallStopSignal)
      on_syscall_stop(tid, tracee, ns);
    else if (event != 0)
      on_event(tid, tracee, event);
    else
      on_signal_stop(tid, tracee, signal);
  }

  void on_syscall_stop(pid_t tid, Tracee& tracee, std::uint64_t ns) {
    __ptrace_syscall_info info{};
    if (sys::ptrace_syscall_info(tid, info) < 0) {
      if (errno != ESRCH)
        fail(errno_error("PTRACE_GET_SYSCALL_INFO failed on thread " + std::to_string(tid) +
                         " (it needs Linux 5.3 or later)"));
      return;
    }
    if (info.op != PTRACE_SYSCALL_INFO_ENTRY) {
      resume(tid, 0);
      return;
    }
    auto nr = static_cast<std::int64_t>(info.entry.nr);
    if (!started_) {
      // Until the command's execve, the child runs sandmine's own setup (the
      // recording filter, the cgroup move): the eBPF backend does not see it.
      if (!is_execve(info.arch, nr)) {
        resume(tid, 0);
        return;
      }
      started_ = true;
    }
    int abi = abi_of(info.arch, nr);
    if (abi < 0 || !arch_names_[abi]) {
      fail(Error{"thread " + std::to_string(tid) + " made syscall " + std::to_string(nr) +
                 " through an architecture this host has no name for (audit arch " +
                 std::to_string(info.arch) + ")"});
      return;
    }
    // Read at the entry stop, before the call can change it (seccomp() itself).
    // /proc/<tid>/task/<tid> resolves for any thread, leader or not, so the
    // thread group id is not needed.
    int mode = tracee.armed ? kSeccompModeFilter : sys::thread_seccomp_mode(tid, tid);
    // Argument values too: the thread cannot change them while it is stopped.
    SyscallKey key{*arch_names_[abi], nr};
    MinedValues mined = mined_values(tid, key, info);
    // A thread killed during this stop (a sibling's exit_group or execve, an
    // interrupt) does not enter the syscall, and sys_enter never sees it:
    // resume first, count only if that worked. A kill in the instant after a
    // successful resume still skips the call; that cannot be seen from here.
    if (!resume(tid, 0)) return;
    if (mode < 0) {
      fail(Error{"cannot read the seccomp mode of thread " + std::to_string(tid) + " from /proc/" +
                 std::to_string(tid) + "/status"});
      return;
    }
    tracee.armed = mode == kSeccompModeFilter;
    sink_.add(key, tracee.armed, ns, mined);
  }

  void on_event(pid_t tid, Tracee& tracee, int event) {
    unsigned long message = 0;
    if (sys::ptrace_event_message(tid, message) != 0) {
      if (errno != ESRCH) fail(errno_error("PTRACE_GETEVENTMSG failed on thread " + std::to_string(tid)));
      return;
    }
    auto other = static_cast<pid_t>(message);
    switch (event) {
      case PTRACE_EVENT_FORK:
      case PTRACE_EVENT_VFORK:
      case PTRACE_EVENT_CLONE: {
        bool parent_armed = tracee.armed;
        // May exist already: the child's first stop can come before this event.
        Tracee& child = tracees_[other];
        // copy_process() gives the child the parent's seccomp filter.
        child.armed = child.armed || parent_armed;
        break;
      }
      case PTRACE_EVENT_EXEC:
        // A non-leader thread that execs takes over the leader's tid; the
        // other threads are gone. The thread keeps its filter across exec.
        if (other != tid) {
          auto former = tracees_.find(other);
          Tracee moved = former != tracees_.end() ? former->second : Tracee{};
          moved.awaiting_initial_stop = false;
          if (former != tracees_.end()) tracees_.erase(former);
          tracee = moved;
        }
        break;
      default:
        break;
    }
    resume(tid, 0);
  }

  void on_signal_stop(pid_t tid, Tracee& tracee, int signal) {
    if (signal == SIGSTOP && tracee.awaiting_initial_stop) {
      tracee.awaiting_initial_stop = false;
      resume(tid, 0);
      return;
    }
    siginfo_t info{};
    if (sys::ptrace_siginfo(tid, info) != 0) {
      // EINVAL: a group-stop, not a signal to deliver. Without PTRACE_SEIZE
      // the only way on is to restart it (as strace -f does).
      if (errno == EINVAL)
        resume(tid, 0);
      else if (errno != ESRCH)
        fail(errno_error("PTRACE_GETSIGINFO failed on thread " + std::to_string(tid)));
      return;
    }
    resume(tid, signal);
  }

  // Continues tid to its next syscall stop, delivering signal. False when it
  // could not be resumed: it is being killed (ESRCH) or the loop failed.
  bool resume(pid_t tid, int signal) {
    if (sys::ptrace_resume_to_syscall(tid, signal) == 0) return true;
    if (errno != ESRCH) fail(errno_error("cannot resume traced thread " + std::to_string(tid)));
    return false;
  }

  void check_interrupt() {
    if (interrupted_by_ != 0) return;
    interrupted_by_ = sys::interrupt_signal();
    if (interrupted_by_ != 0) kill_all();
  }

  // Keeps the first error, stops the command and goes on reaping.
  void fail(Error error) {
    if (!error_) error_ = std::move(error);
    kill_all();
  }

  void kill_all() {
    if (killing_) return;
    killing_ = true;
    (void)cgroup_.kill();
    for (const auto& [tid, tracee] : tracees_) sys::kill_thread(tid);
  }

  const sys::Cgroup& cgroup_;
  pid_t command_;
  CountSink sink_;
  std::array<std::optional<std::string>, kAbiCount> arch_names_;
  std::unordered_map<pid_t, Tracee> tracees_;
  bool options_set_ = false;
  bool started_ = false;  // the command's execve was entered
  bool killing_ = false;
  ExitStatus exit_;
  int interrupted_by_ = 0;
  std::optional<Error> error_;
};

Result<Recording> trace_in(const sys::Cgroup& cgroup, const RunOptions& options, CountSink sink) {
  auto procs = cgroup.open_procs();
  if (!procs) return procs.error();
  auto kill_switch = sys::KillSwitch::arm(cgroup.path());
  if (!kill_switch) return kill_switch.error();

  Recording recording;
  recording.start_ns = monotonic_ns();
  auto child = sys::spawn(sys::SpawnSpec{
      .argv = options.argv,
      .executable = options.executable,
      .cgroup_procs_fd = procs->get(),
      .allow_all_filter = options.recording_filter,
      .traceme = true,
  });
  if (!child) return child.error();
  procs->reset();

  Tracer tracer(cgroup, child->pid(), sink);
  tracer.run();
  recording.end_ns = monotonic_ns();

  if (auto st = child->exec_status(false); !st)
    return Error{"cannot run " + options.argv[0] + ": " + st.error().message, st.error().errnum};
  if (tracer.error()) return *tracer.error();
  recording.exit = tracer.exit();
  recording.interrupted_by = tracer.interrupted_by();
  {
    std::lock_guard lock(sink.mutex);
    recording.counts = sink.counts;
  }
  return recording;
}

}  // namespace

Result<std::unique_ptr<PtraceRecorder>> PtraceRecorder::create(const std::string& cgroup_parent) {
  if (!sys::has_capability(CAP_SYS_ADMIN))
    return Error{
        "the ptrace recorder needs root (CAP_SYS_ADMIN) to create its cgroup and install "
        "the recording seccomp filter; run sandmine as root or with sudo",
        EPERM};
  if (auto scope = sys::read_file("/proc/sys/kernel/yama/ptrace_scope"); scope && scope->starts_with("3"))
    return Error{
        "ptrace is disabled on this host (kernel.yama.ptrace_scope is 3 until the next "
        "reboot); use the ebpf backend",
        EPERM};
  std::string parent = cgroup_parent;
  if (parent.empty()) {
    auto mount = sys::cgroup2_mount();
    if (!mount) return mount.error();
    parent = *mount;
  }
  (void)sys::remove_stale_groups(parent, "sandmine-ptrace-");
  return std::unique_ptr<PtraceRecorder>(new PtraceRecorder(std::move(parent)));
}

Result<Recording> PtraceRecorder::record(const RunOptions& options) {
  if (options.argv.empty()) return Error{"no command given", EINVAL};
  {
    std::lock_guard lock(mutex_);
    counts_ = {};
  }
  auto cgroup = sys::Cgroup::create(cgroup_parent_, "sandmine-ptrace-" + std::to_string(::getpid()));
  if (!cgroup) return cgroup.error();
  Result<Recording> recording = trace_in(*cgroup, options, CountSink{mutex_, counts_});
  Status removed = cgroup->remove();
  if (recording && !removed) return removed.error();
  return recording;
}

Result<Counts> PtraceRecorder::snapshot() {
  std::lock_guard lock(mutex_);
  return counts_;
}

}  // namespace sandmine::trace
