// Argument profiles (`--args safe`, the default) under Docker and Podman, as
// the runc tests prove them (tests/integration/argument_check_test.cpp):
//  - examples mined with the engine pass their held-out check under the
//    profile it wrote;
//  - the kernel decides: in a container started by the engine with the mined
//    profile, values inside the mined rules give the same errno as in the
//    same container without a filter (seccomp=unconfined), values outside
//    them get EPERM, and clone3 gets ENOSYS, so that glibc falls back to
//    clone: pthread_create and fork still work.
// The engines' versions are printed with the results (docs/recording.md,
// "Argument values", records the ones these tests last passed with).
#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "engine/engine.h"
#include "profile/docker_json.h"
#include "support/engines.h"
#include "support/trace_run.h"
#include "sys/cgroup.h"

namespace sandmine::test {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string engine_path(const std::string& engine) { return engine == "docker" ? kDocker : kPodman; }

std::string version_of(const std::string& engine) {
  Outcome v = run({engine_path(engine), "version", "--format",
                   engine == "docker" ? "{{.Server.Version}}" : "{{.Client.Version}}"});
  std::string out = v.out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// The rules of a written profile for one name.
std::vector<json> rules_for(const json& profile, const std::string& name) {
  std::vector<json> out;
  for (const auto& rule : profile["syscalls"])
    if (std::find(rule["names"].begin(), rule["names"].end(), name) != rule["names"].end())
      out.push_back(rule);
  return out;
}

class ArgumentEngine : public AllEngines, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    AllEngines::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    std::string runc = run({kRunc, "--version"}).out;
    std::cout << GetParam() << " " << version_of(GetParam()) << ", " << runc.substr(0, runc.find('\n'))
              << "\n";
  }
};

// The examples mined with the engine under the argument profile pass their
// held-out validate steps (mine runs the check under the profile it wrote).
TEST_P(ArgumentEngine, ExamplesMinedWithArgumentRulesPassTheirHeldOutCheck) {
  TempDir dir;
  for (const std::string example : {"busybox-httpd", "redis"}) {
    SCOPED_TRACE(example);
    std::string out = dir.file(example);
    Outcome r = sandmine({"mine", std::string(EXAMPLES_DIR) + "/" + example + ".yaml", "--engine", GetParam(),
                          "--args", "safe", "-o", out});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("held-out check passed"), std::string::npos) << r.err;
    EXPECT_EQ(read_json(out + "/check.json")["violations"], json::array());
    auto profile = read_json(out + "/profile.json");
    // socket is decided by its family and type: one rule per pair, none for AF_PACKET.
    auto socket = rules_for(profile, "socket");
    ASSERT_FALSE(socket.empty()) << profile.dump(2);
    for (const auto& rule : socket) {
      ASSERT_TRUE(rule.contains("args")) << rule.dump();
      EXPECT_EQ(rule["args"][0]["index"], 0) << rule.dump();
      EXPECT_NE(rule["args"][0]["valueTwo"], 17) << rule.dump();  // AF_PACKET
    }
    auto trace = read_json(out + "/trace.json");
    std::string ref = "sandmine/" + example + ":" + trace["target"]["image"].get<std::string>().substr(0, 12);
    run({engine_path(GetParam()), "rmi", "-f", ref});
  }
}

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

// What the probe is mined with: AF_INET and AF_UNIX stream sockets, a fork by
// clone, futex wait and wake, pipe2 with O_CLOEXEC, a thread (clone3) and a
// fork by the C library (clone).
const std::vector<std::string> kMined = {"socket:2:1:0", "socket:1:1:0",  "clone:0x11", "futex:0",
                                         "futex:1",      "pipe2:0x80000", "thread:0",   "fork:0"};

// Inside the mined rules: as the runc test, and the C library's thread and fork.
const std::vector<std::string> kInside = {"socket:2:1:0", "socket:2:0x80801:0", "socket:0xdead00000002:1:0",
                                          "socket:1:1:0", "clone:0x11",         "futex:0",
                                          "futex:0x80",   "pipe2:0x80000",      "thread:0",
                                          "fork:0"};

// Outside them: the filter answers EPERM, the kernel alone does not (but
// see kDeniedByPodman).
const std::vector<std::string> kOutside = {"socket:17:3:0",    "socket:16:3:0",      "socket:2:2:0",
                                           "clone:0x10000011", "unshare:0x10000000", "futex:12",
                                           "pipe2:0x80"};

// Podman's default capabilities leave out CAP_NET_RAW (Docker's include it):
// a packet socket fails with EPERM in a Podman container without any filter.
const std::string kDeniedByPodman = "socket:17:3:0";

TEST_P(ArgumentEngine, AllowedValuesRunAsUnconfinedDeniedOnesGetEpermClone3GetsEnosys) {
  const std::string engine = GetParam(), cli = engine_path(engine);
  TempDir dir;
  std::string rootfs = busybox_rootfs(dir.file("image"));
  fs::create_symlink("busybox", rootfs + "/bin/sh");
  fs::create_symlink("busybox", rootfs + "/bin/sleep");
  fs::copy_file(prog("argprobe_static"), rootfs + "/bin/argprobe");
  ASSERT_EQ(run({"/bin/tar", "-C", rootfs, "-cf", dir.file("rootfs.tar"), "."}).exit_code, 0);
  const std::string command = "trap 'exit 0' TERM; sleep 3600 & wait";
  std::string explore = "/bin/argprobe";
  for (const auto& c : kMined) explore += "', '" + c;
  write_text(dir.file("spec.yaml"),
             "name: argprobe\n"
             "image: {rootfs: " +
                 dir.file("rootfs.tar") +
                 "}\n"
                 "command: [/bin/sh, -c, \"" +
                 command +
                 "\"]\n"
                 "explore:\n"
                 "  - {name: probe, exec: ['" +
                 explore + "']}\n");
  Outcome m = sandmine({"mine", dir.file("spec.yaml"), "--engine", engine, "-o", dir.file("mined"), "--cache",
                        dir.file("cache")});
  ASSERT_EQ(m.exit_code, 0) << m.err;
  auto profile = read_json(dir.file("mined/profile.json"));
  auto clone3 = rules_for(profile, "clone3");
  ASSERT_EQ(clone3.size(), 1u) << profile.dump(2);
  EXPECT_EQ(clone3[0]["action"], "SCMP_ACT_ERRNO");
  EXPECT_EQ(clone3[0]["errnoRet"], ENOSYS);
  auto trace = read_json(dir.file("mined/trace.json"));
  std::string ref = "sandmine/argprobe:" + trace["target"]["image"].get<std::string>().substr(0, 12);

  std::vector<std::string> calls = kInside;
  calls.insert(calls.end(), kOutside.begin(), kOutside.end());
  calls.push_back("clone3:0");
  // Each call in a container the engine starts as sandmine starts it (its
  // ulimits, runtime and cgroup manager), with the mined profile or with no
  // filter (seccomp=unconfined), run by exec as the mined steps were.
  auto parent = sys::Cgroup::create(*sys::cgroup2_mount(), "sandmine-test-" + std::to_string(getpid()));
  ASSERT_TRUE(parent.ok()) << parent.error().message;
  auto eng = engine::make_engine(engine);
  ASSERT_TRUE(eng.ok()) << eng.error().message;
  auto mined =
      std::make_shared<const profile::Profile>(profile::read_profile(dir.file("mined/profile.json")).value());
  int n = 0;
  auto probe = [&](engine::ContainerSpec::Seccomp seccomp) {
    auto c =
        (*eng)->start({.name = "sandmine-argprobe-" + std::to_string(getpid()) + "-" + std::to_string(++n),
                       .command = {"/bin/sh", "-c", command},
                       .image = ref,
                       .profile = mined,
                       .seccomp = seccomp,
                       .cgroup_parent = parent->relative_path(),
                       .log_file = dir.file("run.log"),
                       .work_dir = dir.path()});
    EXPECT_TRUE(c.ok()) << c.error().message;
    if (!c.ok()) return std::map<std::string, int>{};
    std::vector<std::string> argv{"/bin/argprobe"};
    argv.insert(argv.end(), calls.begin(), calls.end());
    auto r = (*c)->exec(argv, std::chrono::seconds(30));
    EXPECT_TRUE(r.ok() && r->exit_code == 0) << (r.ok() ? r->output : r.error().message);
    auto stopped = (*c)->stop(SIGTERM, std::chrono::seconds(5));
    EXPECT_TRUE(stopped.ok() && *stopped);
    return r.ok() ? errnos_of(r->output) : std::map<std::string, int>{};
  };
  auto unconfined = probe(engine::ContainerSpec::Seccomp::Unconfined);
  auto filtered = probe(engine::ContainerSpec::Seccomp::Profile);
  ASSERT_EQ(unconfined.size(), calls.size());
  ASSERT_EQ(filtered.size(), calls.size());
  for (const auto& call : kInside) EXPECT_EQ(filtered[call], unconfined[call]) << call;
  EXPECT_EQ(unconfined["thread:0"], 0);
  EXPECT_EQ(unconfined["fork:0"], 0);
  for (const auto& call : kOutside) {
    EXPECT_EQ(filtered[call], EPERM) << call;
    if (engine == "podman" && call == kDeniedByPodman)
      EXPECT_EQ(unconfined[call], EPERM) << call << ": Podman's capabilities now include CAP_NET_RAW";
    else
      EXPECT_NE(unconfined[call], EPERM) << call << ": without the filter the kernel denies it too";
  }
  EXPECT_EQ(filtered["clone3:0"], ENOSYS);
  EXPECT_EQ(unconfined["clone3:0"], 0);
  std::cout << engine << " " << version_of(engine) << ": " << kInside.size()
            << " allowed values as unconfined, " << kOutside.size()
            << " denied with EPERM, clone3 ENOSYS, pthread_create and fork work\n";
  run({cli, "rmi", "-f", ref});
}

INSTANTIATE_TEST_SUITE_P(Engines, ArgumentEngine, ::testing::Values("docker", "podman"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace sandmine::test
