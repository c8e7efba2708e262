// The profile is Docker's own format: a container recorded through runc, the
// way containerd drives it, starts under `docker run --security-opt seccomp=`
// with the mined profile, and a syscall the profile does not allow really
// gets EPERM inside it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/engines.h"
#include "support/trace_run.h"

namespace sandmine::test {

namespace fs = std::filesystem;

class DockerProfile : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!is_root()) SKIP_OR_FAIL_IN_CI("needs root (CI runs as root)");
    if (!docker_running()) SKIP_OR_FAIL_IN_CI("no Docker daemon (start dockerd; scripts/test.sh does)");
    if (!fs::exists(kRunc)) SKIP_OR_FAIL_IN_CI("runc is not installed");
  }
  void TearDown() override {
    if (!image_.empty()) run({kDocker, "rmi", "-f", image_});
    if (is_root()) {
      EXPECT_EQ(leftovers(), std::vector<std::string>{});
      EXPECT_EQ(run({kDocker, "ps", "-aq", "--filter", "label=sandmine"}).out, "");
    }
  }
  std::string image_;
};

TEST_F(DockerProfile, MinedThroughRuncStartsUnderDockerAndDeniesTheRest) {
  TempDir dir;
  auto rootfs = busybox_rootfs(dir.file("bundle"));
  image_ = docker_import(rootfs, "sandmine-test-busybox");
  ASSERT_FALSE(image_.empty());

  // runc with an allow-all filter and no_new_privs off, as Docker runs it: runc
  // installs the filter before dropping privileges, so its last setup steps
  // are armed and recorded, then the container. The container's cgroup goes
  // inside the trace's target, so the recorder follows it.
  write_runc_config(dir.file("bundle"), {"/bin/busybox", "echo", "hello"}, "@CGROUP@/ctr");
  write_text(dir.file("run.sh"),
             "#!/bin/sh\n"
             "# create, a pause, start: how containerd drives runc (runc init blocks in between)\n"
             "set -e\n"
             "cg=$(sed -n 's/^0:://p' /proc/self/cgroup)\n"
             "sed \"s|@CGROUP@|$cg|\" " +
                 dir.file("bundle/config.json") + " > " + dir.file("bundle/config.run.json") +
                 "\n"
                 "mv " +
                 dir.file("bundle/config.run.json") + " " + dir.file("bundle/config.json") +
                 "\n"
                 "runc create --bundle " +
                 dir.file("bundle") +
                 " \"$1\"\n"
                 "sleep 0.3\n"
                 "runc start \"$1\"\n"
                 "while [ \"$(runc state \"$1\" | sed -n 's/.*\"status\": \"\\(.*\\)\".*/\\1/p')\" = running "
                 "]; do sleep 0.05; done\n"
                 "runc delete \"$1\"\n");
  fs::permissions(dir.file("run.sh"), fs::perms::owner_all);

  Outcome traced = sandmine({"trace", "--no-recording-filter", "-o", dir.file("trace.json"), "--",
                             dir.file("run.sh"), "sandmine-e2e-" + std::to_string(getpid())});
  ASSERT_EQ(traced.exit_code, 0) << traced.err;
  EXPECT_EQ(traced.out, "hello\n");
  Outcome profiled = sandmine({"profile", dir.file("trace.json"), "-o", dir.file("profile.json")});
  ASSERT_EQ(profiled.exit_code, 0) << profiled.err;
  auto profile = read_json(dir.file("profile.json"));
  EXPECT_EQ(profile["defaultAction"], "SCMP_ACT_ERRNO");
  EXPECT_EQ(profile["architectures"], nlohmann::json::array({"SCMP_ARCH_X86_64"}));
  std::vector<std::string> names;  // allowed whatever their arguments, or for some
  for (const auto& rule : profile["syscalls"])
    if (rule["action"] == "SCMP_ACT_ALLOW")
      for (const auto& n : rule["names"]) names.push_back(n);
  for (const char* needed :
       {"execve", "write", "capset", "setuid", "futex"})  // busybox and runc's last steps
    EXPECT_NE(std::find(names.begin(), names.end(), needed), names.end()) << needed;
  EXPECT_EQ(std::find(names.begin(), names.end(), "mkdir"), names.end());

  std::string seccomp = "seccomp=" + dir.file("profile.json");
  for (int i = 0; i < 5; ++i) {  // the runtime's timing varies from start to start
    Outcome hello = run({kDocker, "run", "--rm", "--label", "sandmine", "--security-opt", seccomp, image_,
                         "/bin/busybox", "echo", "hello"});
    EXPECT_EQ(hello.exit_code, 0) << hello.err;
    EXPECT_EQ(hello.out, "hello\n");
  }
  Outcome denied = run({kDocker, "run", "--rm", "--label", "sandmine", "--security-opt", seccomp, image_,
                        "/bin/busybox", "mkdir", "/x"});
  EXPECT_NE(denied.exit_code, 0);
  EXPECT_NE(denied.err.find("Operation not permitted"), std::string::npos) << denied.err;
  Outcome unconfined =
      run({kDocker, "run", "--rm", "--label", "sandmine", image_, "/bin/busybox", "mkdir", "/x"});
  EXPECT_EQ(unconfined.exit_code, 0) << unconfined.err;
}

}  // namespace sandmine::test
