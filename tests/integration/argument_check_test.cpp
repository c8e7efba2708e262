// Argument rules against the kernel. Under a profile mined with the default
// `--args safe`, a call whose name is allowed but whose argument values are
// not gets the profile's errno from the filter (the same call without the
// filter succeeds or fails otherwise), a call with allowed values behaves
// exactly as with no filter (also with garbage in the upper half of an int
// argument, which the kernel ignores), and `run` and `check` name the denied
// call with its values, as profile::judge decides.
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>

#include "support/engines.h"
#include "support/trace_run.h"
#include "sys/files.h"

namespace sandmine::test {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// prog_argprobe's output: CALL -> errno.
std::map<std::string, int> errnos_of(const std::string& out) {
  std::map<std::string, int> m;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    auto space = line.rfind(' ');
    if (space != std::string::npos) m[line.substr(0, space)] = std::stoi(line.substr(space + 1));
  }
  return m;
}

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// What the probe mines: AF_INET and AF_UNIX stream sockets, a fork by clone,
// futex wait and wake, pipe2 with O_CLOEXEC.
const std::vector<std::string> kMined = {"socket:2:1:0", "socket:1:1:0", "clone:0x11",
                                         "futex:0",      "futex:1",      "pipe2:0x80000"};

// Values inside the mined rules: the type under its mask (NONBLOCK|CLOEXEC
// not compared), an int argument with a garbage upper half (the kernel reads
// 32 bits; the profile compares 32), futex's private flag (not compared).
const std::vector<std::string> kInside = {"socket:2:1:0", "socket:2:0x80801:0", "socket:0xdead00000002:1:0",
                                          "socket:1:1:0", "clone:0x11",         "futex:0",
                                          "futex:0x80",   "pipe2:0x80000"};

// Values outside them, each with the call as run and check name it.
const std::map<std::string, std::string> kOutside = {
    {"socket:17:3:0", "socket(AF_PACKET, SOCK_RAW, 0)"}, {"socket:16:3:0", "socket(AF_NETLINK, SOCK_RAW, 0)"},
    {"socket:2:2:0", "socket(AF_INET, SOCK_DGRAM, 0)"},  {"clone:0x10000011", "clone(CLONE_NEWUSER|SIGCHLD)"},
    {"futex:12", "futex(op=FUTEX_CMP_REQUEUE_PI)"},      {"pipe2:0x80", "pipe2(flags=O_NOTIFICATION_PIPE)"},
};

class ArgumentRun : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!is_root()) {
      SKIP_OR_FAIL_IN_CI("recording needs root (CI runs as root)");
    }
  }
  void TearDown() override {
    if (is_root()) {
      EXPECT_EQ(leftovers(), std::vector<std::string>{});
    }
  }
};

TEST_F(ArgumentRun, ValuesOutsideTheMinedRulesGetEpermFromTheFilterAndAreNamedWithThem) {
  TempDir dir;
  Outcome t = sandmine(with({"trace", "-o", dir.file("trace.json"), "--", prog("argprobe")}, kMined));
  ASSERT_EQ(t.exit_code, 0) << t.err;
  Outcome p = sandmine({"profile", dir.file("trace.json"), "-o", dir.file("profile.json")});
  ASSERT_EQ(p.exit_code, 0) << p.err;

  std::vector<std::string> calls = kInside;
  for (const auto& [call, name] : kOutside) calls.push_back(call);
  // Outside first would change nothing: each call is independent. Inside first
  // keeps the fork of clone:0x11 ahead of the namespace one.
  Outcome bare = run(with({prog("argprobe")}, calls));
  ASSERT_EQ(bare.exit_code, 0) << bare.err;
  auto unfiltered = errnos_of(bare.out);
  ASSERT_EQ(unfiltered.size(), calls.size()) << bare.out;

  Outcome r = sandmine(
      with({"run", "--profile", dir.file("profile.json"), "-o", dir.file("run.json"), "--", prog("argprobe")},
           calls));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto filtered = errnos_of(r.out);
  for (const auto& call : kInside) EXPECT_EQ(filtered[call], unfiltered[call]) << call << "\n" << r.out;
  for (const auto& [call, name] : kOutside) {
    EXPECT_EQ(filtered[call], EPERM) << call << "\n" << r.out;
    EXPECT_NE(unfiltered[call], EPERM) << call << ": without the filter the kernel denies it too";
    EXPECT_NE(r.err.find("violation: x86_64 " + name + " by \"prog_argprobe\" x1 (denied"), std::string::npos)
        << name << "\n"
        << r.err;
  }

  auto doc = read_json(dir.file("run.json"));
  std::map<std::string, json> named;
  for (const auto& v : doc["violations"]) named[v.value("call", v["syscall"].get<std::string>())] = v;
  std::set<std::string> names, expected;
  for (const auto& [call, v] : named) names.insert(call);
  for (const auto& [call, name] : kOutside) expected.insert(name);
  EXPECT_EQ(names, expected) << doc.dump(2);
  const auto& packet = named["socket(AF_PACKET, SOCK_RAW, 0)"];
  EXPECT_EQ(packet["syscall"], "socket");
  EXPECT_EQ(packet["process"], "prog_argprobe");
  EXPECT_EQ(packet["count"], 1);
  EXPECT_EQ(packet["denied"], 1);
  EXPECT_EQ(packet["args"],
            json::parse(R"([{"index": 0, "name": "domain", "value": "0x11", "text": "AF_PACKET"},
                                            {"index": 1, "name": "type", "value": "0x3", "text": "SOCK_RAW"},
                                            {"index": 2, "name": "protocol", "value": "0x0", "text": "0"}])"));
}

// The same call through `check` in a runc container: the held-out step makes
// socket(AF_PACKET, SOCK_RAW), which the explore steps never did.
class ArgumentCheck : public RuncTest {
 protected:
  void SetUp() override {
    RuncTest::SetUp();
    if (stopped()) return;
    std::string rootfs = busybox_rootfs(dir_.file("image"));
    fs::create_symlink("busybox", rootfs + "/bin/sh");
    fs::create_symlink("busybox", rootfs + "/bin/sleep");
    fs::copy_file(prog("argprobe_static"), rootfs + "/bin/argprobe");
    Outcome tar = run({"/bin/tar", "-C", rootfs, "-cf", dir_.file("rootfs.tar"), "."});
    ASSERT_EQ(tar.exit_code, 0) << tar.err;
  }
  // The spec, with the held-out call expecting errno `expect` ("" for any),
  // or without validate steps (mined without a held-out check).
  std::string spec(const std::string& name, const std::optional<std::string>& expect) {
    std::string path = dir_.file(name + ".yaml");
    write_text(path,
               "name: argprobe\n"
               "image: {rootfs: " +
                   dir_.file("rootfs.tar") +
                   "}\n"
                   "command: [/bin/sh, -c, \"trap 'exit 0' TERM; sleep 3600 & wait\"]\n"
                   "explore:\n"
                   "  - {name: inet, exec: [/bin/argprobe, 'socket:2:1:0=0']}\n" +
                   (expect ? "validate:\n"
                             "  - {name: packet, exec: [/bin/argprobe, 'socket:2:1:0=0', 'socket:17:3:0" +
                                 (expect->empty() ? "" : "=" + *expect) + "']}\n"
                           : ""));
    return path;
  }
  TempDir dir_;
};

TEST_F(ArgumentCheck, TheHeldOutCallIsDeniedAndNamedWithItsValuesInBothModes) {
  Outcome m =
      sandmine({"mine", spec("mine", std::nullopt), "-o", dir_.file("mined"), "--cache", dir_.file("cache")});
  ASSERT_EQ(m.exit_code, 0) << m.err;
  for (const char* mode : {"enforce", "complain"}) {
    // Enforce: the probe sees EPERM (its expectation holds, the step passes);
    // complain: the call runs, whatever the kernel answers.
    std::string s = spec(mode, std::string(mode) == "enforce" ? "1" : "");
    Outcome r = sandmine({"check", s, "--profile", dir_.file("mined/profile.json"), "--mode", mode, "-o",
                          dir_.file(std::string(mode) + ".json"), "--cache", dir_.file("cache")});
    EXPECT_EQ(r.exit_code, 1) << mode << "\n" << r.err;
    EXPECT_NE(r.err.find("violation: x86_64 socket(AF_PACKET, SOCK_RAW, 0) x1 by argprobe"),
              std::string::npos)
        << r.err;
    auto result = read_json(dir_.file(std::string(mode) + ".json"));
    std::vector<std::string> steps;
    for (const auto& step : result["steps"]) {
      steps.push_back(step["name"]);
      EXPECT_EQ(step["ok"], true) << mode << "\n" << step.dump(2);
    }
    EXPECT_EQ(steps, (std::vector<std::string>{"start", "packet", "stop"}));
    ASSERT_EQ(result["violations"].size(), 1u) << result.dump(2);
    const auto& v = result["violations"][0];
    EXPECT_EQ(v["syscall"], "socket");
    EXPECT_EQ(v["call"], "socket(AF_PACKET, SOCK_RAW, 0)");
    EXPECT_EQ(v["count"], 1);
    EXPECT_EQ(v["processes"], json::array({"argprobe"}));
    EXPECT_EQ(v["steps"], json({{"packet", 1}}));
    EXPECT_EQ(v["args"][0],
              json({{"index", 0}, {"name", "domain"}, {"value", "0x11"}, {"text", "AF_PACKET"}}));
  }
}

// Under `--args strict` prctl is decided by its option. runc's init installs
// the container's filter with prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER), at
// start and at each exec: the thread enters that call unarmed, so mining never
// counts it, but it returns with the filter in place. Counted at sys_exit, as
// argument-decided calls are in complain mode, it would be named twice here.
TEST_F(ArgumentCheck, UnderStrictRulesTheCallInstallingTheFilterIsNotACallUnderIt) {
  Outcome m = sandmine({"mine", spec("mine", std::nullopt), "--args", "strict", "-o", dir_.file("mined"),
                        "--cache", dir_.file("cache")});
  ASSERT_EQ(m.exit_code, 0) << m.err;
  // prctl is there by option (runc's init drops capabilities with it after
  // installing the filter), without PR_SET_SECCOMP (22).
  std::vector<std::string> options;
  auto profile = read_json(dir_.file("mined/profile.json"));
  for (const auto& rule : profile["syscalls"])
    if (std::count(rule["names"].begin(), rule["names"].end(), "prctl")) {
      ASSERT_EQ(rule["args"].size(), 1u) << rule.dump();
      options.push_back(std::to_string(rule["args"][0]["valueTwo"].get<std::uint64_t>()));
    }
  EXPECT_FALSE(options.empty()) << profile.dump(1);
  EXPECT_EQ(std::count(options.begin(), options.end(), "22"), 0);
  // Held out: the explore step's own call again, by exec (a second install).
  std::string s = dir_.file("inside.yaml");
  write_text(s, *sys::read_file(spec("inside", std::nullopt)) +
                    "validate:\n  - {name: inet again, exec: [/bin/argprobe, 'socket:2:1:0=0']}\n");
  Outcome r = sandmine({"check", s, "--profile", dir_.file("mined/profile.json"), "--mode", "complain", "-o",
                        dir_.file("check.json"), "--cache", dir_.file("cache")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto result = read_json(dir_.file("check.json"));
  EXPECT_EQ(result["violations"], json::array()) << result.dump(2);
  EXPECT_EQ(result["passed"], true);
}

}  // namespace
}  // namespace sandmine::test
