// sandmine mine with an auto step, over runc: the generated steps are steps of
// the run (trace.json, summary.md), the request shape that alone reaches a
// path is the step that first used its syscall, and the stop rules (the
// parts ran out, the budget, the quiet rule) end generation and are named.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/engines.h"
#include "support/trace_run.h"
#include "sys/files.h"

namespace sandmine::test {
namespace {

namespace fs = std::filesystem;

class MineAuto : public RuncTest {
 protected:
  void SetUp() override {
    RuncTest::SetUp();
    if (stopped()) return;
    // A root file system of one static program: prog_http_server (tests/programs).
    fs::create_directories(dir_.file("rootfs/bin"));
    fs::copy_file(prog("http_server_static"), dir_.file("rootfs/bin/http_server"));
    Outcome tar = run({"/usr/bin/tar", "-C", dir_.file("rootfs"), "-cf", dir_.file("server.tar"), "."});
    ASSERT_EQ(tar.exit_code, 0) << tar.err;
  }

  // Mines a spec of the server with explore as given; the trace.json.
  nlohmann::json mine(const std::string& explore, const std::string& out, Outcome* outcome = nullptr) {
    std::string spec = dir_.file("server.yaml");
    std::ofstream(spec) << "name: auto-server\n"
                           "image: {rootfs: server.tar}\n"
                           "command: [/bin/http_server, \"8080\"]\n"
                           "ready: {http: {port: 8080, path: /}, timeout: 10s}\n"
                           "explore:\n"
                        << explore << "stop: {signal: TERM, timeout: 5s}\n";
    Outcome r = sandmine({"mine", spec, "-o", out, "--cache", cache_.path()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    if (outcome) *outcome = r;
    return read_json(out + "/trace.json");
  }

  TempDir dir_, cache_;
};

std::vector<std::string> step_names(const nlohmann::json& trace) {
  std::vector<std::string> out;
  for (const auto& s : trace["steps"]) out.push_back(s["name"]);
  return out;
}

std::string first_step(const nlohmann::json& trace, const std::string& name) {
  for (const auto& e : trace["syscalls"])
    if (e["name"] == name) return e["first_step"];
  return "(never)";
}

std::vector<std::string> steps_using(const nlohmann::json& trace, const std::string& key) {
  std::vector<std::string> out;
  for (const auto& s : trace["steps"])
    for (const auto& u : s["used"])
      if (u == key) out.push_back(s["name"]);
  return out;
}

TEST_F(MineAuto, GeneratedStepsAreStepsOfTheRunAndFindWhatOnlyARequestShapeReaches) {
  TempDir out;
  Outcome r;
  // The spec's own step fetches the root page only; the rest is generated.
  auto trace = mine(
      "  - name: index\n    run: curl -sf http://127.0.0.1:8080/ -o /dev/null\n"
      "  - auto: {budget: 150s, quiet: 0, parts: [http]}\n",
      out.path(), &r);
  auto names = step_names(trace);
  ASSERT_GE(names.size(), 20u) << r.err;
  // start, the spec's step, the probe and the crawl breadth first, ..., stop.
  EXPECT_EQ(
      std::vector<std::string>(names.begin(), names.begin() + 19),
      (std::vector<std::string>{
          "start", "index", "auto/tcp:8080/probe", "auto/http:8080/GET /", "auto/http:8080/GET /robots.txt",
          "auto/http:8080/GET /favicon.ico", "auto/http:8080/GET /server-status",
          "auto/http:8080/GET /server-status?auto", "auto/http:8080/GET /server-info",
          "auto/http:8080/GET /status", "auto/http:8080/GET /nginx_status", "auto/http:8080/GET /metrics",
          "auto/http:8080/GET /health", "auto/http:8080/GET /.well-known/security.txt",
          "auto/http:8080/GET /a.html", "auto/http:8080/GET /dir/", "auto/http:8080/form POST /submit",
          "auto/http:8080/GET /deep/secret.html", "auto/http:8080/GET /dir/file.txt"}));
  EXPECT_EQ(names.back(), "stop");
  for (const auto& s : trace["steps"]) {
    if (s["name"] != "start" && s["name"] != "stop") {
      EXPECT_EQ(s["phase"], "explore") << s["name"];
    }
  }
  // Each marker is first used by the one shape that reaches it; PROPFIND
  // reaches getsid and nothing else does.
  EXPECT_EQ(first_step(trace, "getpgid"), "auto/http:8080/GET /deep/secret.html");
  EXPECT_EQ(first_step(trace, "sched_get_priority_max"), "auto/http:8080/form POST /submit");
  EXPECT_EQ(first_step(trace, "getsid"), "auto/http:8080/method PROPFIND /dir/");
  EXPECT_EQ(steps_using(trace, "x86_64:getsid"),
            std::vector<std::string>{"auto/http:8080/method PROPFIND /dir/"});
  EXPECT_EQ(first_step(trace, "times"), "auto/http:8080/range bytes=0-9");
  EXPECT_EQ(first_step(trace, "sysinfo"), "auto/http:8080/chunked body");
  // The http part is finite: it ran out before the budget.
  ASSERT_EQ(trace["generated"].size(), 1u);
  const auto& g = trace["generated"][0];
  EXPECT_EQ(g["step"], "explore[1]");
  EXPECT_EQ(g["stop"], "exhausted") << g.dump();
  EXPECT_EQ(g["steps"].get<std::size_t>(), names.size() - 3);  // all but start, index and stop
  EXPECT_EQ(g["budget_s"], 150);
  EXPECT_LT(g["seconds"].get<double>(), 150);
  // The spec's own step was captured: one connection.
  EXPECT_EQ(g["captured"], 1);
  // The progress lines and summary.md say which rule stopped it.
  EXPECT_NE(r.err.find("sandmine: auto explore[1]: stopped by exhausted: "), std::string::npos) << r.err;
  auto summary = sys::read_file(out.file("summary.md"));
  ASSERT_TRUE(summary.ok());
  EXPECT_NE(summary->find("Generated exploration (explore[1]): " + std::to_string(g["steps"].get<int>()) +
                          " generated steps in "),
            std::string::npos)
      << *summary;
  EXPECT_NE(summary->find("| auto/http:8080/method PROPFIND /dir/ | explore | ok |"), std::string::npos);
  EXPECT_EQ(trace["partial"], false);
}

TEST_F(MineAuto, TheBudgetAndTheQuietRuleStopGenerationAndSaySo) {
  {
    // The fuzzer never runs out (the index step's connection is its seed):
    // only the budget ends it, and no step runs past it.
    TempDir out;
    auto trace = mine(
        "  - name: index\n    run: curl -sf http://127.0.0.1:8080/ -o /dev/null\n"
        "  - name: generated\n    auto: {budget: 4s, quiet: 0, parts: [tcp]}\n",
        out.path());
    ASSERT_EQ(trace["generated"].size(), 1u);
    const auto& g = trace["generated"][0];
    EXPECT_EQ(g["step"], "generated");
    EXPECT_EQ(g["stop"], "budget") << g.dump();
    EXPECT_GE(g["steps"].get<int>(), 2);
    EXPECT_LE(g["seconds"].get<double>(), 4.0);
    double generated_ms = 0;
    for (const auto& s : trace["steps"])
      if (s["name"].get<std::string>().starts_with("auto/tcp:8080/mutant "))
        generated_ms += s["duration_ms"].get<double>();
    EXPECT_LE(generated_ms, 4000.0);
  }
  {
    // Three mutants in a row that add nothing end it long before its budget.
    TempDir out;
    auto trace = mine(
        "  - name: index\n    run: curl -sf http://127.0.0.1:8080/ -o /dev/null\n"
        "  - auto: {budget: 120s, quiet: 3, parts: [tcp]}\n",
        out.path());
    ASSERT_EQ(trace["generated"].size(), 1u);
    const auto& g = trace["generated"][0];
    EXPECT_EQ(g["stop"], "quiet") << g.dump();
    EXPECT_NE(g["detail"].get<std::string>().find("3 generated steps of fuzzer in a row added nothing"),
              std::string::npos)
        << g.dump();
    // The last three generated steps added nothing.
    const auto& steps = trace["steps"];
    ASSERT_GE(steps.size(), 5u);
    for (std::size_t i = steps.size() - 4; i < steps.size() - 1; ++i)
      EXPECT_EQ(steps[i]["new_syscalls"].size(), 0u) << steps[i].dump();
  }
}

}  // namespace
}  // namespace sandmine::test
