// sandmine check with runc: the mined busybox profile passes in both modes; a
// profile missing a call the server makes fails in both, with the call named
// exactly (syscall, process, step), and the kernel's audit records agree.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "support/engines.h"
#include "support/trace_run.h"
#include "sys/files.h"
#include "util/sha256.h"

namespace sandmine::test {

namespace fs = std::filesystem;

class Check : public RuncTest {
 protected:
  static void SetUpTestSuite() {
    if (!is_root() || !fs::exists(kRunc)) return;
    mined_ = new TempDir;
    cache_ = new TempDir;
    // Names only: the check watches names, and the broken profile below edits the one name list.
    Outcome r =
        sandmine({"mine", httpd_spec(), "--args", "off", "-o", mined_->path(), "--cache", cache_->path()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // A profile without sendfile, which httpd calls for every file it serves.
    auto profile = read_json(mined_->file("profile.json"));
    auto& names = profile["syscalls"][0]["names"];
    names.erase(std::find(names.begin(), names.end(), "sendfile"));
    write_text(mined_->file("broken.json"), profile.dump());
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
  static std::string httpd_spec() { return std::string(EXAMPLES_DIR) + "/busybox-httpd.yaml"; }
  Outcome check(const std::string& profile, const std::string& mode, const std::string& out) {
    return sandmine(
        {"check", httpd_spec(), "--profile", profile, "--mode", mode, "-o", out, "--cache", cache_->path()});
  }
  static TempDir* mined_;
  static TempDir* cache_;
};

TempDir* Check::mined_ = nullptr;
TempDir* Check::cache_ = nullptr;

TEST_F(Check, TheMinedProfilePassesInBothModes) {
  for (const char* mode : {"complain", "enforce"}) {
    TempDir out;
    Outcome r = check(mined_->file("profile.json"), mode, out.file("result.json"));
    EXPECT_EQ(r.exit_code, 0) << mode << "\n" << r.err;
    auto result = read_json(out.file("result.json"));
    EXPECT_EQ(result["passed"], true);
    EXPECT_EQ(result["mode"], mode);
    EXPECT_EQ(result["violations"], nlohmann::json::array());
    EXPECT_EQ(result["differs_from_mined"], nlohmann::json::array()) << "the same spec, image and files";
    std::vector<std::string> steps;
    for (const auto& s : result["steps"]) {
      steps.push_back(s["name"]);
      EXPECT_EQ(s["ok"], true) << s.dump();
    }
    EXPECT_EQ(steps, (std::vector<std::string>{"start", "index-again", "cgi-again", "stop"}));
    if (std::string(mode) == "complain") {
      EXPECT_EQ(result["audit"]["expected"], 0);
      EXPECT_EQ(result["audit"]["records"], 0);
    } else {
      EXPECT_FALSE(result.contains("audit"));
    }
  }
}

// What the profile was mined from: the example's image (the one recipe in
// the cache), its command, no variables, and the two files busybox httpd
// reads at start, with the digests of the image's own copies.
TEST_F(Check, TheProfileSaysWhatItWasMinedFrom) {
  auto from = read_json(mined_->file("profile.json"))["sandmine"]["minedFrom"];
  std::vector<std::string> images;
  for (const auto& entry : fs::directory_iterator(cache_->path()))
    if (entry.is_directory()) images.push_back(entry.path().filename());
  ASSERT_EQ(images.size(), 1u);
  EXPECT_EQ(from["name"], "busybox-httpd");
  EXPECT_EQ(from["engine"], "runc");
  EXPECT_EQ(from["image"], images[0]);
  EXPECT_EQ(from["command"],
            nlohmann::json::array(
                {"/bin/sh", "-c",
                 "trap 'kill $pid; exit 0' TERM; /bin/busybox httpd -f -p 8080 -h /www & pid=$!; wait"}));
  EXPECT_EQ(from["env"], nlohmann::json::object());
  const std::string rootfs = cache_->path() + "/" + images[0] + "/rootfs";
  EXPECT_EQ(
      from["configFiles"],
      nlohmann::json({{"/etc/group", "sha256:" + sha256_hex(*sys::read_file(rootfs + "/etc/group"))},
                      {"/etc/passwd", "sha256:" + sha256_hex(*sys::read_file(rootfs + "/etc/passwd"))}}));
  EXPECT_FALSE(from.contains("configFilesNote")) << from.dump();

  Outcome explained = sandmine({"explain", mined_->file("profile.json")});
  EXPECT_EQ(explained.exit_code, 0) << explained.err;
  EXPECT_NE(explained.out.find("\n  image: " + images[0] + "\n"), std::string::npos) << explained.out;
  EXPECT_NE(explained.out.find("\n  configuration files read at start: 2\n    /etc/group sha256:"),
            std::string::npos)
      << explained.out;
}

// A profile that says it was mined from another image, with a variable the
// container does not have and another /etc/passwd: three warnings, the
// verdict unchanged.
TEST_F(Check, WarnsWhenTheContainerDiffersFromWhatTheProfileWasMinedFrom) {
  TempDir out;
  auto profile = read_json(mined_->file("profile.json"));
  auto& from = profile["sandmine"]["minedFrom"];
  const std::string image = from["image"];
  const std::string passwd = from["configFiles"]["/etc/passwd"];
  const std::string other(64, '0');
  from["image"] = "sha256:" + other;
  from["env"]["GONE"] = "sha256:" + other;
  from["configFiles"]["/etc/passwd"] = "sha256:" + other;
  write_text(out.file("other.json"), profile.dump());
  Outcome r = check(out.file("other.json"), "complain", out.file("result.json"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> lines = {
      "image " + image + " is not the one the profile was mined from (sha256:" + other + ")",
      "environment variable GONE is not set; it was when the profile was mined",
      "configuration file /etc/passwd has other content (" + passwd.substr(0, 19) +
          ") than when the profile was mined (sha256:000000000000)",
  };
  for (const auto& line : lines)
    EXPECT_NE(r.err.find("sandmine: warning: " + line + "\n"), std::string::npos) << r.err;
  EXPECT_EQ(read_json(out.file("result.json"))["differs_from_mined"], nlohmann::json(lines));
}

TEST_F(Check, AMissingCallIsNamedInBothModes) {
  for (const char* mode : {"complain", "enforce"}) {
    TempDir out;
    Outcome r = check(mined_->file("broken.json"), mode, out.file("result.json"));
    EXPECT_EQ(r.exit_code, 1) << mode << "\n" << r.err;
    EXPECT_NE(r.err.find("sandmine: violation: x86_64 sendfile x"), std::string::npos) << r.err;
    auto result = read_json(out.file("result.json"));
    EXPECT_EQ(result["passed"], false);
    ASSERT_EQ(result["violations"].size(), 1u) << result.dump(2);
    const auto& v = result["violations"][0];
    EXPECT_EQ(v["syscall"], "sendfile");
    EXPECT_EQ(v["arch"], "x86_64");
    EXPECT_EQ(v["nr"], 40);
    EXPECT_EQ(v["processes"], nlohmann::json::array({"busybox"}));
    // The ready probe fetches / during start (it reads the status line and
    // may be done before httpd sends the body); the held-out step fetches
    // index.html whole: sendfile is called there, and nowhere else. Allowed,
    // httpd calls it until it returns 0, and that last call (the file's end)
    // can run after curl has the whole body and the step has ended: on a
    // loaded machine it lands in the step after (cgi-again, which serves no
    // file).
    std::uint64_t sum = 0;
    for (const auto& [step, n] : v["steps"].items()) {
      EXPECT_TRUE(step == "start" || step == "index-again" ||
                  (mode == std::string("complain") && step == "cgi-again"))
          << step << " " << v.dump();
      sum += n.get<std::uint64_t>();
    }
    EXPECT_LE(v["steps"].value("cgi-again", 0), 1) << v.dump();
    EXPECT_EQ(v["count"].get<std::uint64_t>(), sum);
    EXPECT_GT(v["steps"].value("index-again", 0), 0) << v.dump();
    EXPECT_EQ(v["first_step"], v["steps"].contains("start") ? "start" : "index-again");
    if (std::string(mode) == "complain") {
      // The kernel logged each call, or the check says which it dropped.
      const auto& audit = result["audit"];
      EXPECT_EQ(audit["expected"], v["count"]);
      if (audit["lost"] == true)
        EXPECT_NE(audit["why"].get<std::string>().find("the kernel logged"), std::string::npos);
      else
        EXPECT_EQ(audit["records"], audit["expected"]);
    }
  }
}

TEST_F(Check, BadInputIsOneLineAndExitTwo) {
  TempDir dir;
  write_text(
      dir.file("unknown.json"),
      R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","no_such_call"],"action":"SCMP_ACT_ALLOW"}]})");
  write_text(dir.file("novalidate.yaml"),
             "name: x\nimage:\n  busybox: {}\ncommand: [/bin/true]\nexplore:\n  - {name: nap, sleep: 1s}\n");
  struct Case {
    std::vector<std::string> args;
    std::string message;
  } cases[] = {
      {{"check", httpd_spec(), "--profile", dir.file("missing.json")}, dir.file("missing.json")},
      {{"check", httpd_spec(), "--profile", dir.file("unknown.json")}, "no_such_call"},
      {{"check", dir.file("novalidate.yaml"), "--profile", mined_->file("profile.json")},
       "no validate steps"},
      {{"check", httpd_spec(), "--profile", mined_->file("profile.json"), "--mode", "audit"}, "--mode"},
  };
  for (const auto& c : cases) {
    Outcome r = sandmine(c.args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
  }
}

}  // namespace sandmine::test

namespace sandmine::test {

// A held-out step that does what no explore step did: mine reports the call
// and exits 1; --include-validate folds it in, says so in the profile and
// checks again.
TEST(MineCheck, HeldOutViolationsAreReportedAndFoldedInOnlyOnRequest) {
  if (!is_root()) SKIP_OR_FAIL_IN_CI("needs root (CI runs as root)");
  if (!fs::exists(kRunc)) SKIP_OR_FAIL_IN_CI("runc is not installed");
  TempDir dir, cache;
  auto spec = sys::read_file(std::string(EXAMPLES_DIR) + "/busybox-httpd.yaml");
  ASSERT_TRUE(spec.ok());
  std::string text = *spec;
  auto at = text.find("validate:\n");
  ASSERT_NE(at, std::string::npos);
  // mkdir: runc's set-up makes it unarmed, the server never.
  text.insert(at + 10, "  - name: make-dir\n    exec: [/bin/busybox, mkdir, /tmp/held-out]\n");
  write_text(dir.file("spec.yaml"), text);

  Outcome reported = sandmine({"mine", dir.file("spec.yaml"), "-o", dir.file("a"), "--cache", cache.path()});
  EXPECT_EQ(reported.exit_code, 1) << reported.err;
  EXPECT_NE(reported.err.find("held-out violation: x86_64 mkdir x1 by busybox (make-dir 1)"),
            std::string::npos)
      << reported.err;
  auto check = read_json(dir.file("a/check.json"));
  ASSERT_EQ(check["violations"].size(), 1u) << check.dump(2);
  EXPECT_EQ(check["violations"][0]["syscall"], "mkdir");
  EXPECT_EQ(check["violations"][0]["steps"], nlohmann::json({{"make-dir", 1}}));
  // The rules of a profile by their comments: the mined names have none.
  auto rules_by_comment = [](const nlohmann::json& profile) {
    std::map<std::string, nlohmann::json> out;
    for (const auto& rule : profile["syscalls"]) out[rule.value("comment", "")] = rule["names"];
    return out;
  };
  auto profile = read_json(dir.file("a/profile.json"));
  auto rules = rules_by_comment(profile);
  ASSERT_EQ(rules.size(), 2u) << profile.dump(2);  // mined, timing-dependent
  EXPECT_EQ(rules.begin()->first, "");
  EXPECT_EQ(rules.rbegin()->first.rfind("timing-dependent: ", 0), 0u);
  for (const auto& [comment, names] : rules)
    EXPECT_EQ(std::count(names.begin(), names.end(), "mkdir"), 0) << "folded in without being asked";
  EXPECT_NE(sys::read_file(dir.file("a/summary.md"))->find("| x86_64 | mkdir | 1 | busybox | make-dir 1 |"),
            std::string::npos);

  Outcome folded = sandmine(
      {"mine", dir.file("spec.yaml"), "-o", dir.file("b"), "--cache", cache.path(), "--include-validate"});
  EXPECT_EQ(folded.exit_code, 0) << folded.err;
  profile = read_json(dir.file("b/profile.json"));
  rules = rules_by_comment(profile);
  ASSERT_EQ(rules.size(), 3u) << profile.dump(2);
  EXPECT_EQ(rules["added by --include-validate: seen only in the held-out validate steps"],
            nlohmann::json::array({"mkdir"}));
  EXPECT_EQ(read_json(dir.file("b/check.json"))["passed"], true);
  EXPECT_EQ(leftovers(), std::vector<std::string>{});
  EXPECT_EQ(runc_leftovers(), std::vector<std::string>{});
}

}  // namespace sandmine::test
