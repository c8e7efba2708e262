// sandmine run against the kernel: a mined profile really denies, with EPERM,
// exactly what it does not list (on every ABI), complain mode lets it all
// through, and every call outside the profile is named with exact counts.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "support/trace_run.h"
#include "syscalls/syscalls.h"

namespace sandmine::test {

namespace {

using nlohmann::json;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// prog_probe's output: name -> errno of its last call.
std::map<std::string, int> errnos_of(const std::string& out) {
  std::map<std::string, int> m;
  for (const auto& line : lines_of(out)) {
    auto space = line.find(' ');
    if (space == std::string::npos) continue;
    m[line.substr(0, space)] = std::stoi(line.substr(space + 1));
  }
  return m;
}

std::vector<std::string> probe_table() {
  Outcome r = run({prog("probe"), "--list"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return lines_of(r.out);
}

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::set<std::string> concat_set(std::set<std::string> a, const std::set<std::string>& b) {
  a.insert(b.begin(), b.end());
  return a;
}

const std::vector<std::string> kOtherAbis = {"i386_getpid", "i386_getppid", "x32_getpid"};

// The profile `sandmine trace` + `sandmine profile` mine from argv (input on stdin).
json mined_profile(const TempDir& dir, const std::vector<std::string>& argv, const std::string& input = "") {
  std::remove(dir.file("trace.json").c_str());
  std::remove(dir.file("mined.json").c_str());
  Outcome t = sandmine(concat({"trace", "-o", dir.file("trace.json"), "--"}, argv), input);
  EXPECT_TRUE(std::filesystem::exists(dir.file("trace.json"))) << t.err;
  Outcome p = sandmine({"profile", dir.file("trace.json"), "-o", dir.file("mined.json")});
  EXPECT_EQ(p.exit_code, 0) << p.err;
  if (!std::filesystem::exists(dir.file("mined.json"))) return json::object();
  return read_json(dir.file("mined.json"));
}

std::set<std::string> allowed_names(const json& profile) {
  std::set<std::string> out;
  for (const auto& rule : profile["syscalls"])
    for (const auto& n : rule["names"]) out.insert(n.get<std::string>());
  return out;
}

json without(json profile, const std::string& name) {
  auto& names = profile["syscalls"][0]["names"];
  auto it = std::find(names.begin(), names.end(), name);
  EXPECT_NE(it, names.end()) << name << " is not in the mined profile";
  if (it != names.end()) names.erase(it);
  return profile;
}

json with(json profile, const std::string& name) {
  auto& names = profile["syscalls"][0]["names"];
  if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  return profile;
}

std::string write_profile(const TempDir& dir, const std::string& name, const json& profile) {
  write_text(dir.file(name), profile.dump(2));
  return dir.file(name);
}

struct Seen {
  std::string process;
  std::uint64_t count = 0;
  std::uint64_t denied = 0;
  bool operator==(const Seen&) const = default;
};
using ViolationMap = std::map<ArchName, Seen>;

std::ostream& operator<<(std::ostream& os, const Seen& s) {
  return os << "{" << s.process << " x" << s.count << " denied " << s.denied << "}";
}

// result.json's violations by (arch, syscall); checks nr against libseccomp.
ViolationMap violations_of(const json& result) {
  ViolationMap out;
  for (const auto& v : result["violations"]) {
    ArchName key{v["arch"], v["syscall"]};
    EXPECT_EQ(v["nr"].get<std::int64_t>(), syscalls::number_of(key.first, key.second).value_or(-1))
        << v.dump();
    EXPECT_EQ(out.count(key), 0u) << "two rows for " << key.first << " " << key.second;
    out[key] = {v["process"], v["count"], v["denied"]};
  }
  return out;
}

// The "sandmine: violation: ..." lines of stderr.
std::set<std::string> violation_lines(const std::string& err) {
  std::set<std::string> out;
  for (const auto& line : lines_of(err))
    if (line.rfind("sandmine: violation: ", 0) == 0) out.insert(line);
  return out;
}

std::set<std::string> expected_lines(const ViolationMap& violations, const std::string& outcome) {
  std::set<std::string> out;
  for (const auto& [key, seen] : violations)
    out.insert("sandmine: violation: " + key.first + " " + key.second + " by \"" + seen.process + "\" x" +
               std::to_string(seen.count) + " (" + outcome + ")");
  return out;
}

class Run : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!is_root()) SKIP_OR_FAIL_IN_CI("sandmine run needs root for the eBPF recorder (CI runs as root)");
  }
  void TearDown() override {
    if (is_root()) {
      EXPECT_EQ(leftovers(), std::vector<std::string>{});
    }
  }

  // Half of prog_probe's table is in the profile mined from a run that made
  // those calls (with prog_probe's start-up and printing); the other half,
  // and the i386 and x32 calls, are not.
  void mine_half_of_the_probe() {
    table_ = probe_table();
    ASSERT_GE(table_.size(), 44u);
    for (std::size_t i = 0; i < table_.size(); ++i) (i % 2 ? outside_ : inside_).push_back(table_[i]);
    profile_ = mined_profile(dir_, concat({prog("probe")}, inside_));
    EXPECT_EQ(profile_["architectures"], json::array({"SCMP_ARCH_X86_64"}));
    std::set<std::string> names = allowed_names(profile_);
    for (const auto& n : inside_) EXPECT_TRUE(names.count(n)) << n;
    for (const auto& n : outside_) EXPECT_FALSE(names.count(n)) << n << " is made at start-up or printing";
    profile_path_ = write_profile(dir_, "probe.json", profile_);
    probe_argv_ = concat(concat({prog("probe"), "-n", "3"}, table_), kOtherAbis);
    // The oracle: the same calls without any filter. None fails with EPERM.
    Outcome direct = run(probe_argv_);
    ASSERT_EQ(direct.exit_code, 0) << direct.err;
    direct_out_ = direct.out;
    direct_ = errnos_of(direct.out);
    ASSERT_EQ(direct_.size(), table_.size() + kOtherAbis.size());
    for (const auto& [name, err] : direct_) EXPECT_NE(err, 1) << name << " fails with EPERM without a filter";
    EXPECT_EQ(direct_["i386_getpid"], 0);
    EXPECT_EQ(direct_["x32_getpid"], ENOSYS);  // no X32_ABI on this kernel (ENVIRONMENT.md)
  }

  // Every call outside the profile, 3 times each, by prog_probe.
  ViolationMap probe_violations(std::uint64_t denied) const {
    ViolationMap out;
    for (const auto& n : outside_) out[{"x86_64", n}] = {"prog_probe", 3, denied};
    out[{"x86", "getpid"}] = {"prog_probe", 3, denied};
    out[{"x86", "getppid"}] = {"prog_probe", 3, denied};
    out[{"x32", "getpid"}] = {"prog_probe", 3, denied};
    return out;
  }

  TempDir dir_;
  std::vector<std::string> table_, inside_, outside_, probe_argv_;
  json profile_;
  std::string profile_path_, direct_out_;
  std::map<std::string, int> direct_;
};

TEST_F(Run, EnforceDeniesEverySyscallOutsideTheProfileWithEperm) {
  mine_half_of_the_probe();
  ASSERT_GE(outside_.size(), 20u);
  Outcome r = sandmine(
      concat({"run", "--profile", profile_path_, "-o", dir_.file("result.json"), "--"}, probe_argv_));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto got = errnos_of(r.out);
  ASSERT_EQ(got.size(), direct_.size()) << r.out;
  for (const auto& n : outside_) EXPECT_EQ(got[n], EPERM) << n;
  for (const auto& n : inside_) EXPECT_EQ(got[n], direct_[n]) << n << " is in the profile";
  // Other ABIs than the profile's get its default action too.
  EXPECT_EQ(got["i386_getpid"], EPERM);
  EXPECT_EQ(got["i386_getppid"], EPERM);
  EXPECT_EQ(got["x32_getpid"], EPERM);

  json result = read_json(dir_.file("result.json"));
  EXPECT_EQ(result["profile"], profile_path_);
  EXPECT_EQ(result["mode"], "enforce");
  EXPECT_EQ(result["command"], json(probe_argv_));
  EXPECT_EQ(result["exit"], 0);
  ViolationMap expected = probe_violations(3);
  EXPECT_EQ(violations_of(result), expected);
  EXPECT_EQ(violation_lines(r.err), expected_lines(expected, "denied"));
  for (const auto& line : lines_of(r.err)) EXPECT_EQ(line.rfind("sandmine: ", 0), 0u) << line;
}

TEST_F(Run, ComplainModeLetsEveryCallThroughAndNamesTheSameViolations) {
  mine_half_of_the_probe();
  Outcome r = sandmine(
      concat({"run", "--profile", profile_path_, "--mode", "complain", "-o", dir_.file("result.json"), "--"},
             probe_argv_));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, direct_out_);  // every call did what it does without a filter
  json result = read_json(dir_.file("result.json"));
  EXPECT_EQ(result["mode"], "complain");
  ViolationMap expected = probe_violations(0);
  EXPECT_EQ(violations_of(result), expected);
  EXPECT_EQ(violation_lines(r.err), expected_lines(expected, "logged"));
}

TEST_F(Run, ComplainModeCountsCallsThatNeverReturn) {
  json profile = mined_profile(dir_, {prog("probe"), "uname"});
  std::string path = write_profile(dir_, "no-exit-group.json", without(profile, "exit_group"));
  Outcome r = sandmine({"run", "--profile", path, "--mode", "complain", "-o", dir_.file("result.json"), "--",
                        prog("probe"), "uname"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "uname 0\n");
  ViolationMap expected{{{"x86_64", "exit_group"}, {"?", 1, 0}}};
  EXPECT_EQ(violations_of(read_json(dir_.file("result.json"))), expected);
  EXPECT_EQ(violation_lines(r.err), expected_lines(expected, "logged"));
}

TEST_F(Run, ASyscallRemovedFromAWorkingProfileIsDeniedAndNamed) {
  json profile = mined_profile(dir_, {prog("probe"), "-n", "5", "sysinfo", "uname"});
  std::string whole = write_profile(dir_, "whole.json", profile);
  Outcome ok = sandmine({"run", "--profile", whole, "-o", dir_.file("ok.json"), "--", prog("probe"), "-n",
                         "5", "sysinfo", "uname"});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, "sysinfo 0\nuname 0\n");
  EXPECT_EQ(violations_of(read_json(dir_.file("ok.json"))), ViolationMap{});
  EXPECT_NE(ok.err.find("no violations"), std::string::npos) << ok.err;

  std::string less = write_profile(dir_, "less.json", without(profile, "uname"));
  Outcome r = sandmine({"run", "--profile", less, "-o", dir_.file("result.json"), "--", prog("probe"), "-n",
                        "5", "sysinfo", "uname"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "sysinfo 0\nuname 1\n");
  ViolationMap expected{{{"x86_64", "uname"}, {"prog_probe", 5, 5}}};
  EXPECT_EQ(violations_of(read_json(dir_.file("result.json"))), expected);
  EXPECT_EQ(violation_lines(r.err), expected_lines(expected, "denied"));
}

TEST_F(Run, ArgumentRulesDecideInTheKernelAndAllowedCallsAreNoViolations) {
  // prog_probe calls personality(0xffffffff).
  json profile = mined_profile(dir_, {prog("probe"), "uname"});
  auto with_rule = [&](std::uint64_t value) {
    json p = profile;
    p["syscalls"].push_back({{"names", {"personality"}},
                             {"action", "SCMP_ACT_ALLOW"},
                             {"args", {{{"index", 0}, {"value", value}, {"op", "SCMP_CMP_EQ"}}}}});
    return p;
  };
  std::string matching = write_profile(dir_, "matching.json", with_rule(0xffffffffULL));
  Outcome allowed = sandmine({"run", "--profile", matching, "-o", dir_.file("allowed.json"), "--",
                              prog("probe"), "personality", "uname"});
  ASSERT_EQ(allowed.exit_code, 0) << allowed.err;
  EXPECT_EQ(allowed.out, "personality 0\nuname 0\n");
  EXPECT_EQ(violations_of(read_json(dir_.file("allowed.json"))), ViolationMap{});

  std::string other = write_profile(dir_, "other.json", with_rule(0));
  Outcome denied = sandmine({"run", "--profile", other, "-o", dir_.file("denied.json"), "--", prog("probe"),
                             "-n", "2", "personality", "uname"});
  ASSERT_EQ(denied.exit_code, 0) << denied.err;
  EXPECT_EQ(denied.out, "personality 1\nuname 0\n");
  ViolationMap expected{{{"x86_64", "personality"}, {"prog_probe", 2, 2}}};
  auto doc = read_json(dir_.file("denied.json"));
  EXPECT_EQ(violations_of(doc), expected);
  // Named with the value the rule did not allow.
  ASSERT_EQ(doc["violations"].size(), 1u);
  EXPECT_EQ(doc["violations"][0]["call"], "personality(0xffffffff)");
  EXPECT_EQ(violation_lines(denied.err),
            std::set<std::string>{
                "sandmine: violation: x86_64 personality(0xffffffff) by \"prog_probe\" x2 (denied)"});
}

TEST_F(Run, TheFilterIsInheritedByThreadsForksAndExecs) {
  std::vector<std::string> argv{prog("rare_syscalls"), prog("exec_target")};
  // pthread_join makes futex only when the thread is still running (README.md
  // in tests/programs): a recording sees it by chance, so it is added.
  json profile = with(mined_profile(dir_, argv), "futex");
  Outcome ok = sandmine(concat(
      {"run", "--profile", write_profile(dir_, "whole.json", profile), "-o", dir_.file("ok.json"), "--"},
      argv));
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(violations_of(read_json(dir_.file("ok.json"))), ViolationMap{});

  // Denied in the grandchild after fork, fork and execve: its failure makes
  // every parent exit 1. The programs never write unless they fail, so the
  // mined profile has no write: each failure message is denied too (one by
  // the grandchild, one each by the child and the main process).
  Outcome exec =
      sandmine(concat({"run", "--profile",
                       write_profile(dir_, "no-prio-max.json", without(profile, "sched_get_priority_max")),
                       "-o", dir_.file("exec.json"), "--"},
                      argv));
  EXPECT_EQ(exec.exit_code, 1) << exec.err;
  EXPECT_EQ(exec.err.find("Operation not permitted"), std::string::npos) << exec.err;
  ViolationMap in_exec{{{"x86_64", "sched_get_priority_max"}, {"prog_exec_targe", 1, 1}}};
  EXPECT_EQ(violation_lines(exec.err),
            concat_set(expected_lines(in_exec, "denied"),
                       {"sandmine: violation: x86_64 write by \"prog_exec_targe\" x1 (denied)",
                        "sandmine: violation: x86_64 write by \"prog_rare_sysca\" x2 (denied)"}));
  json exec_result = read_json(dir_.file("exec.json"));
  EXPECT_EQ(exec_result["exit"], 1);
  std::multiset<std::string> rows;
  for (const auto& v : exec_result["violations"])
    rows.insert(v["syscall"].get<std::string>() + " " + v["process"].get<std::string>() + " " +
                std::to_string(v["count"].get<int>()) + " " + std::to_string(v["denied"].get<int>()));
  EXPECT_EQ(rows, (std::multiset<std::string>{"sched_get_priority_max prog_exec_targe 1 1",
                                              "write prog_exec_targe 1 1", "write prog_rare_sysca 2 2"}));

  // Denied in the second thread: its first getpriority fails, its message is
  // denied, and it ends the process.
  Outcome thread = sandmine(
      concat({"run", "--profile", write_profile(dir_, "no-prio.json", without(profile, "getpriority")), "-o",
              dir_.file("thread.json"), "--"},
             argv));
  EXPECT_EQ(thread.exit_code, 1) << thread.err;
  ViolationMap in_thread{{{"x86_64", "getpriority"}, {"prog_rare_sysca", 1, 1}},
                         {{"x86_64", "write"}, {"prog_rare_sysca", 1, 1}}};
  EXPECT_EQ(violations_of(read_json(dir_.file("thread.json"))), in_thread);
  EXPECT_EQ(violation_lines(thread.err), expected_lines(in_thread, "denied"));
}

TEST_F(Run, StdioAndExitStatusPassThrough) {
  json cat = mined_profile(dir_, {"/bin/cat"}, "mined\n");
  Outcome piped = sandmine({"run", "--profile", write_profile(dir_, "cat.json", cat), "--", "/bin/cat"},
                           "through the sandbox\n");
  EXPECT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(piped.out, "through the sandbox\n");

  std::vector<std::string> sh{"/bin/sh", "-c", "echo out; echo err >&2; exit 3"};
  std::string sh_profile = write_profile(dir_, "sh.json", mined_profile(dir_, sh));
  Outcome r = sandmine(concat({"run", "--profile", sh_profile, "--"}, sh));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(r.out, "out\n");
  std::vector<std::string> err = lines_of(r.err);
  EXPECT_EQ(std::count(err.begin(), err.end(), "err"), 1) << r.err;
  for (const auto& line : err) {
    if (line != "err") {
      EXPECT_EQ(line.rfind("sandmine: ", 0), 0u) << line;
    }
  }
  EXPECT_TRUE(violation_lines(r.err).empty()) << r.err;

  std::vector<std::string> killed{prog("exit_code"), "0", "TERM"};
  Outcome k =
      sandmine(concat({"run", "--profile", write_profile(dir_, "term.json", mined_profile(dir_, killed)),
                       "-o", dir_.file("term-result.json"), "--"},
                      killed));
  EXPECT_EQ(k.exit_code, 128 + SIGTERM) << k.err;
  EXPECT_EQ(read_json(dir_.file("term-result.json"))["exit"], 128 + SIGTERM);
}

TEST_F(Run, ViolationsFailTheRunOnlyWhenAsked) {
  json profile = mined_profile(dir_, {prog("probe"), "sysinfo"});
  std::string less = write_profile(dir_, "less.json", without(profile, "sysinfo"));
  Outcome reported = sandmine({"run", "--profile", less, "--", prog("probe"), "sysinfo"});
  EXPECT_EQ(reported.exit_code, 0) << reported.err;
  EXPECT_EQ(reported.out, "sysinfo 1\n");
  Outcome failed =
      sandmine({"run", "--profile", less, "--fail-on-violation", "--", prog("probe"), "sysinfo"});
  EXPECT_EQ(failed.exit_code, 1) << failed.err;
  EXPECT_EQ(violation_lines(failed.err),
            (std::set<std::string>{"sandmine: violation: x86_64 sysinfo by \"prog_probe\" x1 (denied)"}));
  // Without a violation --fail-on-violation keeps the command's status.
  std::string whole = write_profile(dir_, "whole.json", profile);
  Outcome clean =
      sandmine({"run", "--profile", whole, "--fail-on-violation", "--", prog("probe"), "sysinfo"});
  EXPECT_EQ(clean.exit_code, 0) << clean.err;
}

// Bad input is rejected before the recorder is loaded: no root needed.
TEST(RunBadInput, ExitsTwoWithOneLine) {
  TempDir dir;
  std::string ok = dir.file("ok.json");
  write_text(ok, R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
                     "syscalls": [{"names": ["execve", "exit_group"], "action": "SCMP_ACT_ALLOW"}]})");
  expect_one_line_error(
      sandmine({"run", "--profile", dir.file("missing.json"), "--", "/bin/true"}),
      "profile " + dir.file("missing.json") + ": cannot read it: No such file or directory");
  write_text(dir.file("broken.json"), "{\"defaultAction\": \"SCMP_ACT_ERRNO\",\n \"syscalls\": [}\n");
  expect_one_line_error(sandmine({"run", "--profile", dir.file("broken.json"), "--", "/bin/true"}),
                        "profile " + dir.file("broken.json") + ": not valid JSON: parse error at line 2");
  write_text(dir.file("typo.json"),
             R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
                                       "syscalls": [{"names": ["execve", "reed"], "action": "SCMP_ACT_ALLOW"}]})");
  expect_one_line_error(
      sandmine({"run", "--profile", dir.file("typo.json"), "--", "/bin/true"}),
      "profile " + dir.file("typo.json") + ": syscalls[0].names[1]: unknown syscall \"reed\" on x86_64");
  write_text(dir.file("action.json"), R"({"defaultAction": "SCMP_ACT_DENY"})");
  expect_one_line_error(sandmine({"run", "--profile", dir.file("action.json"), "--", "/bin/true"}),
                        "defaultAction: unknown action \"SCMP_ACT_DENY\"");
  write_text(dir.file("no-exec.json"), R"({"defaultAction": "SCMP_ACT_ERRNO",
                                           "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]})");
  expect_one_line_error(sandmine({"run", "--profile", dir.file("no-exec.json"), "--", "/bin/true"}),
                        "does not allow execve");
  expect_one_line_error(sandmine({"run", "--profile", ok}), "no command given");
  expect_one_line_error(sandmine({"run", "--profile", ok, "--"}), "no command given");
  expect_one_line_error(sandmine({"run", "--", "/bin/true"}), "--profile is required");
  expect_one_line_error(sandmine({"run", "--profile", ok, "--mode", "strict", "--", "/bin/true"}),
                        "--mode: strict not in {enforce,complain}");
  expect_one_line_error(sandmine({"run", "--profile", ok, "--", "no-such-command-sandmine"}),
                        "command not found: no-such-command-sandmine");
}

}  // namespace

}  // namespace sandmine::test
