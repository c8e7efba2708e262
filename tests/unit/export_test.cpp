// `sandmine export` in each format, and `sandmine merge`.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

#include "profile/docker_json.h"
#include "profile/explain.h"
#include "profile/export.h"
#include "support/run.h"
#include "sys/files.h"

namespace sandmine::profile {

using nlohmann::json;
using test::Outcome;
using test::sandmine;
using test::TempDir;
using test::write_text;

namespace {

Profile read_ok(const std::string& path) {
  auto p = read_profile(path);
  EXPECT_TRUE(p.ok()) << p.error().message;
  return p.ok() ? *p : Profile{};
}

// A small allow-list on two architectures, names out of order.
const std::string kSmallAllowList = R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
  "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
  "syscalls": [{"names": ["write", "read", "exit_group"], "action": "SCMP_ACT_ALLOW"}]})";

const std::string kSmallJson = R"({
  "architectures": [
    "SCMP_ARCH_X86_64",
    "SCMP_ARCH_X86"
  ],
  "defaultAction": "SCMP_ACT_ERRNO",
  "defaultErrnoRet": 1,
  "syscalls": [
    {
      "action": "SCMP_ACT_ALLOW",
      "names": [
        "exit_group",
        "read",
        "write"
      ]
    }
  ]
}
)";

// A profile that is not an allow-list: an archMap, conditional rules, an
// errno rule, includes and excludes decided for this host.
const std::string kRich = R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
  "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}],
  "syscalls": [
    {"names": ["read", "write", "exit_group", "chown32"], "action": "SCMP_ACT_ALLOW"},
    {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
    {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
     "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
    {"names": ["mount"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
    {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64"]}},
    {"names": ["reboot"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_BOOT"]}},
    {"names": ["ptrace"], "action": "SCMP_ACT_ERRNO", "excludes": {"arches": ["amd64"]}}
  ]})";

Outcome export_to_stdout(const std::string& path, const std::string& format) {
  return sandmine({"export", path, "--format", format});
}

}  // namespace

TEST(Export, DockerAndOciAreTheNormalisedJson) {
  TempDir dir;
  write_text(dir.file("small.json"), kSmallAllowList);
  for (const char* format : {"docker", "oci"}) {
    Outcome r = export_to_stdout(dir.file("small.json"), format);
    ASSERT_EQ(r.exit_code, 0) << format << ": " << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(r.out, kSmallJson) << format;
  }
}

TEST(Export, K8sIsASecurityProfilesOperatorObject) {
  TempDir dir;
  write_text(dir.file("Small_Profile.json"), kSmallAllowList);
  Outcome r = export_to_stdout(dir.file("Small_Profile.json"), "k8s");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "# A Security Profiles Operator SeccompProfile: kubectl apply -f this file in the pod's\n"
            "# namespace; the object's status.localhostProfile is then the path for\n"
            "#   securityContext.seccompProfile: {type: Localhost, localhostProfile: <that path>}\n"
            "# Without the operator: copy the plain profile (sandmine export " +
                dir.file("Small_Profile.json") +
                " --format docker) to\n"
                "# /var/lib/kubelet/seccomp/profiles/small-profile.json on every node and set\n"
                "#   securityContext:\n"
                "#     seccompProfile:\n"
                "#       type: Localhost\n"
                "#       localhostProfile: profiles/small-profile.json\n"
                "apiVersion: security-profiles-operator.x-k8s.io/v1beta1\n"
                "kind: SeccompProfile\n"
                "metadata:\n"
                "  name: small-profile\n"
                "spec:\n"
                "  defaultAction: SCMP_ACT_ERRNO\n"
                "  architectures:\n"
                "    - SCMP_ARCH_X86_64\n"
                "    - SCMP_ARCH_X86\n"
                "  syscalls:\n"
                "    - action: SCMP_ACT_ALLOW\n"
                "      names:\n"
                "        - exit_group\n"
                "        - read\n"
                "        - write\n");
  YAML::Node doc = YAML::Load(r.out);
  EXPECT_EQ(doc["apiVersion"].as<std::string>(), "security-profiles-operator.x-k8s.io/v1beta1");
  EXPECT_EQ(doc["kind"].as<std::string>(), "SeccompProfile");
  EXPECT_EQ(doc["metadata"]["name"].as<std::string>(), "small-profile");
  EXPECT_EQ(doc["spec"]["defaultAction"].as<std::string>(), "SCMP_ACT_ERRNO");
  EXPECT_EQ(doc["spec"]["architectures"].as<std::vector<std::string>>(),
            (std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"}));
  ASSERT_EQ(doc["spec"]["syscalls"].size(), 1u);
  EXPECT_EQ(doc["spec"]["syscalls"][0]["action"].as<std::string>(), "SCMP_ACT_ALLOW");
  EXPECT_EQ(doc["spec"]["syscalls"][0]["names"].as<std::vector<std::string>>(),
            (std::vector<std::string>{"exit_group", "read", "write"}));

  Outcome named = sandmine({"export", dir.file("Small_Profile.json"), "--format", "k8s", "--name", "web.v2"});
  ASSERT_EQ(named.exit_code, 0) << named.err;
  EXPECT_EQ(YAML::Load(named.out)["metadata"]["name"].as<std::string>(), "web.v2");
}

TEST(Export, SystemdSettings) {
  TempDir dir;
  write_text(dir.file("small.json"), kSmallAllowList);
  Outcome r = export_to_stdout(dir.file("small.json"), "systemd");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(
      r.out,
      "# systemd settings (systemd.exec(5)) from " + dir.file("small.json") +
          "\n"
          "# for a unit's [Service] section or a drop-in such as /etc/systemd/system/UNIT.d/seccomp.conf.\n"
          "# systemd always lets through the few calls a process needs to start and end (execve, exit,\n"
          "# rt_sigreturn, ...).\n"
          "[Service]\n"
          "SystemCallArchitectures=native x86\n"
          "SystemCallFilter=exit_group read write\n"
          "SystemCallErrorNumber=EPERM\n");
}

// A profile as `mine --args safe` writes it: socket for two families and
// types, clone without namespace flags, futex for two operations, clone3
// answered ENOSYS.
const std::string kMinedSafe = R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
  "architectures": ["SCMP_ARCH_X86_64"],
  "syscalls": [
    {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
    {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [
      {"index": 0, "value": 4294967295, "valueTwo": 2, "op": "SCMP_CMP_MASKED_EQ"},
      {"index": 1, "value": 4294440959, "valueTwo": 1, "op": "SCMP_CMP_MASKED_EQ"}]},
    {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [
      {"index": 0, "value": 4294967295, "valueTwo": 1, "op": "SCMP_CMP_MASKED_EQ"},
      {"index": 1, "value": 4294440959, "valueTwo": 1, "op": "SCMP_CMP_MASKED_EQ"}]},
    {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [
      {"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
    {"names": ["futex"], "action": "SCMP_ACT_ALLOW", "args": [
      {"index": 1, "value": 4294966911, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
    {"names": ["futex"], "action": "SCMP_ACT_ALLOW", "args": [
      {"index": 1, "value": 4294966911, "valueTwo": 1, "op": "SCMP_CMP_MASKED_EQ"}]},
    {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}
  ]})";

const std::string kSystemdHeader =
    "# for a unit's [Service] section or a drop-in such as /etc/systemd/system/UNIT.d/seccomp.conf.\n"
    "# systemd always lets through the few calls a process needs to start and end (execve, exit,\n"
    "# rt_sigreturn, ...).\n";

TEST(Export, SystemdMapsFamiliesAndNamespacesAndSaysWhichArgumentRulesItDrops) {
  TempDir dir;
  write_text(dir.file("safe.json"), kMinedSafe);
  Outcome r = export_to_stdout(dir.file("safe.json"), "systemd");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(
      r.out,
      "# systemd settings (systemd.exec(5)) from " + dir.file("safe.json") + "\n" + kSystemdHeader +
          "# SystemCallFilter= takes names only: a name the profile allows for some argument values is\n"
          "# allowed here for all of them.\n"
          "# Kept: RestrictAddressFamilies= from socket's domain rules\n"
          "# Kept: RestrictNamespaces= from the namespace flags clone, unshare and setns may use (systemd\n"
          "#   allows any combination of the listed types, in any of the three)\n"
          "# Dropped (every value of these arguments is let through):\n"
          "#   futex op&0xfffffe7f: 2 rules\n"
          "#   socket type&0xfff7f7ff: 2 rules\n"
          "# clone3: the profile answers ENOSYS so the C library falls back to clone; an allow-list cannot "
          "give\n"
          "# one name an errno of its own, so it is allowed by name, whatever its flags.\n"
          "[Service]\n"
          "SystemCallArchitectures=native\n"
          "SystemCallFilter=clone clone3 futex read socket write\n"
          "SystemCallErrorNumber=EPERM\n"
          "RestrictAddressFamilies=AF_UNIX AF_INET\n"
          "RestrictNamespaces=yes\n");
  EXPECT_EQ(
      r.err,
      "sandmine: warning: systemd cannot express the argument rules of futex, socket and drops them "
      "(SystemCallFilter= allows names only); they are listed in the output's comments\n"
      "sandmine: warning: clone3 is allowed by name: systemd cannot answer it ENOSYS in an allow-list\n");
}

TEST(Export, SystemdNamespacesAreTheUnionOfCloneUnshareAndSetns) {
  json doc = json::parse(kMinedSafe);
  // clone may make a network namespace, setns join a mount namespace,
  // unshare a user namespace (and nothing else: its CLONE_NEWTIME rule is lost).
  doc["syscalls"].push_back(json::parse(R"({"names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [
      {"index": 0, "value": 2114060288, "valueTwo": 1073741824, "op": "SCMP_CMP_MASKED_EQ"}]})"));
  doc["syscalls"].push_back(json::parse(R"({"names": ["setns"], "action": "SCMP_ACT_ALLOW", "args": [
      {"index": 1, "value": 4294967295, "valueTwo": 131072, "op": "SCMP_CMP_MASKED_EQ"}]})"));
  doc["syscalls"].push_back(json::parse(R"({"names": ["unshare"], "action": "SCMP_ACT_ALLOW", "args": [
      {"index": 0, "value": 2114060416, "valueTwo": 268435456, "op": "SCMP_CMP_MASKED_EQ"}]})"));
  // A socket rule for any family: no RestrictAddressFamilies=.
  doc["syscalls"].push_back(json::parse(R"({"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [
      {"index": 1, "value": 4294440959, "valueTwo": 3, "op": "SCMP_CMP_MASKED_EQ"}]})"));
  TempDir dir;
  write_text(dir.file("ns.json"), doc.dump());
  Outcome r = export_to_stdout(dir.file("ns.json"), "systemd");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto settings = r.out.substr(r.out.find("\n[Service]\n") + 1);
  EXPECT_EQ(settings,
            "[Service]\n"
            "SystemCallArchitectures=native\n"
            "SystemCallFilter=clone clone3 futex read setns socket unshare write\n"
            "SystemCallErrorNumber=EPERM\n"
            "RestrictNamespaces=mnt net user\n");
  EXPECT_NE(
      r.out.find("# Dropped (every value of these arguments is let through):\n"
                 "#   futex op&0xfffffe7f: 2 rules\n"
                 "#   socket domain, type&0xfff7f7ff: 3 rules (no RestrictAddressFamilies=: a rule allows "
                 "every domain)\n"
                 "#   unshare CLONE_NEWTIME: RestrictNamespaces= has no time namespace type\n"),
      std::string::npos)
      << r.out;

  // unshare allowed whatever its flags: every namespace type, nothing to restrict.
  doc["syscalls"].back() = json::parse(R"({"names": ["unshare"], "action": "SCMP_ACT_ALLOW"})");
  doc["syscalls"].erase(doc["syscalls"].end() - 2);
  write_text(dir.file("all.json"), doc.dump());
  r = export_to_stdout(dir.file("all.json"), "systemd");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("RestrictNamespaces="), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("#   clone flags&(CLONE_NEWNS|CLONE_NEWCGROUP|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWUSER|"
                       "CLONE_NEWPID|CLONE_NEWNET): 2 rules\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("#   setns nstype: 1 rule\n"), std::string::npos) << r.out;
}

TEST(Export, SystemdWrapsLongListsIntoFiltersThatAddUp) {
  // Docker's default names as a plain allow-list: long enough to wrap.
  std::vector<std::string> names;
  for (const auto& e : docker_default_x86_64()) names.push_back(e.name);
  TempDir dir;
  write_text(dir.file("big.json"), json{{"defaultAction", "SCMP_ACT_ERRNO"},
                                        {"architectures", {"SCMP_ARCH_X86_64"}},
                                        {"syscalls", {{{"names", names}, {"action", "SCMP_ACT_ALLOW"}}}}}
                                       .dump());
  Outcome r = export_to_stdout(dir.file("big.json"), "systemd");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> listed;
  int filter_lines = 0;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind('#', 0) == 0) continue;  // comments name the file, whatever its length
    EXPECT_LE(line.size(), 100u) << line;
    const std::string key = "SystemCallFilter=";
    if (line.rfind(key, 0) != 0) continue;
    ++filter_lines;
    std::istringstream words(line.substr(key.size()));
    for (std::string w; words >> w;) listed.insert(w);
  }
  EXPECT_GT(filter_lines, 1);
  EXPECT_EQ(listed, std::set<std::string>(names.begin(), names.end()));
  EXPECT_NE(r.out.find("\nSystemCallArchitectures=native\n"), std::string::npos) << r.out;
}

TEST(Export, SystemdArchitectureNames) {
  EXPECT_EQ(systemd_arch("x86_64"), "native");  // the host these tests run on
  EXPECT_EQ(systemd_arch("x86"), "x86");
  EXPECT_EQ(systemd_arch("x32"), "x32");
  EXPECT_EQ(systemd_arch("aarch64"), "arm64");
  EXPECT_EQ(systemd_arch("ppc64le"), "ppc64-le");
  EXPECT_EQ(systemd_arch("mipsel64n32"), "mips64-le-n32");
}

TEST(Export, DockerAndOciAreAcceptedBackWithTheSameAllowances) {
  TempDir dir;
  write_text(dir.file("small.json"), kSmallAllowList);
  write_text(dir.file("rich.json"), kRich);
  for (const char* name : {"small.json", "rich.json"})
    for (const char* format : {"docker", "oci"}) {
      Outcome r = export_to_stdout(dir.file(name), format);
      ASSERT_EQ(r.exit_code, 0) << name << " " << format << ": " << r.err;
      write_text(dir.file("out.json"), r.out);
      auto original = read_ok(dir.file(name));
      auto exported = read_ok(dir.file("out.json"));
      EXPECT_EQ(allowed_set(exported), allowed_set(original)) << name << " " << format;
      EXPECT_TRUE(diff_profiles(original, exported).empty()) << name << " " << format;
      EXPECT_TRUE(exported.warnings.empty()) << exported.warnings[0];
      // Normalised: exporting the export changes nothing.
      Outcome again = export_to_stdout(dir.file("out.json"), format);
      EXPECT_EQ(again.out, r.out) << name << " " << format;
    }
}

TEST(Export, RulesOfAProfileThatIsNotAnAllowList) {
  TempDir dir;
  write_text(dir.file("rich.json"), kRich);
  Outcome r = export_to_stdout(dir.file("rich.json"), "oci");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The archMap resolved for x86_64, includes/excludes decided (no CAP_SYS_BOOT;
  // ptrace excluded on amd64), chown32 (on x86 only) kept, explicit errno values;
  // per syscall, in the writer's order: unconditional allows, other actions,
  // then one rule per argument alternative.
  json expected = R"({
    "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
    "syscalls": [
      {"names": ["arch_prctl", "chown32", "exit_group", "read", "write"], "action": "SCMP_ACT_ALLOW"},
      {"names": ["mount"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
      {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
       "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
      {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
       "args": [{"index": 0, "value": 8, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]}
    ]})"_json;
  EXPECT_EQ(json::parse(r.out), expected);
}

TEST(Export, NamesOnNoListedArchitectureAreDroppedWithTheWarning) {
  TempDir dir;
  write_text(dir.file("p.json"), R"({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
    "syscalls": [{"names": ["mount", "chown32"], "action": "SCMP_ACT_ERRNO"}]})");
  Outcome r = export_to_stdout(dir.file("p.json"), "docker");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["syscalls"],
            json::parse(R"([{"names": ["mount"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}])"));
  EXPECT_NE(r.err.find("warning: profile " + dir.file("p.json") + ": 1 syscall exist on none of its"),
            std::string::npos)
      << r.err;
}

TEST(Export, K8sOfConditionalRules) {
  TempDir dir;
  // The same rules as kRich, denying with EPERM (the operator has no defaultErrnoRet).
  json rich = json::parse(kRich);
  rich["defaultErrnoRet"] = 1;
  write_text(dir.file("rich.json"), rich.dump());
  Outcome r = export_to_stdout(dir.file("rich.json"), "k8s");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  YAML::Node spec = YAML::Load(r.out)["spec"];
  ASSERT_EQ(spec["syscalls"].size(), 3u) << r.out;  // the mount rule now has the default action
  YAML::Node clone = spec["syscalls"][1];
  EXPECT_EQ(clone["names"].as<std::vector<std::string>>(), std::vector<std::string>{"clone"});
  EXPECT_EQ(clone["args"][0]["index"].as<unsigned>(), 0u);
  EXPECT_EQ(clone["args"][0]["value"].as<std::uint64_t>(), 2114060288u);
  EXPECT_EQ(clone["args"][0]["valueTwo"].as<std::uint64_t>(), 0u);
  EXPECT_EQ(clone["args"][0]["op"].as<std::string>(), "SCMP_CMP_MASKED_EQ");
}

TEST(Export, RefusalsAndBadInput) {
  TempDir dir;
  write_text(dir.file("small.json"), kSmallAllowList);
  write_text(dir.file("rich.json"), kRich);
  expect_one_line_error(export_to_stdout(dir.file("small.json"), "xml"),
                        "unknown format \"xml\" (expected docker, oci, k8s or systemd)");
  expect_one_line_error(export_to_stdout(dir.file("rich.json"), "systemd"),
                        "systemd's SystemCallFilter= takes a plain allow-list: profile " +
                            dir.file("rich.json") + " is not a plain allow-list");
  expect_one_line_error(export_to_stdout(dir.file("rich.json"), "k8s"),
                        "denied calls return ENOSYS, but a Security Profiles Operator SeccompProfile has no "
                        "defaultErrnoRet");
  expect_one_line_error(sandmine({"export", dir.file("small.json"), "--format", "k8s", "--name", "Web_1"}),
                        "name \"Web_1\" is not a Kubernetes object name");
  expect_one_line_error(export_to_stdout(dir.file("missing.json"), "docker"), "cannot read it");
  expect_one_line_error(sandmine({"export", dir.file("small.json")}), "--format is required");
  expect_one_line_error(
      sandmine({"export", dir.file("small.json"), "--format", "docker", "-o", "/nonexistent-dir/p.json"}),
      "/nonexistent-dir/p.json");
}

TEST(Export, WritesTheOutputFile) {
  TempDir dir;
  write_text(dir.file("small.json"), kSmallAllowList);
  Outcome r = sandmine({"export", dir.file("small.json"), "--format", "docker", "-o", dir.file("out.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(*sys::read_file(dir.file("out.json")), kSmallJson);
}

// merge

TEST(Merge, UnionPerArchitecture) {
  TempDir dir;
  write_text(dir.file("a.json"), R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
    "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}]})");
  write_text(dir.file("b.json"),
             R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
    "syscalls": [{"names": ["read", "close"], "action": "SCMP_ACT_ALLOW"},
                 {"names": ["mount"], "action": "SCMP_ACT_ERRNO"}]})");
  auto merged = union_of({read_ok(dir.file("a.json")), read_ok(dir.file("b.json"))});
  ASSERT_TRUE(merged.ok()) << merged.error().message;
  EXPECT_EQ(allowed_names(*merged), (std::set<std::string>{"close", "read", "write"}));
  EXPECT_EQ(merged->arches, (std::vector<std::string>{"x86_64", "x86"}));
  EXPECT_EQ(merged->default_action, Action::error(1));

  Outcome r = sandmine({"merge", dir.file("a.json"), dir.file("b.json"), "-o", dir.file("m.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "sandmine: wrote " + dir.file("m.json") + ": 3 syscalls allowed on x86_64, x86\n");
  EXPECT_EQ(json::parse(*sys::read_file(dir.file("m.json"))), R"({
    "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
    "syscalls": [{"names": ["close", "read", "write"], "action": "SCMP_ACT_ALLOW"}]})"_json);
}

TEST(Merge, UnitesArgumentRules) {
  TempDir dir;
  write_text(dir.file("a.json"), R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
    "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"},
                 {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]}]})");
  write_text(dir.file("b.json"), R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
    "syscalls": [{"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]}]})");
  Outcome r = sandmine({"merge", dir.file("a.json"), dir.file("b.json"), "-o", dir.file("m.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(*sys::read_file(dir.file("m.json"))), R"({
    "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "architectures": ["SCMP_ARCH_X86_64"],
    "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"},
                 {"names": ["socket"], "action": "SCMP_ACT_ALLOW",
                  "args": [{"index": 0, "value": 1, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]},
                 {"names": ["socket"], "action": "SCMP_ACT_ALLOW",
                  "args": [{"index": 0, "value": 2, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]}]})"_json);
}

TEST(Merge, RefusesWhatIsNotAnAllowList) {
  TempDir dir;
  write_text(dir.file("a.json"), R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
    "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]})");
  write_text(dir.file("denylist.json"), R"({"defaultAction": "SCMP_ACT_ALLOW",
    "syscalls": [{"names": ["mount"], "action": "SCMP_ACT_ERRNO"}]})");
  write_text(dir.file("kill.json"), R"({"defaultAction": "SCMP_ACT_ERRNO",
    "syscalls": [{"names": ["ptrace"], "action": "SCMP_ACT_KILL_PROCESS"}]})");
  write_text(dir.file("enosys.json"), R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
    "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]})");
  expect_one_line_error(
      sandmine({"merge", dir.file("a.json"), dir.file("denylist.json"), "-o", dir.file("m.json")}),
      "cannot merge: profile " + dir.file("denylist.json") +
          " lets every call through by default (SCMP_ACT_ALLOW): only profiles that deny by default can be "
          "merged");
  expect_one_line_error(
      sandmine({"merge", dir.file("a.json"), dir.file("kill.json")}),
      "profile " + dir.file("kill.json") +
          " gives ptrace action SCMP_ACT_KILL_PROCESS: only rules that allow can be merged");
  expect_one_line_error(sandmine({"merge", dir.file("a.json"), dir.file("enosys.json")}),
                        "profile " + dir.file("a.json") + " denies with SCMP_ACT_ERRNO (EPERM), profile " +
                            dir.file("enosys.json") + " with SCMP_ACT_ERRNO (ENOSYS)");
  expect_one_line_error(sandmine({"merge", dir.file("a.json")}), "merge needs at least two profiles, got 1");
  expect_one_line_error(sandmine({"merge", dir.file("a.json"), dir.file("missing.json")}), "cannot read it");
  EXPECT_FALSE(std::filesystem::exists(dir.file("m.json"))) << "nothing written on refusal";
}

}  // namespace sandmine::profile
