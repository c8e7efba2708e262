// Bad input across the commands and the files they read, all of it rejected
// before anything runs (no privilege needed): each gets exit 2 and exactly one
// line on stderr that names the file and the field, and nothing on stdout.
// The table is printed as it runs (input, exit status, the line).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "support/run.h"

namespace sandmine::test {
namespace {

// A valid trace.json, with `extra` spliced into its top-level object.
std::string trace_with(const std::string& extra, const std::string& syscalls = R"([{"arch": "x86_64",
    "name": "read", "nr": 0, "count": 3}])") {
  return R"({"version": 1, "backend": "ebpf", "target": {"kind": "command", "command": ["ls"]},
             "syscalls": )" +
         syscalls + (extra.empty() ? "" : ", " + extra) + "}";
}

// A valid spec with `line` added (or replacing the field it names).
std::string spec_with(const std::string& line) {
  return "name: t\nimage: {busybox: {}}\ncommand: [/bin/busybox, sleep, \"30\"]\n" + line +
         "\nexplore:\n  - run: \"true\"\nvalidate:\n  - run: \"true\"\nbench:\n  - run: \"true\"\n";
}

constexpr const char* kProfile =
    R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": ["read", "execve"], "action": "SCMP_ACT_ALLOW"}]})";

// A BadInput's content that makes its file a symbolic link to itself.
constexpr const char* kSymlinkLoop = "(a symlink to itself)";

struct BadInput {
  std::string what;               ///< for the table
  std::vector<std::string> args;  ///< "{dir}" is the test's folder
  std::string file;               ///< written to {dir}/<file> before the run ("" for none)
  std::string content;
  std::string expected;  ///< in the line; "{dir}" as above
};

std::string expand(std::string s, const std::string& dir) {
  for (std::size_t at; (at = s.find("{dir}")) != std::string::npos;) s.replace(at, 5, dir);
  return s;
}

std::vector<BadInput> bad_inputs() {
  const std::string profile_args = "{dir}/p.json";
  return {
      // trace.json, read by `profile`
      {"trace: wrongly typed step name",
       {"profile", "{dir}/t.json"},
       "t.json",
       trace_with(R"("steps": [{"name": 5}])"),
       "{dir}/t.json: steps[0].name: expected a string, got the number 5"},
      {"trace: negative count",
       {"profile", "{dir}/t.json"},
       "t.json",
       trace_with("", R"([{"arch": "x86_64", "name": "read", "nr": 0, "count": -1}])"),
       "{dir}/t.json: syscalls[0].count: expected a non-negative integer, got -1"},
      {"trace: fractional count",
       {"profile", "{dir}/t.json"},
       "t.json",
       trace_with("", R"([{"arch": "x86_64", "name": "read", "nr": 0, "count": 1.5}])"),
       "{dir}/t.json: syscalls[0].count: expected a non-negative integer, got the fractional number 1.5"},
      {"trace: exit code out of range",
       {"profile", "{dir}/t.json"},
       "t.json",
       R"({"version": 1, "backend": "ebpf", "target": {"exit_code": 300}, "syscalls": []})",
       "{dir}/t.json: target.exit_code: expected an integer from 0 to 255, got 300"},
      {"trace: unknown architecture, with a newline",
       {"profile", "{dir}/t.json"},
       "t.json",
       trace_with("", R"([{"arch": "x8\n6", "name": "read", "nr": 0, "count": 1}])"),
       "{dir}/t.json: syscalls[0].arch: unknown architecture \"x8\\n6\""},
      {"trace: unknown syscall",
       {"profile", "{dir}/t.json"},
       "t.json",
       trace_with("", R"([{"arch": "x86_64", "name": "frobnicate", "nr": 0, "count": 1}])"),
       "{dir}/t.json: syscalls[0].name: no syscall \"frobnicate\" on x86_64"},
      {"trace: name and number disagree",
       {"profile", "{dir}/t.json"},
       "t.json",
       trace_with("", R"([{"arch": "x86_64", "name": "read", "nr": 1, "count": 1}])"),
       "{dir}/t.json: syscalls[0]: x86_64 read is number 0, not 1"},
      {"trace: coverage out of range",
       {"profile", "{dir}/t.json"},
       "t.json",
       trace_with(R"("coverage": {"steps": 2, "incidences": 4, "observed": 3, "q1": 1, "q2": 1,
                                  "sample_coverage": 2})"),
       "{dir}/t.json: coverage.sample_coverage: expected a number from 0 to 1, got 2"},
      {"trace: unsupported version",
       {"profile", "{dir}/t.json"},
       "t.json",
       R"({"version": 2, "backend": "ebpf", "syscalls": []})",
       "{dir}/t.json: version: unsupported version 2"},
      {"trace: not an object",
       {"profile", "{dir}/t.json"},
       "t.json",
       "[1, 2]",
       "{dir}/t.json: top level: expected a JSON object"},
      {"trace: not JSON",
       {"profile", "{dir}/t.json"},
       "t.json",
       "{\"version\": 1,\n  oops}",
       "{dir}/t.json: not valid JSON (parse error at line 2, column 3: syntax error while parsing object "
       "key"},
      {"trace: missing file",
       {"profile", "{dir}/none.json"},
       "",
       "",
       "cannot read trace {dir}/none.json: No such file or directory"},
      {"profile: unwritable output",
       {"profile", "{dir}/t.json", "-o", "{dir}/no/p.json"},
       "t.json",
       trace_with(""),
       "cannot write {dir}/no/p.json: No such file or directory"},
      // the files `report` reads beside the trace
      {"report: check.json passed not a boolean",
       {"report", "{dir}"},
       "check.json",
       R"({"spec": "t", "engine": "runc", "mode": "complain", "passed": "yes", "steps": [], "violations": []})",
       "{dir}/check.json: passed: expected true or false, got the string \"yes\""},
      {"report: check.json count a string",
       {"report", "{dir}"},
       "check.json",
       R"({"spec": "t", "engine": "runc", "mode": "complain", "passed": false, "steps": [],
           "violations": [{"arch": "x86_64", "nr": 83, "syscall": "mkdir", "count": "many",
                           "processes": ["sh"], "first_step": "start", "steps": {"start": 1}}]})",
       "{dir}/check.json: violations[0].count: expected a non-negative integer, got the string \"many\""},
      {"report: check.json unknown mode",
       {"report", "{dir}"},
       "check.json",
       R"({"spec": "t", "engine": "runc", "mode": "lenient", "passed": true, "steps": [], "violations": []})",
       "{dir}/check.json: mode: \"lenient\" is not one of complain, enforce"},
      {"report: bench.json unknown config",
       {"report", "{dir}"},
       "bench.json",
       R"({"results": [{"config": "fast"}]})",
       "{dir}/bench.json: results[0].config: \"fast\" is not one of unconfined, default, profile"},
      {"report: bench.json negative ratio",
       {"report", "{dir}"},
       "bench.json",
       R"({"results": [{"config": "profile", "median": 10, "ratio": -1}]})",
       "{dir}/bench.json: results[0].ratio: expected a number of at least 0, got -1"},
      {"report: bench.json rounds zero",
       {"report", "{dir}"},
       "bench.json",
       R"({"rounds": 0, "results": []})",
       "{dir}/bench.json: rounds: expected an integer of at least 1, got 0"},
      {"report: a folder holding a symlink loop",
       {"report", "{dir}/runs"},
       "runs/loop",
       kSymlinkLoop,
       "{dir}/runs: no trace.json in it or in its subfolders"},
      {"report: not a folder",
       {"report", "{dir}/t.json"},
       "",
       "",
       "{dir}/t.json: not a directory (give the output folder of sandmine mine)"},
      // profiles, read by explain, diff, merge, export, check, bench, run
      {"explain: unknown action",
       {"explain", profile_args},
       "p.json",
       R"({"defaultAction": "SCMP_ACT_MAYBE"})",
       "profile {dir}/p.json: defaultAction: unknown action \"SCMP_ACT_MAYBE\""},
      {"explain: argument index out of range",
       {"explain", profile_args},
       "p.json",
       R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
           "args": [{"index": 9, "value": 0, "op": "SCMP_CMP_EQ"}]}]})",
       "profile {dir}/p.json: syscalls[0].args[0].index: 9 is out of range (0 to 5)"},
      {"diff: errno out of range",
       {"diff", profile_args, profile_args},
       "p.json",
       R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 99999})",
       "profile {dir}/p.json: defaultErrnoRet: errno 99999 is out of range (0 to 4095)"},
      {"merge: unknown syscall",
       {"merge", profile_args, profile_args},
       "p.json",
       R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["frob"], "action": "SCMP_ACT_ALLOW"}]})",
       "profile {dir}/p.json: syscalls[0].names[0]: unknown syscall \"frob\" on x86_64"},
      {"export: wrongly typed names",
       {"export", profile_args, "--format", "k8s"},
       "p.json",
       R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": "read", "action": "SCMP_ACT_ALLOW"}]})",
       "profile {dir}/p.json: syscalls[0].names: expected an array of strings, got the string \"read\""},
      {"diff: missing profile",
       {"diff", "{dir}/none.json", "{dir}/none.json"},
       "",
       "",
       "profile {dir}/none.json: cannot read it: No such file or directory"},
      // specs, read by check and bench before anything starts
      {"spec: uid above what runc takes",
       {"check", "{dir}/s.yaml", "--profile", "{dir}/s.yaml"},
       "s.yaml",
       spec_with("user: \"2147483648\""),
       "spec {dir}/s.yaml:4: user: expected \"uid\" or \"uid:gid\" in digits, each 0 to 2147483647"},
      {"spec: port out of range",
       {"check", "{dir}/s.yaml", "--profile", "{dir}/s.yaml"},
       "s.yaml",
       spec_with("ready: {tcp: 70000}"),
       "spec {dir}/s.yaml:4: ready.tcp: expected a port 1..65535"},
      {"spec: timeout over a day",
       {"bench", "{dir}/s.yaml", "--profile", "{dir}/s.yaml"},
       "s.yaml",
       spec_with("stop: {timeout: 1441m}"),
       "spec {dir}/s.yaml:4: stop.timeout: expected a duration of at most a day"},
      {"spec: signal out of range",
       {"bench", "{dir}/s.yaml", "--profile", "{dir}/s.yaml"},
       "s.yaml",
       spec_with("stop: {signal: 65}"),
       "spec {dir}/s.yaml:4: stop.signal: unknown signal \"65\""},
      {"spec: not UTF-8",
       {"check", "{dir}/s.yaml", "--profile", "{dir}/s.yaml"},
       "s.yaml",
       spec_with("workdir: \"/\xff\""),
       "spec {dir}/s.yaml:4: workdir: not valid UTF-8 text"},
      {"spec: YAML syntax",
       {"check", "{dir}/s.yaml", "--profile", "{dir}/s.yaml"},
       "s.yaml",
       "name: [t\n",
       "spec {dir}/s.yaml:2: YAML syntax error"},
      {"check: profile of the wrong type",
       {"check", "{dir}/s.yaml", "--profile", "{dir}/s.yaml"},
       "s.yaml",
       spec_with(""),
       "profile {dir}/s.yaml: not valid JSON"},
      // flags
      {"flag: bench rounds 0",
       {"bench", "{dir}/s.yaml", "--profile", "{dir}/p.json", "--rounds", "0"},
       "",
       "",
       "--rounds: Value 0 not in range 1 to 1000"},
      {"flag: soft limit above hard",
       {"check", "{dir}/s.yaml", "--profile", "{dir}/p.json", "--ulimit", "nofile=2048:1024"},
       "",
       "",
       "--ulimit nofile=2048:1024: the soft limit 2048 is above the hard limit 1024"},
      {"flag: unknown export format", {"export", "{dir}/p.json", "--format", "yaml"}, "", "", "yaml"},
      {"flag: missing --profile", {"check", "{dir}/s.yaml"}, "", "", "--profile is required"},
  };
}

TEST(BadInput, EveryOneIsExitTwoAndOneLineNamingFileAndField) {
  const auto cases = bad_inputs();
  ASSERT_GE(cases.size(), 25u);
  for (const auto& c : cases) {
    TempDir dir;
    // The files each command reads that are not under test: a valid trace, profile, spec.
    write_text(dir.file("trace.json"), trace_with(""));
    write_text(dir.file("p.json"), kProfile);
    write_text(dir.file("s.yaml"), spec_with(""));
    if (c.content == kSymlinkLoop) {
      std::filesystem::create_directories(std::filesystem::path(dir.file(c.file)).parent_path());
      std::filesystem::create_symlink(std::filesystem::path(c.file).filename(), dir.file(c.file));
    } else if (!c.file.empty()) {
      write_text(dir.file(c.file), c.content);
    }
    std::vector<std::string> args;
    for (const auto& a : c.args) args.push_back(expand(a, dir.path()));
    Outcome r = sandmine(args);
    std::string line = r.err.substr(0, r.err.find('\n'));
    std::printf("| %s | %d | %s |\n", c.what.c_str(), r.exit_code, line.c_str());
    SCOPED_TRACE(c.what);
    expect_one_line_error(r, expand(c.expected, dir.path()));
  }
}

// A trace with the wrongly typed step name used to abort `profile` (status
// 134) and `report` alike; the same check serves both.
TEST(BadInput, ReportReadsTracesAsStrictlyAsProfile) {
  TempDir dir;
  write_text(dir.file("trace.json"), trace_with(R"("steps": [{"name": 5}])"));
  expect_one_line_error(sandmine({"report", dir.path()}),
                        dir.file("trace.json") + ": steps[0].name: expected a string, got the number 5");
}

}  // namespace
}  // namespace sandmine::test
