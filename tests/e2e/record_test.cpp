// sandmine record on a workflow users run: Debian's docker-compose brings up
// the busybox-httpd example as a service and a client that fetches from it
// over the Compose network (tests/e2e/record/). One profile per service,
// named by the service, with what each must have done; the profiles run the
// same workflow under enforcement; containers outside the watched parent or
// without the recording profile are refused by name, and nothing is left.
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>

#include "support/engines.h"
#include "support/trace_run.h"
#include "sys/files.h"
#include "util/sha256.h"

namespace sandmine::test {

namespace fs = std::filesystem;

namespace {

const std::string kRecordDir = std::string(EXAMPLES_DIR) + "/../tests/e2e/record";
constexpr const char* kCompose = "/usr/bin/docker-compose";

// The armed syscall names of a trace.json.
std::set<std::string> syscall_names(const std::string& trace) {
  std::set<std::string> out;
  const auto doc = read_json(trace);  // held: a range over a temporary's member would dangle
  for (const auto& s : doc["syscalls"]) out.insert(s["name"].get<std::string>());
  return out;
}

std::string last_line(const std::string& text) {
  std::istringstream in(text);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

}  // namespace

class Record : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!is_root()) SKIP_OR_FAIL_IN_CI("needs root (CI runs as root)");
    if (!docker_running()) SKIP_OR_FAIL_IN_CI("no Docker daemon (start dockerd; scripts/test.sh does)");
    if (!fs::exists(kCompose))
      SKIP_OR_FAIL_IN_CI("docker-compose is not installed (scripts/install-deps.sh)");
    // The busybox-httpd example's image: busybox with /www/index.html.
    auto rootfs = busybox_rootfs(dir_.file("image"));
    fs::create_directories(rootfs + "/www");
    write_text(rootfs + "/www/index.html", "hello from busybox httpd\n");
    fs::create_directories(rootfs + "/etc");
    write_text(rootfs + "/etc/app.conf", "port=8080\n");
    // Imported without docker_import's label sandmine=test: record leaves containers labelled
    // sandmine out (other test runs start them meanwhile), and these must count.
    ASSERT_EQ(run({"/bin/tar", "-C", rootfs, "-cf", rootfs + ".tar", "."}).exit_code, 0);
    Outcome imported =
        run({kDocker, "import", rootfs + ".tar", "sandmine-record-test:" + std::to_string(getpid())});
    ASSERT_EQ(imported.exit_code, 0) << imported.err;
    image_ = "sandmine-record-test:" + std::to_string(getpid());
    project_ = "sandmine-record-test-" + std::to_string(getpid());
    ::setenv("RECORD_TEST_IMAGE", image_.c_str(), 1);
    ::setenv("COMPOSE_PROJECT_NAME", project_.c_str(), 1);
  }
  void TearDown() override {
    if (!image_.empty()) {
      // The workflow takes itself down; anything of the project still there is a failure (and removed).
      std::string ids =
          run({kDocker, "ps", "-aq", "--filter", "label=com.docker.compose.project=" + project_}).out;
      EXPECT_EQ(ids, "");
      std::istringstream each(ids);
      for (std::string id; each >> id;) run({kDocker, "rm", "-f", id});
      std::string networks = run({kDocker, "network", "ls", "-q", "--filter", "name=" + project_}).out;
      EXPECT_EQ(networks, "");
      std::istringstream nets(networks);
      for (std::string id; nets >> id;) run({kDocker, "network", "rm", id});
      // A container just removed may still hold the image for a moment.
      EXPECT_TRUE(wait_until(
          [&] {
            return run({kDocker, "rmi", "-f", image_}).exit_code == 0;
          },
          10000))
          << "image " << image_ << " could not be removed";
    }
    for (const char* var : {"RECORD_TEST_IMAGE", "COMPOSE_PROJECT_NAME", "COMPOSE_FILE"}) ::unsetenv(var);
    if (is_root()) {
      EXPECT_EQ(leftovers(), std::vector<std::string>{});
    }
  }
  void compose_files(const std::string& override_file) {
    std::string files = kRecordDir + "/docker-compose.yml:" + kRecordDir + "/" + override_file;
    ::setenv("COMPOSE_FILE", files.c_str(), 1);
  }
  TempDir dir_;
  std::string image_, project_;
};

TEST_F(Record, AComposeWorkflowGetsOneProfilePerServiceThatRunsItUnderEnforcement) {
  compose_files("docker-compose.record.yml");
  const std::string out = dir_.file("out");
  Outcome r = sandmine({"record", "-o", out, "--timeout", "90", "--", kRecordDir + "/ci.sh"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("hello from busybox httpd"), std::string::npos) << "the client's output:\n" << r.out;

  // One folder per service, named by the service, and nothing else.
  std::set<std::string> folders;
  for (const auto& e : fs::directory_iterator(out))
    if (e.is_directory()) folders.insert(e.path().filename().string());
  EXPECT_EQ(folders, (std::set<std::string>{"client", "server"}));
  for (const char* service : {"client", "server"})
    for (const char* file : {"profile.json", "trace.json", "summary.md", "report.html"})
      EXPECT_TRUE(fs::exists(out + "/" + service + "/" + file)) << service << "/" << file;
  auto index = sys::read_file(out + "/index.html");
  ASSERT_TRUE(index.ok());
  EXPECT_NE(index->find("client/report.html"), std::string::npos);
  EXPECT_NE(index->find("server/report.html"), std::string::npos);

  // The client resolved the server's name (Docker's DNS over UDP: sendmmsg,
  // recvfrom) and connected to it over TCP, sending and reading; it never served.
  auto client = syscall_names(out + "/client/trace.json");
  for (const char* needed :
       {"execve", "socket", "connect", "sendmmsg", "recvfrom", "poll", "write", "read", "exit_group"})
    EXPECT_TRUE(client.count(needed)) << "client: " << needed;
  for (const char* never : {"bind", "listen", "accept", "accept4"})
    EXPECT_FALSE(client.count(never)) << "client: " << never;
  // The server listened and accepted the client's connections, reading
  // each request and sending the page (sendfile); it never connected anywhere.
  auto server = syscall_names(out + "/server/trace.json");
  for (const char* needed : {"execve", "socket", "bind", "listen", "accept", "read", "sendfile", "shutdown"})
    EXPECT_TRUE(server.count(needed)) << "server: " << needed;
  EXPECT_FALSE(server.count("connect")) << "server";
  auto trace = read_json(out + "/server/trace.json");
  EXPECT_EQ(trace["target"]["name"], "server");
  EXPECT_EQ(trace["target"]["engine"], "docker");
  auto profile = read_json(out + "/server/profile.json");
  EXPECT_EQ(profile["defaultAction"], "SCMP_ACT_ERRNO");
  // What it was mined from names the container (the trace and folder name the service).
  EXPECT_EQ(profile["sandmine"]["minedFrom"]["name"], project_ + "_server_1");
  EXPECT_EQ(profile["sandmine"]["minedFrom"]["engine"], "docker");
  EXPECT_EQ(profile["sandmine"]["minedFrom"]["command"],
            nlohmann::json::array({"/bin/busybox", "sh", "-c",
                                   "trap 'kill $pid; exit 0' TERM; /bin/busybox httpd -f -p 8080 -h /www & "
                                   "pid=$!; wait"}));

  // The same workflow under the two profiles, enforced by Docker, without sandmine.
  compose_files("docker-compose.enforce.yml");
  ::setenv("SERVER_PROFILE", (out + "/server/profile.json").c_str(), 1);
  ::setenv("CLIENT_PROFILE", (out + "/client/profile.json").c_str(), 1);
  Outcome enforced = run({kRecordDir + "/ci.sh"});
  ::unsetenv("SERVER_PROFILE");
  ::unsetenv("CLIENT_PROFILE");
  EXPECT_EQ(enforced.exit_code, 0) << enforced.out << enforced.err;
  EXPECT_NE(enforced.out.find("hello from busybox httpd"), std::string::npos) << enforced.out;
}

TEST_F(Record, AContainerWithoutTheRecordingProfileIsRefusedByName) {
  const std::string name = project_ + "-no-profile";
  Outcome r = sandmine(
      {"record", "-o", dir_.file("out"), "--", kRecordDir + "/refused.sh", "no-profile", name, image_});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  const std::string line = last_line(r.err);
  EXPECT_EQ(line.rfind("sandmine: container " + name + " (", 0), 0u) << r.err;
  EXPECT_NE(line.find("without the recording profile"), std::string::npos) << line;
  EXPECT_FALSE(fs::exists(dir_.file("out/" + name))) << "no profile for it";
  EXPECT_EQ(run({kDocker, "ps", "-aq", "--filter", "name=" + name}).out, "");
}

TEST_F(Record, AContainerOutsideTheWatchedParentIsRefusedByName) {
  const std::string name = project_ + "-outside";
  Outcome r =
      sandmine({"record", "-o", dir_.file("out"), "--", kRecordDir + "/refused.sh", "outside", name, image_});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  const std::string line = last_line(r.err);
  EXPECT_EQ(line.rfind("sandmine: container " + name + " (", 0), 0u) << r.err;
  EXPECT_NE(line.find("outside the watched cgroup parent"), std::string::npos) << line;
  EXPECT_FALSE(fs::exists(dir_.file("out/" + name))) << "no profile for it";
  EXPECT_EQ(run({kDocker, "ps", "-aq", "--filter", "name=" + name}).out, "");
}

TEST_F(Record, TheDockerRunShimGivesAPlainScriptsContainersTheParentAndTheProfile) {
  // refused.sh's no-profile case gives only the parent: the shim adds the profile.
  const std::string name = project_ + "-shim";
  Outcome r = sandmine({"record", "--docker-run", "-o", dir_.file("out"), "--", kRecordDir + "/refused.sh",
                        "no-profile", name, image_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto names = syscall_names(dir_.file("out/" + name + "/trace.json"));
  for (const char* needed : {"execve", "clock_nanosleep", "exit_group"})
    EXPECT_TRUE(names.count(needed)) << needed;
}

TEST_F(Record, AFailingCommandIsExitTwoWithTheProfilesRecordedSoFar) {
  const std::string name = project_ + "-failing";
  // `sleep` with a bad argument: the container runs (and is recorded), docker run exits 1.
  write_text(dir_.file("fail.sh"), "#!/bin/sh\ndocker run --name " + name +
                                       " --cgroup-parent \"$SANDMINE_CGROUP_PARENT\" --security-opt "
                                       "\"seccomp=$SANDMINE_SECCOMP\" " +
                                       image_ +
                                       " /bin/busybox sh -c '/bin/busybox sleep 1; exit 3'\ncode=$?\n"
                                       "docker rm -f " +
                                       name + " >/dev/null\nexit $code\n");
  fs::permissions(dir_.file("fail.sh"), fs::perms::owner_all);
  Outcome r = sandmine({"record", "-o", dir_.file("out"), "--", dir_.file("fail.sh")});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  const std::string line = last_line(r.err);
  EXPECT_NE(line.find("failed with exit code 3"), std::string::npos) << line;
  EXPECT_NE(line.find("profiles of the 1 containers recorded well are in"), std::string::npos) << line;
  EXPECT_TRUE(fs::exists(dir_.file("out/" + name + "/profile.json")));
}

}  // namespace sandmine::test

namespace sandmine::test {

TEST_F(Record, CtrlCIsForwardedToTheCommandsProcessGroupWhichIsWaitedFor) {
  // The command traps SIGINT in its own process group: only a forwarded signal reaches it.
  Background b({SANDMINE_BIN, "record", "-o", dir_.file("out"), "--", "/bin/sh", "-c",
                "trap 'echo trapped-int; exit 5' INT; echo ready; while :; do /bin/sleep 0.1; done"});
  ASSERT_TRUE(b.wait_for_output("ready"));
  ::kill(b.pid(), SIGINT);
  Outcome r = b.wait();
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.out.find("trapped-int"), std::string::npos) << r.out;
  EXPECT_EQ(last_line(r.err),
            "sandmine: interrupted by signal 2: it was forwarded to /bin/sh and it ended with 5; no profile "
            "written")
      << r.err;
  EXPECT_TRUE(fs::exists(dir_.file("out/index.html")));
}

TEST_F(Record, TheTimeoutEndsTheCommand) {
  Outcome r = sandmine({"record", "-o", dir_.file("out"), "--timeout", "1", "--", "/bin/sleep", "60"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(last_line(r.err),
            "sandmine: /bin/sleep did not end within --timeout 1 s and was stopped; no profile written")
      << r.err;
}

}  // namespace sandmine::test

namespace sandmine::test {

// Podman, through --docker-run's shim of the podman client: a script that
// gives the client its global options (runc, the cgroupfs manager) and the
// rlimits this host allows, as sandmine's own podman engine does.
TEST_F(Record, PodmanContainersAreRecordedThroughTheShim) {
  if (!fs::exists(kPodman)) SKIP_OR_FAIL_IN_CI("podman is not installed");
  auto rootfs = busybox_rootfs(dir_.file("podman-image"));
  ASSERT_EQ(run({"/bin/tar", "-C", rootfs, "-cf", rootfs + ".tar", "."}).exit_code, 0);
  const std::string image = "localhost/sandmine-record-test:" + std::to_string(getpid());
  Outcome imported = run({kPodman, "import", rootfs + ".tar", image});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  const std::string name = project_ + "-podman";
  const std::string client = std::string("podman --runtime runc --cgroup-manager cgroupfs");
  write_text(dir_.file("podman.sh"), "#!/bin/sh\n" + client + " run --name " + name +
                                         " --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 " + image +
                                         " /bin/busybox sleep 1\ncode=$?\n" + client + " rm -f " + name +
                                         " >/dev/null\nexit $code\n");
  fs::permissions(dir_.file("podman.sh"), fs::perms::owner_all);
  Outcome r = sandmine(
      {"record", "--engine", "podman", "--docker-run", "-o", dir_.file("out"), "--", dir_.file("podman.sh")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  if (r.exit_code == 0) {
    auto names = syscall_names(dir_.file("out/" + name + "/trace.json"));
    for (const char* needed : {"execve", "clock_nanosleep", "exit_group"})
      EXPECT_TRUE(names.count(needed)) << needed;
    EXPECT_EQ(read_json(dir_.file("out/" + name + "/trace.json"))["target"]["engine"], "podman");
  }
  EXPECT_EQ(run({kPodman, "ps", "-aq", "--filter", "name=" + name}).out, "");
  EXPECT_EQ(run({kPodman, "rmi", "-f", image}).exit_code, 0);
}

}  // namespace sandmine::test

namespace sandmine::test {

TEST_F(Record, TheProfileSaysWhichConfigurationFilesTheContainerRead) {
  const std::string name = project_ + "-conf";
  write_text(dir_.file("conf.sh"),
             "#!/bin/sh\ndocker run --name " + name + " " + image_ +
                 " /bin/busybox sh -c '/bin/busybox cat /etc/app.conf; /bin/busybox sleep 1'"
                 "\ncode=$?\ndocker rm -f " +
                 name + " >/dev/null\nexit $code\n");
  fs::permissions(dir_.file("conf.sh"), fs::perms::owner_all);
  Outcome r = sandmine({"record", "--docker-run", "-o", dir_.file("out"), "--", dir_.file("conf.sh")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "port=8080\n");
  auto from = read_json(dir_.file("out/" + name + "/profile.json"))["sandmine"]["minedFrom"];
  EXPECT_EQ(from["configFiles"], nlohmann::json({{"/etc/app.conf", "sha256:" + sha256_hex("port=8080\n")}}))
      << from.dump();
  EXPECT_EQ(from["configFilesNote"],
            "the files it read until sandmine last saw it running (sandmine record)");
}

}  // namespace sandmine::test
