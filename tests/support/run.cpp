#include "support/run.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace sandmine::test {

Outcome collect(pid_t pid, int out_fd, int err_fd);

void expect_one_line_error(const Outcome& r, const std::string& text) {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("sandmine: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(text), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.out, "") << "stdout of a rejected command";
}

Outcome run(const std::vector<std::string>& argv, const std::string& input) {
  return Background(argv, input).wait();
}

Outcome collect(pid_t pid, int out_fd, int err_fd) {
  Outcome r;
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      char buf[4096];
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
      }
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  return r;
}

Outcome sandmine(const std::vector<std::string>& args, const std::string& input) {
  std::vector<std::string> argv{SANDMINE_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, input);
}

std::string prog(const std::string& name) { return std::string(PROGRAMS_DIR) + "/prog_" + name; }

TempDir::TempDir() {
  std::string templ = "/tmp/sandmine-test-XXXXXX";
  if (!mkdtemp(templ.data())) throw std::runtime_error("mkdtemp");
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  return nlohmann::json::parse(in);
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

bool is_root() { return geteuid() == 0; }

Background::Background(const std::vector<std::string>& argv, const std::string& input, bool keep_stdin_open) {
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
    throw std::runtime_error("pipe");
  pid_ = fork();
  if (pid_ == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  // Small inputs only: the pipe buffer takes them without the child reading.
  if (!input.empty()) (void)!write(in[1], input.data(), input.size());
  in_ = in[1];
  if (!keep_stdin_open) close_stdin();
  out_ = out[0];
  err_ = err[0];
}

void Background::close_stdin() {
  if (in_ >= 0) close(in_);
  in_ = -1;
}

bool Background::wait_for_output(const std::string& text, int timeout_ms) {
  auto found = [&] {
    return out_so_far_.find(text) != std::string::npos || err_so_far_.find(text) != std::string::npos;
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  bool ended[2] = {false, false};
  while (!found() && !(ended[0] && ended[1])) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd fds[2] = {{ended[0] ? -1 : out_, POLLIN, 0}, {ended[1] ? -1 : err_, POLLIN, 0}};
    if (poll(fds, 2, static_cast<int>(left.count())) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP))) continue;
      char buf[4096];
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0)
        (i == 0 ? out_so_far_ : err_so_far_).append(buf, static_cast<size_t>(n));
      else
        ended[i] = true;
    }
  }
  return found();
}

Background::~Background() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    wait();
  }
  close_stdin();
}

Outcome Background::wait() {
  Outcome r = collect(pid_, out_, err_);
  r.out = out_so_far_ + r.out;
  r.err = err_so_far_ + r.err;
  pid_ = -1;
  return r;
}

bool wait_until(const std::function<bool()>& cond, int timeout_ms) {
  for (int waited = 0; waited < timeout_ms; waited += 10) {
    if (cond()) return true;
    usleep(10'000);
  }
  return cond();
}

}  // namespace sandmine::test
