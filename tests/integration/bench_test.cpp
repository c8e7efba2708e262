// sandmine bench with runc on the busybox-httpd example: three configurations
// per round in a rotating order, each in a fresh container; "unconfined" has
// no seccomp filter at all (the kernel says so), "default" and "profile" do;
// ratios are those of the medians; a step failing under the profile exits 1;
// bad input is one line and exit 2; nothing is left behind, Ctrl-C included.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "support/engines.h"
#include "support/trace_run.h"
#include "sys/cgroup.h"
#include "sys/files.h"

namespace sandmine::test {

namespace fs = std::filesystem;
using nlohmann::json;

std::string example_text() {
  std::ifstream in(std::string(EXAMPLES_DIR) + "/busybox-httpd.yaml");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The example with more steps at the head of its bench list.
std::string with_bench_steps(const std::string& steps) {
  std::string text = example_text();
  auto at = text.find("\nbench:\n");
  if (at == std::string::npos) throw std::runtime_error("the busybox-httpd example has no bench list");
  return text.insert(at + 8, steps);
}

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// The number after "<field>:" in a /proc/PID/status text, or -1.
int status_field(const std::string& status, const std::string& field) {
  std::smatch m;
  if (!std::regex_search(status, m, std::regex("(^|\n)" + field + ":\\s+(\\d+)"))) return -1;
  return std::stoi(m[2].str());
}

// What a container of this test leaves in the runc state directory and the mount table.
std::vector<std::string> bundles_and_mounts() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/run/sandmine", ec)) {
    std::string name = e.path().filename().string();
    if (name.find("-bench-") != std::string::npos && !owned_by_another_live_process(name))
      out.push_back("bundle " + e.path().string());
  }
  std::istringstream mounts(sys::read_file("/proc/self/mountinfo").value_or(""));
  for (std::string line; std::getline(mounts, line);)
    if (line.find("/run/sandmine/") != std::string::npos && line.find("-bench-") != std::string::npos)
      out.push_back("mount " + line);
  return out;
}

class Bench : public RuncTest {
 protected:
  static void SetUpTestSuite() {
    if (!is_root() || !fs::exists(kRunc)) return;
    mined_ = new TempDir;
    cache_ = new TempDir;
    Outcome r = sandmine({"mine", std::string(EXAMPLES_DIR) + "/busybox-httpd.yaml", "-o", mined_->path(),
                          "--cache", cache_->path()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() {
    delete mined_;
    delete cache_;
  }
  void SetUp() override {
    RuncTest::SetUp();
    if (stopped()) return;
    ASSERT_NE(mined_, nullptr);
  }
  void TearDown() override {
    RuncTest::TearDown();
    if (is_root()) {
      EXPECT_EQ(bundles_and_mounts(), std::vector<std::string>{});
    }
  }
  Outcome bench(const std::string& spec, const std::string& profile, const std::vector<std::string>& extra) {
    std::vector<std::string> args{"bench", spec, "--profile", profile, "--cache", cache_->path()};
    args.insert(args.end(), extra.begin(), extra.end());
    return sandmine(args);
  }
  static TempDir* mined_;
  static TempDir* cache_;
};

TempDir* Bench::mined_ = nullptr;
TempDir* Bench::cache_ = nullptr;

TEST_F(Bench, ThreeConfigsRotatedWithRatiosOfMediansAndUnconfinedHasNoFilter) {
  TempDir dir;
  // Before the example's ab: the container's main process as the kernel sees it, during a step.
  write_text(dir.file("httpd.yaml"),
             with_bench_steps("  - name: status\n"
                              "    exec: [/bin/busybox, cat, /proc/1/status, /proc/1/cgroup]\n"));
  Outcome r = bench(dir.file("httpd.yaml"), mined_->file("profile.json"),
                    {"--rounds", "2", "-o", dir.file("b.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("profile / default: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("goal (profile >= 0.97 x unconfined, and no more costly than default): "),
            std::string::npos)
      << r.out;

  json j = read_json(dir.file("b.json"));
  EXPECT_EQ(j["spec"], "busybox-httpd");
  EXPECT_EQ(j["engine"], "runc");
  EXPECT_EQ(j["rounds"], 2);
  EXPECT_EQ(j["unit"], "geometric mean of the steps");  // runs/s (status) and requests/s (ab)
  EXPECT_EQ(j["default_profile"], "containers-common /usr/share/containers/seccomp.json");
  EXPECT_FALSE(j.contains("failure"));
  ASSERT_EQ(j["results"].size(), 3u);

  const std::vector<std::string> configs{"unconfined", "default", "profile"};
  // Round 1 runs them in this order, round 2 rotated once: default, profile, unconfined.
  const std::map<std::string, std::vector<int>> positions{
      {"unconfined", {1, 3}}, {"default", {2, 1}}, {"profile", {3, 2}}};
  const std::map<std::string, int> seccomp_mode{{"unconfined", 0}, {"default", 2}, {"profile", 2}};
  std::map<std::string, double> medians;
  for (size_t i = 0; i < configs.size(); ++i) {
    const json& c = j["results"][i];
    const std::string config = configs[i];
    ASSERT_EQ(c["config"], config);
    std::vector<double> t = c["throughputs"];
    ASSERT_EQ(t.size(), 2u) << config;
    ASSERT_EQ(c["runs"].size(), 2u) << config;
    medians[config] = c["median"];
    EXPECT_EQ(c["median"].get<double>(), median_of(t)) << config;
    for (int round = 1; round <= 2; ++round) {
      const json& run = c["runs"][round - 1];
      std::string where = config + " round " + std::to_string(round);
      EXPECT_EQ(run["round"], round);
      EXPECT_EQ(run["position"], positions.at(config)[round - 1]) << where;
      EXPECT_EQ(run["throughput"].get<double>(), t[round - 1]) << where;
      ASSERT_EQ(run["steps"].size(), 2u) << where;
      const json& status = run["steps"][0];
      const json& ab = run["steps"][1];
      ASSERT_EQ(status["name"], "status");
      ASSERT_EQ(ab["name"], "ab");

      // The kernel's word on the main process's filter, read during the step.
      std::string text = status["output"];
      EXPECT_EQ(status_field(text, "Seccomp"), seccomp_mode.at(config)) << where << "\n" << text;
      EXPECT_EQ(status_field(text, "Seccomp_filters"), seccomp_mode.at(config) ? 1 : 0) << where << "\n"
                                                                                        << text;
      // In its own cgroup: the bench's group, then this run's container.
      std::smatch m;
      EXPECT_TRUE(std::regex_search(text, m,
                                    std::regex("\n0::/sandmine-bench-[0-9]+/sandmine-busybox-httpd-bench-" +
                                               config + "-" + std::to_string(round) + "-[0-9]+\n")))
          << where << "\n"
          << text;
      // No metric: 1 / wall time.
      EXPECT_EQ(status["throughput"].get<double>(), 1.0 / status["seconds"].get<double>()) << where;

      // ab's own number, as its metric reads it.
      std::string ab_out = ab["output"];
      ASSERT_TRUE(std::regex_search(ab_out, m, std::regex(R"(Requests per second:\s+([0-9.]+))"))) << ab_out;
      EXPECT_EQ(ab["throughput"].get<double>(), std::stod(m[1].str())) << where;
      EXPECT_NE(ab_out.find("Complete requests:      500\n"), std::string::npos) << ab_out;
      EXPECT_NE(ab_out.find("Failed requests:        0\n"), std::string::npos) << ab_out;
      // Two steps: the round's throughput is their geometric mean.
      EXPECT_DOUBLE_EQ(run["throughput"].get<double>(),
                       std::sqrt(status["throughput"].get<double>() * ab["throughput"].get<double>()))
          << where;
    }
  }
  for (size_t i = 0; i < configs.size(); ++i)
    EXPECT_EQ(j["results"][i]["ratio"].get<double>(), medians[configs[i]] / medians["unconfined"])
        << configs[i];
  EXPECT_EQ(j["profile_vs_default"].get<double>(), medians["profile"] / medians["default"]);
  // Each step on its own too.
  const json& ab_steps = j["results"][2]["steps"][1];
  EXPECT_EQ(ab_steps["name"], "ab");
  EXPECT_EQ(ab_steps["unit"], "requests/s");
  EXPECT_EQ(ab_steps["median"].get<double>(), median_of(ab_steps["throughputs"].get<std::vector<double>>()));
}

// The mined profile has no mkdir: the explore steps never needed it.
TEST_F(Bench, AStepFailingUnderTheProfileExitsOne) {
  TempDir dir;
  write_text(dir.file("mkdir.yaml"),
             with_bench_steps("  - name: mkdir\n    exec: [/bin/busybox, mkdir, /www/made]\n"));
  Outcome r = bench(dir.file("mkdir.yaml"), mined_->file("profile.json"),
                    {"--rounds", "2", "-o", dir.file("b.json")});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(
      r.err.find("sandmine: bench step failed: round 1/2, profile: spec " + dir.file("mkdir.yaml") + ":"),
      std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(": step mkdir: exit 1 (expected 0)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("sandmine: the workload fails under the profile"), std::string::npos) << r.err;
  json j = read_json(dir.file("b.json"));
  EXPECT_EQ(j["failed_under"], "profile");
  // Round 1 had run unconfined and default before the profile failed.
  EXPECT_EQ(j["results"][0]["throughputs"].size(), 1u);
  EXPECT_EQ(j["results"][1]["throughputs"].size(), 1u);
  EXPECT_EQ(j["results"][2]["throughputs"].size(), 0u);
  EXPECT_TRUE(j["results"][2]["median"].is_null());
  EXPECT_TRUE(j["profile_vs_default"].is_null());
}

TEST_F(Bench, AStepFailingWithoutTheProfileIsTheSpecsFaultExitTwo) {
  TempDir dir;
  write_text(dir.file("false.yaml"), with_bench_steps("  - name: broken\n    run: exit 3\n"));
  Outcome r = bench(dir.file("false.yaml"), mined_->file("profile.json"), {"--rounds", "1"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("sandmine: bench step failed: round 1/1, unconfined: spec "), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(": step broken: exit 3 (expected 0)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("sandmine: the workload fails without the profile (unconfined): fix the spec or the "
                       "environment\n"),
            std::string::npos)
      << r.err;
}

// Ctrl-C during a step: the container is killed and removed with its cgroup
// and bundle, what was measured is written, exit 2.
TEST_F(Bench, InterruptRemovesTheContainer) {
  TempDir dir;
  write_text(dir.file("long.yaml"), with_bench_steps("  - name: wait\n    sleep: 60s\n"));
  Background sm({SANDMINE_BIN, "bench", dir.file("long.yaml"), "--profile", mined_->file("profile.json"),
                 "--cache", cache_->path(), "-o", dir.file("b.json")});
  std::string name = "sandmine-busybox-httpd-bench-unconfined-1-" + std::to_string(sm.pid());
  ASSERT_TRUE(wait_until([&] {
    return run({kRunc, "--root", "/run/sandmine/runc", "list", "-q"}).out.find(name) != std::string::npos;
  })) << "the container never started";
  std::string group = "/sandmine-bench-" + std::to_string(sm.pid());
  ASSERT_TRUE(wait_until([&] {
    auto mount = sys::cgroup2_mount();
    return mount && fs::exists(*mount + group);
  }));
  kill(sm.pid(), SIGINT);
  Outcome r = sm.wait();
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(
      r.err.find("sandmine: interrupted by signal 2: the container was removed; what was measured is in " +
                 dir.file("b.json") + "\n"),
      std::string::npos)
      << r.err;
  EXPECT_EQ(run({kRunc, "--root", "/run/sandmine/runc", "list", "-q"}).out.find(name), std::string::npos);
  EXPECT_FALSE(fs::exists("/run/sandmine/" + name));
  EXPECT_FALSE(fs::exists(*sys::cgroup2_mount() + group));
  EXPECT_FALSE(fs::exists("/sys/fs/cgroup/memory" + group));
  EXPECT_EQ(read_json(dir.file("b.json"))["results"][0]["throughputs"].size(), 0u);
}

// Checked before any container starts: no root needed.
TEST(BenchInput, BadInputIsOneLineAndExitTwo) {
  TempDir dir;
  auto expect_one_line = [](const Outcome& r, const std::string& start) {
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.err.rfind("sandmine: " + start, 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.out, "");
  };
  write_text(dir.file("profile.json"), R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": []})");
  std::string no_bench = example_text().substr(0, example_text().find("\nbench:\n") + 1);
  write_text(dir.file("nobench.yaml"), no_bench);
  expect_one_line(sandmine({"bench", dir.file("nobench.yaml"), "--profile", dir.file("profile.json")}),
                  "spec " + dir.file("nobench.yaml") + ": no bench steps to run (add a bench: list)");

  write_text(dir.file("bad.json"), R"({"defaultAction": "SCMP_ACT_NOPE"})");
  std::string spec = std::string(EXAMPLES_DIR) + "/busybox-httpd.yaml";
  expect_one_line(sandmine({"bench", spec, "--profile", dir.file("bad.json")}),
                  "profile " + dir.file("bad.json") + ": defaultAction: unknown action \"SCMP_ACT_NOPE\"");
  expect_one_line(sandmine({"bench", spec, "--profile", dir.file("missing.json")}), "");

  write_text(dir.file("metric.yaml"),
             with_bench_steps("  - run: ab http://127.0.0.1:8080/\n"
                              "    metric: {regex: 'Requests per second', unit: r/s}\n"));
  expect_one_line(sandmine({"bench", dir.file("metric.yaml"), "--profile", dir.file("profile.json")}),
                  "spec " + dir.file("metric.yaml") + ":");
  Outcome r = sandmine({"bench", dir.file("metric.yaml"), "--profile", dir.file("profile.json")});
  EXPECT_NE(r.err.find(": bench[0].metric.regex: no capture group: put parentheses around the number"),
            std::string::npos)
      << r.err;

  expect_one_line(sandmine({"bench", spec, "--profile", dir.file("profile.json"), "--rounds", "0"}),
                  "--rounds");
  expect_one_line(sandmine({"bench", spec, "--profile", dir.file("profile.json"), "--engine", "lxc"}),
                  "--engine");
}

}  // namespace sandmine::test
