// sandmine record's pieces that need no engine: the --docker-run shim (run
// by /bin/sh against a fake client that prints its arguments) and the check
// of a container's configuration against the watched parent and the run's
// recording profile.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "explore/record.h"
#include "profile/docker_json.h"
#include "support/run.h"

namespace sandmine::test {

namespace {

namespace fs = std::filesystem;

// The arguments the shim hands the real client, one per line.
std::string through_shim(const TempDir& dir, const std::vector<std::string>& args) {
  const std::string fake = dir.file("client");
  if (!fs::exists(fake)) {
    write_text(fake, "#!/bin/sh\nfor a do printf '%s\\n' \"$a\"; done\n");
    fs::permissions(fake, fs::perms::owner_all);
    write_text(dir.file("shim"), explore::client_shim(fake));
    fs::permissions(dir.file("shim"), fs::perms::owner_all);
  }
  ::setenv(explore::kCgroupParentVar, "/sandmine-1/record", 1);
  ::setenv(explore::kSeccompVar, "/tmp/x y/recording.json", 1);
  std::vector<std::string> argv{dir.file("shim")};
  argv.insert(argv.end(), args.begin(), args.end());
  Outcome r = run(argv);
  ::unsetenv(explore::kCgroupParentVar);
  ::unsetenv(explore::kSeccompVar);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

const std::string kAdded =
    "--cgroup-parent\n/sandmine-1/record\n--security-opt\nseccomp=/tmp/x y/recording.json\n";

nlohmann::json recording_profile(const std::string& run) {
  auto p = profile::Profile::allow_all();
  p.recording = run;
  return profile::to_docker_json(p);
}

nlohmann::json inspect_doc(const std::string& parent, const std::vector<std::string>& security_opt) {
  return {{"Id", "abc"}, {"HostConfig", {{"CgroupParent", parent}, {"SecurityOpt", security_opt}}}};
}

}  // namespace

TEST(RecordShim, RunAndCreateGetTheParentAndTheProfileRightAfterTheSubcommand) {
  TempDir dir;
  EXPECT_EQ(through_shim(dir, {"run", "-d", "--name", "a b", "img", "sh", "-c", "echo run"}),
            "run\n" + kAdded + "-d\n--name\na b\nimg\nsh\n-c\necho run\n");
  EXPECT_EQ(through_shim(dir, {"create", "img"}), "create\n" + kAdded + "img\n");
  EXPECT_EQ(through_shim(dir, {"container", "run", "img"}), "container\nrun\n" + kAdded + "img\n");
  // Global options before the subcommand, with their values.
  EXPECT_EQ(through_shim(dir, {"--context", "run", "run", "img"}),
            "--context\nrun\nrun\n" + kAdded + "img\n");
  EXPECT_EQ(through_shim(dir, {"-H", "unix:///run/docker.sock", "--debug", "run", "img"}),
            "-H\nunix:///run/docker.sock\n--debug\nrun\n" + kAdded + "img\n");
}

TEST(RecordShim, EverythingElsePassesThroughUnchanged) {
  TempDir dir;
  EXPECT_EQ(through_shim(dir, {"ps", "-a"}), "ps\n-a\n");
  EXPECT_EQ(through_shim(dir, {"exec", "c1", "run"}), "exec\nc1\nrun\n");
  EXPECT_EQ(through_shim(dir, {"container", "ls"}), "container\nls\n");
  EXPECT_EQ(through_shim(dir, {"compose", "run", "x"}), "compose\nrun\nx\n");
  EXPECT_EQ(through_shim(dir, {}), "");
}

TEST(RecordConfiguration, TheRunsRecordingProfileInTheWatchedParentIsRight) {
  const std::string content = recording_profile("run-1").dump();
  EXPECT_EQ(explore::configuration_problem(inspect_doc("/sandmine-1/record", {"seccomp=" + content}),
                                           "/sandmine-1/record", "run-1"),
            "");
  // Trailing or missing slashes name the same parent; Podman keeps the file's path.
  TempDir dir;
  write_text(dir.file("rec.json"), content);
  EXPECT_EQ(explore::configuration_problem(
                inspect_doc("sandmine-1/record/", {"label=disable", "seccomp=" + dir.file("rec.json")}),
                "/sandmine-1/record", "run-1"),
            "");
}

TEST(RecordConfiguration, EachWrongConfigurationSaysWhatIsWrong) {
  const std::string parent = "/sandmine-1/record";
  const std::string right = "seccomp=" + recording_profile("run-1").dump();
  auto problem = [&](const nlohmann::json& doc) {
    return explore::configuration_problem(doc, parent, "run-1");
  };
  EXPECT_EQ(
      problem(inspect_doc("", {right})),
      "ran outside the watched cgroup parent /sandmine-1/record (its cgroup parent: the engine's default)");
  EXPECT_EQ(problem(inspect_doc("/elsewhere", {right})),
            "ran outside the watched cgroup parent /sandmine-1/record (its cgroup parent: /elsewhere)");
  EXPECT_EQ(problem(inspect_doc(parent, {})),
            "ran without the recording profile (no seccomp security option: the engine's default)");
  EXPECT_EQ(problem(inspect_doc(parent, {"seccomp=unconfined"})),
            "ran without the recording profile (seccomp=unconfined)");
  const std::string other =
      "ran under another seccomp profile than the recording profile (give it "
      "seccomp=$SANDMINE_SECCOMP)";
  EXPECT_EQ(problem(inspect_doc(parent, {"seccomp=" + recording_profile("run-2").dump()})), other);
  EXPECT_EQ(problem(inspect_doc(parent, {"seccomp={\"defaultAction\": \"SCMP_ACT_ALLOW\"}"})), other);
  EXPECT_EQ(problem(inspect_doc(parent, {"seccomp=/no/such/file.json"})), other);
}

}  // namespace sandmine::test
