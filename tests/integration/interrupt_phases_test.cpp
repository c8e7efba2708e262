// Ctrl-C (SIGINT) and SIGTERM at each phase of mine, check and bench: image
// build, start and readiness, steps, stop, the held-out check. Each leaves no
// container, mount, cgroup, BPF program or runc state, and exits 2 with one
// line.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>

#include "image/image.h"
#include "spec/spec.h"
#include "support/engines.h"
#include "support/run.h"
#include "support/trace_run.h"
#include "sys/files.h"

namespace sandmine::test {
namespace {

namespace fs = std::filesystem;

struct Phase {
  const char* name;
  const char* command;  // mine, check or bench
  const char* spec;     // the explore/validate/bench part and anything else after the image and command
  const char* marker;   // stderr line (part) once the phase is under way
  int signal;
};

// A container whose main process ignores SIGTERM (so a TERM stop waits) and
// sleeps; the phases differ in what comes after.
constexpr const char* kHead =
    "name: phases\nimage:\n  busybox:\n    files: {/etc/phase: PHASE}\n"
    "command: [/bin/busybox, sh, -c, \"trap '' TERM; exec /bin/busybox sleep 300\"]\n";

const Phase kPhases[] = {
    {"MineImageBuild", "mine", "stop: {signal: KILL, timeout: 1s}\nexplore: [{sleep: 1s}]\n",
     "waiting for another build of the same image", SIGINT},
    {"MineReadiness", "mine",
     "ready: {exec: [/bin/busybox, \"false\"], timeout: 60s}\nstop: {signal: KILL, timeout: 1s}\n"
     "explore: [{sleep: 1s}]\n",
     "is ready (up to 60 s)", SIGTERM},
    {"MineSteps", "mine", "stop: {signal: KILL, timeout: 1s}\nexplore: [{name: wait, sleep: 60s}]\n",
     "] start start: ok", SIGTERM},
    {"MineStop", "mine", "stop: {signal: TERM, timeout: 60s}\nexplore: [{name: short, sleep: 100ms}]\n",
     "] explore short: ok", SIGINT},
    {"MineHeldOutCheck", "mine",
     "stop: {signal: KILL, timeout: 1s}\nexplore: [{sleep: 100ms}]\nvalidate: [{name: long, sleep: 60s}]\n",
     "check start start: ok", SIGINT},
    {"CheckReadiness", "check",
     "ready: {exec: [/bin/busybox, \"false\"], timeout: 60s}\nstop: {signal: KILL, timeout: 1s}\n"
     "explore: [{sleep: 1s}]\nvalidate: [{sleep: 1s}]\n",
     "is ready (up to 60 s)", SIGINT},
    {"CheckSteps", "check",
     "stop: {signal: KILL, timeout: 1s}\nexplore: [{sleep: 1s}]\nvalidate: [{name: long, sleep: 60s}]\n",
     "check start start: ok", SIGTERM},
    {"CheckStop", "check",
     "stop: {signal: TERM, timeout: 60s}\nexplore: [{sleep: 1s}]\nvalidate: [{name: short, sleep: 100ms}]\n",
     "check validate short: ok", SIGTERM},
    {"BenchReadiness", "bench",
     "ready: {exec: [/bin/busybox, \"false\"], timeout: 60s}\nstop: {signal: KILL, timeout: 1s}\n"
     "explore: [{sleep: 1s}]\nbench: [{run: \"sleep 0.1\"}]\n",
     "is ready (up to 60 s)", SIGINT},
};

class InterruptPhase : public ::testing::TestWithParam<Phase> {
 protected:
  void SetUp() override {
    if (!is_root()) SKIP_OR_FAIL_IN_CI("needs root (CI runs as root)");
    if (!fs::exists(kRunc)) SKIP_OR_FAIL_IN_CI("runc is not installed");
  }
  void TearDown() override {
    if (!is_root()) return;
    EXPECT_EQ(leftovers(), std::vector<std::string>{});
    EXPECT_EQ(runc_leftovers(), std::vector<std::string>{});
  }
  TempDir dir_, cache_;
};

TEST_P(InterruptPhase, LeavesNothingBehindAndExitsTwo) {
  const Phase& phase = GetParam();
  std::string head = kHead;
  head.replace(head.find("PHASE"), 5, phase.name);  // an image of its own: never built by another test
  write_text(dir_.file("s.yaml"), head + phase.spec);
  write_text(dir_.file("allow.json"), R"({"defaultAction": "SCMP_ACT_ALLOW"})");

  // The image build: this test holds the cache entry's lock, as another
  // sandmine building the same image would.
  std::optional<sys::FileLock> lock;
  if (std::string(phase.name) == "MineImageBuild") {
    auto spec = spec::read_spec(dir_.file("s.yaml"));
    ASSERT_TRUE(spec.ok()) << spec.error().message;
    auto hash = image::recipe_hash(spec->image);
    ASSERT_TRUE(hash.ok()) << hash.error().message;
    auto taken = sys::FileLock::take(cache_.path() + "/" + *hash + ".lock");
    ASSERT_TRUE(taken.ok()) << taken.error().message;
    lock.emplace(std::move(*taken));
  }

  std::vector<std::string> argv{SANDMINE_BIN, phase.command, dir_.file("s.yaml"), "--cache", cache_.path()};
  if (std::string(phase.command) == "mine") argv.insert(argv.end(), {"-o", dir_.file("out")});
  if (std::string(phase.command) != "mine") argv.insert(argv.end(), {"--profile", dir_.file("allow.json")});
  if (std::string(phase.command) == "bench") argv.insert(argv.end(), {"--rounds", "1"});
  Background sm(argv);
  ASSERT_TRUE(sm.wait_for_output(phase.marker, 60'000)) << "never reached: " << phase.marker;
  if (std::string(phase.name) == "MineStop" || std::string(phase.name) == "CheckStop")
    usleep(200'000);  // the TERM stop is under way (it waits up to 60 s)
  ::kill(sm.pid(), phase.signal);
  Outcome r = sm.wait();
  EXPECT_EQ(r.exit_code, 2) << r.err;
  // The last line says what happened: one line, sandmine's own.
  std::string last = r.err.substr(r.err.rfind("sandmine:", r.err.size() - 2));
  EXPECT_NE(last.find("interrupted by signal " + std::to_string(phase.signal)), std::string::npos) << r.err;
  EXPECT_EQ(std::count(last.begin(), last.end(), '\n'), 1) << last;
  EXPECT_FALSE(fs::exists("/run/sandmine/sandmine-phases-" + std::string(phase.command) + "-" +
                          std::to_string(sm.pid())));
}

INSTANTIATE_TEST_SUITE_P(Phases, InterruptPhase, ::testing::ValuesIn(kPhases),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace sandmine::test
