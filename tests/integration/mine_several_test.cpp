// sandmine mine with several specs: each into DIR/<name>, one index row per
// container, a failing spec does not stop the others, the exit code is the
// worst; sandmine report writes the same pages again from the files.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <iterator>

#include <filesystem>
#include <regex>
#include <set>

#include "support/engines.h"
#include "support/run.h"
#include "support/trace_run.h"
#include "sys/files.h"

namespace sandmine::test {

namespace fs = std::filesystem;

class MineSeveral : public RuncTest {
 protected:
  TempDir cache_;
};

// A busybox container sleeping, driven by exec steps.
std::string sleeper_spec(const std::string& name, const std::string& explore, const std::string& validate) {
  return "name: " + name +
         "\nimage:\n  busybox: {}\ncommand: [/bin/busybox, sleep, \"30\"]\n"
         "stop: {signal: KILL, timeout: 1s}\nexplore:\n" +
         explore + (validate.empty() ? "" : "validate:\n" + validate);
}

// The rows of index.html: each row's first cell (with its link, if any) and its status.
std::vector<std::pair<std::string, std::string>> index_rows(const std::string& html) {
  std::vector<std::pair<std::string, std::string>> rows;
  std::regex row(R"re(<tr><td>(.*?)</td>.*?<td class="(?:ok|bad)">(.*?)</td></tr>)re");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), row); it != std::sregex_iterator(); ++it)
    rows.emplace_back((*it)[1], (*it)[2]);
  return rows;
}

TEST_F(MineSeveral, EachIntoItsFolderAnIndexRowEachAndTheWorstExitCode) {
  TempDir dir;
  write_text(dir.file("broken.yaml"), sleeper_spec("broken", "  - name: broken\n    run: exit 3\n", ""));
  // Explore never makes mkdir; the validate step does: the held-out check fails.
  write_text(dir.file("leaky.yaml"),
             sleeper_spec("leaky", "  - name: ls\n    exec: [/bin/busybox, ls, /]\n",
                          "  - name: mkdir\n    exec: [/bin/busybox, mkdir, /tmp/made]\n"));
  const std::string out = dir.file("out");
  Outcome r =
      sandmine({"mine", dir.file("missing.yaml"), dir.file("broken.yaml"), dir.file("leaky.yaml"),
                std::string(EXAMPLES_DIR) + "/busybox-httpd.yaml", "-o", out, "--cache", cache_.path()});
  EXPECT_EQ(r.exit_code, 2) << "the worst of 2, 2, 1, 0\n" << r.err;
  for (const char* line :
       {"sandmine: [spec 1/4] missing", "sandmine: missing failed; going on with the other specs",
        "sandmine: [spec 2/4] broken", "sandmine: broken failed; going on with the other specs",
        "sandmine: [spec 4/4] busybox-httpd", "sandmine: mined busybox-httpd in ",
        "sandmine: mined 4 of 4 specs: 1 ok, 1 failed the held-out check, 2 failed; wrote "})
    EXPECT_NE(r.err.find(line), std::string::npos) << line << "\n" << r.err;

  for (const char* f : {"profile.json", "trace.json", "summary.md", "check.json", "report.html"})
    EXPECT_TRUE(fs::exists(out + "/busybox-httpd/" + f)) << f;
  EXPECT_TRUE(fs::exists(out + "/leaky/report.html"));
  EXPECT_TRUE(fs::exists(out + "/broken/report.html")) << "a failed run's report shows its partial trace";
  EXPECT_FALSE(fs::exists(out + "/broken/profile.json"));
  EXPECT_FALSE(fs::exists(out + "/missing"));

  std::string index = *sys::read_file(out + "/index.html");
  auto rows = index_rows(index);
  ASSERT_EQ(rows.size(), 4u) << index;
  EXPECT_EQ(rows[0].first, "missing");
  EXPECT_EQ(rows[0].second.rfind("cannot read spec " + dir.file("missing.yaml"), 0), 0u) << rows[0].second;
  EXPECT_EQ(rows[1].first, R"(<a href="broken/report.html">broken</a>)");
  EXPECT_NE(rows[1].second.find("step broken: exit 3 (expected 0)"), std::string::npos) << rows[1].second;
  EXPECT_EQ(rows[2].first, R"(<a href="leaky/report.html">leaky</a>)");
  EXPECT_EQ(rows[2].second.rfind("held-out check failed: ", 0), 0u) << rows[2].second;
  EXPECT_EQ(rows[3].first, R"(<a href="busybox-httpd/report.html">busybox-httpd</a>)");
  EXPECT_EQ(rows[3].second, "ok");
  auto violations = read_json(out + "/leaky/check.json")["violations"];
  bool mkdir = false;
  for (const auto& v : violations) mkdir |= v["syscall"] == "mkdir";
  EXPECT_TRUE(mkdir) << violations.dump();

  // sandmine report writes the same reports again from the files, and the index.
  std::string httpd_report = *sys::read_file(out + "/busybox-httpd/report.html");
  std::string broken_report = *sys::read_file(out + "/broken/report.html");
  fs::remove(out + "/busybox-httpd/report.html");
  fs::remove(out + "/broken/report.html");
  fs::remove(out + "/index.html");
  Outcome again = sandmine({"report", out});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(*sys::read_file(out + "/busybox-httpd/report.html"), httpd_report);
  EXPECT_EQ(*sys::read_file(out + "/broken/report.html"), broken_report);
  rows = index_rows(*sys::read_file(out + "/index.html"));
  ASSERT_EQ(rows.size(), 3u) << "missing wrote nothing to find";
  EXPECT_EQ(rows[0].first, R"(<a href="broken/report.html">broken</a>)");
  EXPECT_EQ(rows[0].second.rfind("mining did not complete: a step failed: ", 0), 0u) << rows[0].second;
  EXPECT_EQ(rows[1].first, R"(<a href="busybox-httpd/report.html">busybox-httpd</a>)");
  EXPECT_EQ(rows[1].second, "ok");
  EXPECT_EQ(rows[2].second.rfind("held-out check failed: ", 0), 0u);
}

TEST_F(MineSeveral, HeldOutFailureAloneExitsOne) {
  TempDir dir;
  write_text(dir.file("leaky.yaml"),
             sleeper_spec("leaky", "  - name: ls\n    exec: [/bin/busybox, ls, /]\n",
                          "  - name: mkdir\n    exec: [/bin/busybox, mkdir, /tmp/made]\n"));
  Outcome r = sandmine({"mine", dir.file("leaky.yaml"), std::string(EXAMPLES_DIR) + "/busybox-httpd.yaml",
                        "-o", dir.file("out"), "--cache", cache_.path()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(index_rows(*sys::read_file(dir.file("out/index.html"))).size(), 2u);
}

// Each allow rule of a profile as (action, arguments, name): the whole
// allow-list, argument conditions included.
std::set<std::string> rules_of(const std::string& path) {
  std::set<std::string> out;
  const auto doc = read_json(path);  // not in the loop's range: it would die before the loop
  for (const auto& rule : doc["syscalls"])
    for (const auto& name : rule["names"])
      out.insert(rule["action"].get<std::string>() + " " +
                 rule.value("args", nlohmann::json::array()).dump() + " " + name.get<std::string>());
  return out;
}

// -j 3 on one shared recorder gives each spec the profile it gets mined
// alone, up to what a server's own timing changes, and never a call only
// another spec makes: the busybox example and two Debian examples (their images from
// the shared cache), which make different calls, so one run's calls counted
// in another's target would show.
TEST_F(MineSeveral, ConcurrentRunsMineWhatSequentialRunsMine) {
  TempDir dir;
  const std::vector<std::string> names = {"busybox-httpd", "redis", "memcached"};
  std::vector<std::string> specs;
  for (const auto& n : names) specs.push_back(std::string(EXAMPLES_DIR) + "/" + n + ".yaml");
  auto mine = [&](const std::string& jobs, const std::string& out) {
    std::vector<std::string> args = {"mine"};
    args.insert(args.end(), specs.begin(), specs.end());
    // Names only: the held-out check watches names, so under argument rules a
    // conditionally allowed call counts as outside, and how often is timing.
    args.insert(args.end(), {"--args", "off", "-j", jobs, "-o", dir.file(out)});
    return sandmine(args);
  };
  Outcome one = mine("1", "one");
  ASSERT_LT(one.exit_code, 2) << one.err;
  Outcome three = mine("3", "three");
  // Mined and checked, each (a held-out check may pass in one run and see a
  // call its server makes only now and then in the other: compared below).
  ASSERT_LT(three.exit_code, 2) << three.err;
  EXPECT_NE(three.err.find("sandmine: mining 3 specs, 3 at once, on one recorder\n"), std::string::npos)
      << three.err;
  for (const auto& n : names)
    EXPECT_NE(three.err.find("sandmine: [" + n + "] mining " + n + " with runc"), std::string::npos) << n;
  std::vector<std::set<std::string>> profiles;
  for (const auto& n : names) {
    auto alone = rules_of(dir.file("one/" + n + "/profile.json"));
    auto together = rules_of(dir.file("three/" + n + "/profile.json"));
    // Two runs of a server differ by what its background threads happen to
    // do in time (a rule or two); a call of another container counted in
    // this one's target would add what only that container makes.
    std::vector<std::string> differ;
    std::set_symmetric_difference(together.begin(), together.end(), alone.begin(), alone.end(),
                                  std::back_inserter(differ));
    EXPECT_LE(differ.size(), 3u) << n << ": " << ::testing::PrintToString(differ);
    for (const auto& other : names) {
      if (other == n) continue;
      for (const auto& rule : rules_of(dir.file("one/" + other + "/profile.json"))) {
        if (!alone.count(rule)) {
          EXPECT_FALSE(together.count(rule)) << n << " got " << other << "'s " << rule;
        }
      }
    }
    profiles.push_back(alone);
    // The calls each held-out check saw outside its profile.
    auto outside = [&](const std::string& run) {
      std::set<std::string> names;
      const auto check = read_json(dir.file(run + "/" + n + "/check.json"));
      for (const auto& v : check["violations"]) names.insert(v["syscall"].get<std::string>());
      return names;
    };
    // The same up to what a server's own timing changes: at most two names.
    const auto out_one = outside("one"), out_three = outside("three");
    std::vector<std::string> outside_differ;
    std::set_symmetric_difference(out_one.begin(), out_one.end(), out_three.begin(), out_three.end(),
                                  std::back_inserter(outside_differ));
    EXPECT_LE(outside_differ.size(), 2u) << n << ": " << ::testing::PrintToString(outside_differ) << "\n"
                                         << one.err << three.err;
  }
  EXPECT_NE(profiles[0], profiles[1]);
  EXPECT_NE(profiles[1], profiles[2]);
  auto rows = index_rows(*sys::read_file(dir.file("three/index.html")));
  ASSERT_EQ(rows.size(), 3u);
  for (size_t i = 0; i < names.size(); ++i)
    EXPECT_EQ(rows[i].first, "<a href=\"" + names[i] + "/report.html\">" + names[i] + "</a>")
        << "the specs' order";
  EXPECT_EQ(leftovers(), std::vector<std::string>{});
}

// Ctrl-C while two of three specs are being mined at once stops both
// containers, starts no third, saves each partial trace and leaves nothing
// behind (RuncTest's TearDown checks containers, mounts, cgroups, BPF and
// runc state).
TEST_F(MineSeveral, InterruptStopsEveryRunAndStartsNoMore) {
  TempDir dir;
  std::vector<std::string> argv{SANDMINE_BIN, "mine"};
  for (const char* n : {"a", "b", "c"}) {
    write_text(dir.file(std::string(n) + ".yaml"), sleeper_spec(n, "  - name: wait\n    sleep: 60s\n", ""));
    argv.push_back(dir.file(std::string(n) + ".yaml"));
  }
  argv.insert(argv.end(), {"-j", "2", "-o", dir.file("out"), "--cache", cache_.path()});
  Background sm(argv);
  ASSERT_TRUE(sm.wait_for_output("sandmine: [a] [1/3] start start: ok", 60'000));
  ASSERT_TRUE(sm.wait_for_output("sandmine: [b] [1/3] start start: ok", 60'000));
  ::kill(sm.pid(), SIGINT);
  Outcome r = sm.wait();
  EXPECT_EQ(r.exit_code, 2) << r.err;
  const std::string last = r.err.substr(r.err.rfind("sandmine:", r.err.size() - 2));
  EXPECT_EQ(last, "sandmine: interrupted by signal 2: 2 of 3 specs mined; index in " + dir.file("out") +
                      "/index.html\n")
      << r.err;
  EXPECT_EQ(r.err.find("[spec 3/3]"), std::string::npos) << "no spec starts after Ctrl-C\n" << r.err;
  for (const char* n : {"a", "b"}) {
    const auto trace = read_json(dir.file(std::string("out/") + n + "/trace.json"));
    EXPECT_FALSE(trace["syscalls"].empty()) << n << ": the partial trace holds what the start made";
    EXPECT_FALSE(fs::exists(dir.file(std::string("out/") + n + "/profile.json"))) << n;
  }
  EXPECT_FALSE(fs::exists(dir.file("out/c")));
  auto rows = index_rows(*sys::read_file(dir.file("out/index.html")));
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& row : rows)
    EXPECT_NE(row.second.find("interrupted by signal 2"), std::string::npos) << row.second;
}

TEST(MineSeveralInput, TwoSpecsOfOneNameAreRefusedBeforeAnything) {
  TempDir dir;
  write_text(dir.file("a.yaml"), sleeper_spec("same", "  - run: \"true\"\n", ""));
  write_text(dir.file("b.yaml"), sleeper_spec("same", "  - run: \"true\"\n", ""));
  Outcome r = sandmine({"mine", dir.file("a.yaml"), dir.file("b.yaml"), "-o", dir.file("out")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("sandmine: two specs are named same (each is mined into " + dir.file("out") +
                       "/<name>): rename one"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(dir.file("out")));
}

TEST(ReportCommand, BadFoldersAreOneClearLine) {
  TempDir dir;
  Outcome none = sandmine({"report", dir.file("nope")});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("sandmine: " + dir.file("nope") + ": not a directory"), std::string::npos)
      << none.err;
  Outcome empty = sandmine({"report", dir.path()});
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_NE(empty.err.find("no trace.json in it or in its subfolders"), std::string::npos) << empty.err;
  write_text(dir.file("trace.json"),
             "{\"version\": 1, \"backend\": \"ebpf\", \"syscalls\": [{\"arch\": 3}]}");
  Outcome bad = sandmine({"report", dir.path()});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find(dir.file("trace.json") + ": syscalls[0].arch: expected a string"), std::string::npos)
      << bad.err;
}

}  // namespace sandmine::test
