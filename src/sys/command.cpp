#include "sys/command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sys/fd.h"
#include "sys/spawn.h"

namespace sandmine::sys {

namespace {
constexpr size_t kMaxOutput = 1 << 20;
}

std::string CommandResult::last_line() const {
  size_t end = output.find_last_not_of("\r\n \t");
  if (end == std::string::npos) return "";
  size_t start = output.rfind('\n', end);
  return output.substr(start == std::string::npos ? 0 : start + 1,
                       end - (start == std::string::npos ? 0 : start + 1) + 1);
}

Result<CommandResult> run_command(const std::vector<std::string>& argv, const CommandOptions& options) {
  if (argv.empty()) return Error{"no command given", EINVAL};
  auto executable = find_executable(argv[0]);
  if (!executable) return executable.error();
  int out[2], in[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(in, O_CLOEXEC) != 0) return errno_error("cannot create a pipe");
  UniqueFd out_r(out[0]), out_w(out[1]), in_r(in[0]), in_w(in[1]);
  auto child = spawn({.argv = argv,
                      .executable = *executable,
                      .cgroup_procs_fd = options.cgroup_procs_fd,
                      .allow_all_filter = options.allow_all_filter,
                      .netns_fd = options.netns_fd,
                      .stdin_fd = in_r.get(),
                      .stdout_fd = out_w.get(),
                      .stderr_fd = out_w.get(),
                      .new_process_group = options.own_process_group});
  if (!child) return child.error();
  out_w.reset();
  in_r.reset();
  if (!options.input.empty()) (void)!::write(in_w.get(), options.input.data(), options.input.size());
  in_w.reset();
  if (auto st = child->exec_status(true); !st) {
    ::waitpid(child->pid(), nullptr, 0);
    return Error{"cannot run " + argv[0] + ": " + st.error().message, st.error().errnum};
  }

  // Its end is when it exits, not when its output closes: a daemon it
  // started may keep the pipe open.
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, child->pid(), 0)));
  if (!pidfd.valid()) return errno_error("cannot watch " + argv[0]);
  CommandResult result;
  std::string partial_line;
  auto read_some = [&] {
    char buf[4096];
    ssize_t got = ::read(out_r.get(), buf, sizeof buf);
    if (got <= 0) return got;
    if (result.output.size() < kMaxOutput) result.output.append(buf, static_cast<size_t>(got));
    if (options.on_line) {
      partial_line.append(buf, static_cast<size_t>(got));
      for (size_t nl; (nl = partial_line.find('\n')) != std::string::npos; partial_line.erase(0, nl + 1))
        options.on_line(partial_line.substr(0, nl));
    }
    return got;
  };
  pid_t group = options.own_process_group ? -child->pid() : child->pid();
  auto deadline = std::chrono::steady_clock::now() + options.timeout;
  bool output_open = true;
  for (;;) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      ::kill(group, SIGKILL);
      break;
    }
    pollfd p[2] = {{pidfd.get(), POLLIN, 0}, {output_open ? out_r.get() : -1, POLLIN, 0}};
    int n = ::poll(p, 2, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    if (p[1].revents & (POLLIN | POLLHUP)) output_open = read_some() > 0;
    if (p[0].revents & POLLIN) {
      ::fcntl(out_r.get(), F_SETFL, O_NONBLOCK);
      while (output_open && read_some() > 0) {
      }
      break;
    }
  }
  int status = 0;
  while (::waitpid(child->pid(), &status, 0) < 0 && errno == EINTR) {
  }
  if (options.on_line && !partial_line.empty()) options.on_line(partial_line);
  // Descendants left in its group (daemons it started) are not ours to keep.
  if (options.own_process_group) ::kill(-child->pid(), SIGKILL);
  result.exit_code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  return result;
}

}  // namespace sandmine::sys
