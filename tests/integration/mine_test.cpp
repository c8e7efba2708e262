// sandmine mine with runc: the busybox example mined end to end, its profile
// proven against the kernel, and every bad input a clear one-line error.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>

#include "engine/runc.h"
#include "profile/docker_json.h"
#include "support/engines.h"
#include "support/trace_run.h"
#include "sys/cgroup.h"
#include "sys/command.h"
#include "sys/files.h"

namespace sandmine::test {

namespace fs = std::filesystem;

class Mine : public RuncTest {
 protected:
  Outcome mine(const std::string& spec, const std::string& out) {
    return sandmine({"mine", spec, "-o", out, "--cache", cache_.path()});
  }
  TempDir cache_;
};

std::set<std::string> profile_names(const nlohmann::json& profile) {
  std::set<std::string> out;
  for (const auto& rule : profile["syscalls"])  // argument rules split a name over several rules
    if (rule["action"] == "SCMP_ACT_ALLOW")
      for (const auto& n : rule["names"]) out.insert(n);
  return out;
}

TEST_F(Mine, BusyboxExampleEndToEndAndItsProfileHoldsUnderRunc) {
  TempDir dir;
  Outcome r = mine(std::string(EXAMPLES_DIR) + "/busybox-httpd.yaml", dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* line : {"sandmine: [1/9] start start: ok", "sandmine: [5/9] explore exec-ls: ok",
                           "sandmine: [6/9] explore cgi: ok", "sandmine: [9/9] stop stop: ok",
                           "sandmine: mined busybox-httpd in "})
    EXPECT_NE(r.err.find(line), std::string::npos) << line << "\n" << r.err;

  auto trace = read_json(dir.file("trace.json"));
  std::vector<std::string> steps;
  for (const auto& s : trace["steps"]) steps.push_back(s["name"]);
  EXPECT_EQ(steps, (std::vector<std::string>{"start", "index", "not-found", "head", "exec-ls", "cgi",
                                             "cgi-post", "range", "stop"}));
  std::set<std::string> step_names(steps.begin(), steps.end());
  for (const auto& e : trace["syscalls"]) EXPECT_TRUE(step_names.count(e["first_step"])) << e.dump();
  EXPECT_EQ(trace["target"]["kind"], "container");
  EXPECT_EQ(trace["target"]["engine"], "runc");
  EXPECT_EQ(trace["partial"], false);

  auto names = profile_names(read_json(dir.file("profile.json")));
  // the CGI script: httpd forks (vfork), pipes and polls; the range request seeks
  for (const char* s : {"execve", "accept", "bind", "listen", "socket", "sendfile", "capset", "rt_sigreturn",
                        "vfork", "pipe2", "poll", "lseek"})
    EXPECT_TRUE(names.count(s)) << s;
  for (const char* s : {"mount", "pivot_root", "sethostname", "unshare", "mkdir"})  // runc set-up; never used
    EXPECT_FALSE(names.count(s)) << s;
  EXPECT_NE(sys::read_file(dir.file("summary.md"))->find("| 9 | stop | stop | ok |"), std::string::npos);

  // The profile against the kernel: the container starts under it, serves the
  // held-out validate request, and a call outside it gets EPERM.
  auto parent = sys::Cgroup::create(*sys::cgroup2_mount(), "sandmine-test-" + std::to_string(getpid()));
  ASSERT_TRUE(parent.ok()) << parent.error().message;
  auto runc = engine::Runc::create();
  ASSERT_TRUE(runc.ok());
  std::string rootfs = cached_busybox_rootfs(cache_.path());
  ASSERT_FALSE(rootfs.empty());
  {
    auto c = (*runc)->start({.name = "sandmine-enforce-" + std::to_string(getpid()),
                             .command = httpd_example().command,
                             .rootfs = rootfs,
                             .profile = std::make_shared<const profile::Profile>(
                                 profile::read_profile(dir.file("profile.json")).value()),
                             .cgroup_parent = parent->relative_path(),
                             .log_file = dir.file("enforce.log")});
    ASSERT_TRUE(c.ok()) << c.error().message;
    ASSERT_EQ(fetch_in_netns((*c)->netns_fd(), "http://127.0.0.1:8080/index.html"),
              "hello from busybox httpd\n");
    auto ls = (*c)->exec({"/bin/busybox", "ls", "/www"}, std::chrono::seconds(10));
    ASSERT_TRUE(ls.ok());
    EXPECT_EQ(ls->exit_code, 0) << ls->output;
    auto denied = (*c)->exec({"/bin/busybox", "mkdir", "/x"}, std::chrono::seconds(10));
    ASSERT_TRUE(denied.ok());
    EXPECT_NE(denied->exit_code, 0);
    EXPECT_NE(denied->output.find("Operation not permitted"), std::string::npos) << denied->output;
    auto stopped = (*c)->stop(SIGTERM, std::chrono::seconds(5));
    ASSERT_TRUE(stopped.ok());
    EXPECT_TRUE(*stopped) << "the shutdown path was mined too, so TERM must stop it";
  }
}

// Bad input: exit 2, and the last line says what is wrong.
void expect_error(const Outcome& r, const std::string& text) {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  std::string last = r.err.substr(r.err.rfind('\n', r.err.size() - 2) + 1);
  EXPECT_EQ(last.rfind("sandmine: ", 0), 0u) << r.err;
  EXPECT_NE(last.find(text), std::string::npos) << "wanted: " << text << "\ngot: " << r.err;
}

std::string spec_with(const std::string& command, const std::string& ready, const std::string& explore) {
  // busybox sleep as PID 1 ignores TERM: do not wait the default 10 s for it.
  return "name: bad\nimage:\n  busybox: {}\ncommand: " + command + "\nstop: {signal: KILL, timeout: 1s}\n" +
         ready + "explore:\n" + explore;
}

TEST_F(Mine, BadInputsAreOneClearLine) {
  TempDir dir;
  auto write = [&](const std::string& name, const std::string& text) {
    write_text(dir.file(name), text);
    return dir.file(name);
  };
  const std::string sleeper = "[/bin/busybox, sleep, \"30\"]";
  const std::string ok_step = "  - run: \"true\"\n";

  expect_error(mine(dir.file("missing.yaml"), dir.file("o1")),
               "cannot read spec " + dir.file("missing.yaml"));
  expect_error(mine(write("syntax.yaml", "name: [unclosed\n"), dir.file("o2")), "YAML syntax error");
  expect_error(mine(write("unknown.yaml", spec_with(sleeper, "", ok_step) + "comand: [x]\n"), dir.file("o3")),
               "comand");
  expect_error(sandmine({"mine", write("engine.yaml", spec_with(sleeper, "", ok_step)), "--engine", "lxc"}),
               "--engine: lxc not in {runc,docker,podman}");
  expect_error(mine(write("nocmd.yaml", spec_with("[/bin/not-there]", "", ok_step)), dir.file("o5")),
               "runc could not create container");
  expect_error(mine(write("ready.yaml", spec_with(sleeper, "ready: {tcp: 9, timeout: 1s}\n", ok_step)),
                    dir.file("o6")),
               "ready: not ready after 1.0 s");
  Outcome failing =
      mine(write("step.yaml", spec_with(sleeper, "", "  - name: broken\n    run: exit 3\n")), dir.file("o7"));
  expect_error(failing, "step broken: exit 3 (expected 0)");
  EXPECT_NE(failing.err.find("no profile written"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir.file("o7/profile.json")));
  EXPECT_EQ(read_json(dir.file("o7/trace.json"))["partial"], true);
  // Engine not running: the Docker client pointed at a socket nobody serves.
  expect_error(run({"/usr/bin/env", "DOCKER_HOST=unix://" + dir.file("no-daemon.sock"), SANDMINE_BIN, "mine",
                    write("daemon.yaml", spec_with(sleeper, "", ok_step)), "--engine", "docker", "-o",
                    dir.file("o8")}),
               "the Docker daemon is not running (start it: dockerd &, or systemctl start docker)");
  expect_error(mine(write("out.yaml", spec_with(sleeper, "", ok_step)), "/proc/sandmine-nope"),
               "cannot create output directory /proc/sandmine-nope");
}

}  // namespace sandmine::test

namespace sandmine::test {

// Ctrl-C while a step runs: the container is killed and removed with its
// cgroups and bundle, the trace is saved partial, no profile, exit 2.
TEST_F(Mine, InterruptRemovesTheContainerAndSavesAPartialTrace) {
  TempDir dir;
  write_text(dir.file("long.yaml"),
             "name: long\nimage:\n  busybox: {}\ncommand: [/bin/busybox, sleep, \"300\"]\n"
             "stop: {signal: KILL, timeout: 1s}\nexplore:\n  - name: wait\n    sleep: 60s\n");
  Background sm(
      {SANDMINE_BIN, "mine", dir.file("long.yaml"), "-o", dir.file("out"), "--cache", cache_.path()});
  std::string name = "sandmine-long-mine-" + std::to_string(sm.pid());
  // The start step's line is printed once it is over; the sleep step comes next.
  ASSERT_TRUE(sm.wait_for_output("] start start: ok", 60'000)) << "the container never started";
  ASSERT_NE(run({kRunc, "--root", "/run/sandmine/runc", "list", "-q"}).out.find(name), std::string::npos);
  kill(sm.pid(), SIGINT);
  Outcome r = sm.wait();
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("sandmine: interrupted by signal 2: the container was stopped and removed"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(read_json(dir.file("out/trace.json"))["partial"], true);
  EXPECT_FALSE(fs::exists(dir.file("out/profile.json")));
  EXPECT_EQ(run({kRunc, "--root", "/run/sandmine/runc", "list", "-q"}).out.find(name), std::string::npos);
  EXPECT_FALSE(fs::exists("/run/sandmine/" + name));
}

}  // namespace sandmine::test
