// What a profile was mined from (profile::MinedFrom): the digests, which
// opened files count as configuration, the differences `sandmine check` warns
// about, the profile's "sandmine" object (written and read back), and what
// `sandmine explain` says about it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "explore/mined_from.h"
#include "profile/docker_json.h"
#include "profile/explain.h"

namespace sandmine::explore {

using nlohmann::json;
using profile::MinedFrom;

namespace {

// sha256sum of the empty input and of "8080".
constexpr const char* kEmpty = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr const char* k8080 = "sha256:6c237681e70921603a306be9a1a5d9833fce5c1e268f52b1650970eaad0dce21";

MinedFrom sample() {
  return {.name = "web",
          .engine = "runc",
          .image = "sha256:1111111111111111111111111111111111111111111111111111111111111111",
          .command = {"/usr/sbin/nginx", "-g", "daemon off;"},
          .env = {{"PORT", k8080}, {"TZ", kEmpty}},
          .config_files = {{"/etc/nginx/nginx.conf",
                            "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
                           {"/etc/passwd",
                            "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}},
          .config_files_note = ""};
}

profile::HostFacts host() {
  profile::HostFacts h;
  h.arch = "x86_64";
  h.kernel_major = 6;
  h.kernel_minor = 1;
  return h;
}

const json kProfile = R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
  "architectures": ["SCMP_ARCH_X86_64"],
  "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}]})"_json;

}  // namespace

TEST(MinedFrom, DigestsAreSha256OfTheValue) {
  EXPECT_EQ(digest_of(""), kEmpty);
  EXPECT_EQ(digest_of("8080"), k8080);
  auto env = env_digests({{"PORT", "8080"}, {"TZ", ""}});
  EXPECT_EQ(env, (std::map<std::string, std::string>{{"PORT", k8080}, {"TZ", kEmpty}}));
}

TEST(MinedFrom, ConfigurationIsWhatWasOnlyReadByAnAbsolutePathOutsideTheKernelsFileSystems) {
  std::vector<trace::OpenedFile> opened = {
      {"/etc/nginx/nginx.conf", 2, 0, 1},      // read twice
      {"/var/log/nginx/access.log", 0, 1, 2},  // written
      {"/run/nginx.pid", 1, 1, 3},             // read and written: state
      {"/proc/self/status", 1, 0, 4},
      {"/sys/fs/cgroup/cpu.max", 1, 0, 5},
      {"/dev/null", 1, 0, 6},
      {"/etc/ld.so.cache", 1, 0, 7},
      {"conf/relative.conf", 1, 0, 8},
      {"/process/not-proc", 1, 0, 9},  // only a name like /proc
      {"", 1, 0, 10},
  };
  std::set<std::string> kept;
  for (const auto& f : opened)
    if (config_candidate(f)) kept.insert(f.path);
  EXPECT_EQ(kept, (std::set<std::string>{"/etc/nginx/nginx.conf", "/process/not-proc"}));
}

TEST(MinedFrom, NoDifferencesWhenTheyAgree) {
  EXPECT_EQ(differences(sample(), sample()), std::vector<std::string>{});
}

TEST(MinedFrom, EachDifferenceIsOneLine) {
  MinedFrom now = sample();
  now.image = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
  now.command = {"/usr/sbin/nginx"};
  now.env.erase("TZ");
  now.env["PORT"] = digest_of("9090");
  now.env["DEBUG"] = digest_of("1");
  now.config_files["/etc/nginx/nginx.conf"] =
      "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";
  now.config_files.erase("/etc/passwd");
  now.config_files["/etc/nginx/fastcgi_params"] =
      "sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd";
  // name, engine and the note say how it was mined, not what it ran: no difference.
  now.name = "other";
  now.engine = "docker";
  now.config_files_note = "the container did not start";
  EXPECT_EQ(
      differences(sample(), now),
      (std::vector<std::string>{
          "image sha256:2222222222222222222222222222222222222222222222222222222222222222 is not the one the "
          "profile was mined from (sha256:1111111111111111111111111111111111111111111111111111111111111111)",
          "command [/usr/sbin/nginx] is not the one the profile was mined from ([/usr/sbin/nginx, -g, daemon "
          "off;])",
          "environment variable DEBUG is set; it was not when the profile was mined",
          "environment variable PORT has another value than when the profile was mined",
          "environment variable TZ is not set; it was when the profile was mined",
          "configuration file /etc/nginx/fastcgi_params was read at start; it was not when the profile was "
          "mined",
          "configuration file /etc/nginx/nginx.conf has other content (sha256:cccccccccccc) than when the "
          "profile was mined (sha256:aaaaaaaaaaaa)",
          "configuration file /etc/passwd was not read at start; it was when the profile was mined",
      }));
}

TEST(MinedFrom, TheProfileWritesItInItsSandmineObjectAndReadsItBack) {
  auto p = profile::parse_profile(kProfile, "p.json", host());
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_FALSE(p->mined_from.has_value());
  EXPECT_FALSE(profile::to_docker_json(*p).contains("sandmine")) << "nothing to say: no object";

  p->mined_from = sample();
  p->mined_from->config_files_note = "the container did not start";
  json doc = profile::to_docker_json(*p);
  EXPECT_EQ(doc["sandmine"], json::parse(R"({"minedFrom": {
    "name": "web", "engine": "runc",
    "image": "sha256:1111111111111111111111111111111111111111111111111111111111111111",
    "command": ["/usr/sbin/nginx", "-g", "daemon off;"],
    "env": {"PORT": "sha256:6c237681e70921603a306be9a1a5d9833fce5c1e268f52b1650970eaad0dce21",
            "TZ": "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    "configFiles": {"/etc/nginx/nginx.conf": "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                    "/etc/passwd": "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"},
    "configFilesNote": "the container did not start"}})"));

  auto back = profile::parse_profile(doc, "p.json", host());
  ASSERT_TRUE(back.ok()) << back.error().message;
  ASSERT_TRUE(back->mined_from.has_value());
  EXPECT_EQ(*back->mined_from, *p->mined_from);
}

TEST(MinedFrom, AMalformedSandmineObjectIsAnErrorNamingTheField) {
  json doc = kProfile;
  doc["sandmine"] = {{"minedFrom", {{"env", {{"PORT", 8080}}}}}};
  auto p = profile::parse_profile(doc, "p.json", host());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(
      p.error().message.rfind("profile p.json: sandmine.minedFrom.env.PORT: expected a string, got ", 0), 0u)
      << p.error().message;
  doc["sandmine"] = {{"minedFrom", {{"command", "nginx"}}}};
  p = profile::parse_profile(doc, "p.json", host());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(
      p.error().message.rfind("profile p.json: sandmine.minedFrom.command: expected an array of strings", 0),
      0u)
      << p.error().message;
}

TEST(MinedFrom, ExplainShowsItAsTextAndJson) {
  auto p = profile::parse_profile(kProfile, "p.json", host());
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_NE(
      profile::explain_text(profile::explain(*p, {})).find("\nMined from: not recorded in the profile\n"),
      std::string::npos);
  EXPECT_EQ(profile::explain_json(profile::explain(*p, {}))["mined_from"], json(nullptr));

  p->mined_from = sample();
  std::string text = profile::explain_text(profile::explain(*p, {}));
  EXPECT_NE(
      text.find("\nMined from (a profile holds for this configuration; sandmine check warns when a container "
                "differs):\n"
                "  name: web\n"
                "  engine: runc\n"
                "  image: sha256:1111111111111111111111111111111111111111111111111111111111111111\n"
                "  command: [\"/usr/sbin/nginx\",\"-g\",\"daemon off;\"]\n"
                "  environment: 2 variables (values as SHA-256)\n"
                "    PORT sha256:6c237681e70921603a306be9a1a5d9833fce5c1e268f52b1650970eaad0dce21\n"
                "    TZ sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
                "  configuration files read at start: 2\n"
                "    /etc/nginx/nginx.conf "
                "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
                "    /etc/passwd sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n"
                "\n"),
      std::string::npos)
      << text;
  EXPECT_EQ(profile::explain_json(profile::explain(*p, {}))["mined_from"],
            profile::mined_from_json(sample()));
}

}  // namespace sandmine::explore
