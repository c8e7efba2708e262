// Bad input to the commands that record and run containers: exit 2, one line
// naming the file or flag (the last line, after a run's progress), and
// nothing left behind: no cgroup, BPF program, runc container or mount
// (RuncTest's TearDown checks them all after each test).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/engines.h"
#include "support/trace_run.h"

namespace sandmine::test {
namespace {

namespace fs = std::filesystem;

class BadInputAsRoot : public RuncTest {
 protected:
  std::string write(const std::string& name, const std::string& text) {
    write_text(dir_.file(name), text);
    return dir_.file(name);
  }
  // A busybox container that sleeps; `extra` adds or replaces fields.
  std::string spec(const std::string& name, const std::string& extra, const std::string& command = "") {
    return write(name + ".yaml", "name: " + name + "\nimage: {busybox: {}}\ncommand: " +
                                     (command.empty() ? "[/bin/busybox, sleep, \"30\"]" : command) +
                                     "\nstop: {signal: KILL, timeout: 1s}\n" + extra +
                                     "\nexplore:\n  - run: \"true\"\nvalidate:\n  - run: \"true\"\n");
  }
  Outcome mine(const std::string& spec_file, const std::vector<std::string>& more = {}) {
    std::vector<std::string> args{"mine", spec_file, "-o", dir_.file("out"), "--cache", cache_.path()};
    args.insert(args.end(), more.begin(), more.end());
    return sandmine(args);
  }
  // Bad input found before anything ran: exactly one line.
  static void expect_one_line(const std::string& what, const Outcome& r, const std::string& text) {
    std::printf("| %s | %d | %s |\n", what.c_str(), r.exit_code, r.err.substr(0, r.err.find('\n')).c_str());
    SCOPED_TRACE(what);
    expect_one_line_error(r, text);
  }
  // Bad input found once a run had started: progress lines, then the error as the last line.
  static void expect_last_line(const std::string& what, const Outcome& r, const std::string& text) {
    std::string last = r.err.substr(r.err.rfind('\n', r.err.size() - 2) + 1);
    last.pop_back();
    std::printf("| %s | %d | %s |\n", what.c_str(), r.exit_code, last.c_str());
    SCOPED_TRACE(what);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(last.rfind("sandmine: ", 0), 0u) << r.err;
    EXPECT_NE(last.find(text), std::string::npos) << "wanted: " << text << "\ngot: " << r.err;
  }
  TempDir dir_, cache_;
};

TEST_F(BadInputAsRoot, RejectedBeforeAnythingRuns) {
  expect_one_line("mine: uid above what runc takes", mine(spec("uid", "user: \"3000000000\"")),
                  "spec " + dir_.file("uid.yaml") + ":5: user: expected \"uid\" or \"uid:gid\"");
  expect_one_line("mine: gid not a number", mine(spec("gid", "user: \"0:wheel\"")),
                  "spec " + dir_.file("gid.yaml") + ":5: user: expected \"uid\" or \"uid:gid\"");
  expect_one_line("mine: unknown ulimit type", mine(spec("ul", ""), {"--ulimit", "files=1:1"}),
                  "--ulimit files=1:1: unknown type files");
  expect_one_line("mine: output under /proc",
                  sandmine({"mine", spec("out", ""), "-o", "/proc/sandmine-nope"}),
                  "cannot create output directory /proc/sandmine-nope");
  expect_one_line("trace: command not found", sandmine({"trace", "--", dir_.file("no-such-tool")}),
                  "command not found or not executable: " + dir_.file("no-such-tool"));
  expect_one_line("trace: BTF file not BTF", sandmine({"trace", "--btf", spec("btf", ""), "--", "/bin/true"}),
                  dir_.file("btf.yaml"));
  write("notify.json", R"({"defaultAction": "SCMP_ACT_ALLOW",
                           "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]})");
  expect_one_line(
      "run: profile with SCMP_ACT_NOTIFY",
      sandmine({"run", "--profile", dir_.file("notify.json"), "--", "/bin/true"}),
      "profile " + dir_.file("notify.json") + ": syscalls[0].action: SCMP_ACT_NOTIFY needs a seccomp agent");
  write("noexec.json", R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"],
                           "action": "SCMP_ACT_ALLOW"}]})");
  expect_one_line("run: profile without execve",
                  sandmine({"run", "--profile", dir_.file("noexec.json"), "--", "/bin/true"}),
                  "profile " + dir_.file("noexec.json") + " does not allow execve");
  expect_one_line("check: profile missing",
                  sandmine({"check", spec("chk", ""), "--profile", dir_.file("none.json")}),
                  "profile " + dir_.file("none.json") + ": cannot read it: No such file or directory");
  expect_one_line("trace: unwritable output",
                  sandmine({"trace", "-o", dir_.file("no/t.json"), "--", "/bin/true"}),
                  "cannot write " + dir_.file("no/t.json") + ": No such file or directory");
}

// Failures once a container's overlay is mounted and runc is at work: the
// mount, the bundle, the cgroups and runc's state go with the error.
TEST_F(BadInputAsRoot, RejectedByTheRuntimeLeaveNothing) {
  expect_last_line("mine: command not in the image", mine(spec("nocmd", "", "[/bin/not-there]")),
                   "runc could not create container");
  expect_last_line("mine: nofile above fs.nr_open",
                   mine(spec("nofile", ""), {"--ulimit", "nofile=1073741816:1073741816"}),
                   "runc could not create container");
  expect_last_line("mine: rootfs tarball missing",
                   mine(write("tar.yaml",
                              "name: tar\nimage: {rootfs: missing.tar}\ncommand: [/bin/true]\n"
                              "explore:\n  - run: \"true\"\n")),
                   dir_.file("missing.tar"));
}

// The largest uid and gid runc takes (one more made std::stoi throw after the
// overlay was mounted): the container runs as them.
TEST_F(BadInputAsRoot, TheLargestIdsRuncTakesRun) {
  Outcome r = mine(
      spec("bigid",
           "user: \"2147483647:2147483646\"\nready: {log: \"uid=2147483647 gid=2147483646\", timeout: 10s}",
           "[/bin/busybox, sh, -c, 'echo uid=$(/bin/busybox id -u) gid=$(/bin/busybox id -g); "
           "exec /bin/busybox sleep 30']"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir_.file("out/profile.json"))) << r.err;
}

// Arguments that are not UTF-8 are recorded; trace.json carries U+FFFD for
// each such byte rather than failing to be written.
TEST_F(BadInputAsRoot, ArgumentsThatAreNotUtf8AreRecorded) {
  Outcome r = sandmine({"trace", "-o", dir_.file("t.json"), "--", "/bin/echo", "caf\xe9"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto doc = read_json(dir_.file("t.json"));
  EXPECT_EQ(doc["target"]["command"][1], "caf\xef\xbf\xbd");
}

}  // namespace
}  // namespace sandmine::test
