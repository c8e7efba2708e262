// The attack-surface tables (data/*.csv), what `sandmine explain` says about a
// small profile, and `sandmine diff`.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>

#include "profile/docker_json.h"
#include "profile/explain.h"
#include "support/run.h"
#include "syscalls/syscalls.h"

namespace sandmine::profile {

using nlohmann::json;
using test::Outcome;
using test::sandmine;
using test::TempDir;
using test::write_text;

namespace {

// Counted from moby's profiles/seccomp/default.json at v20.10.24 (Debian's
// docker.io 20.10.24): the rules that apply on amd64 with Docker's default
// capabilities on a kernel of at least 4.8 allow 352 names, of which 292
// exist on x86_64 (the other 60 are 32-bit only: chown32, _llseek, ...).
// Two of the 292 are allowed only for some argument values: clone (no
// namespace flags) and personality (five values).
constexpr std::size_t kDockerDefaultX86_64 = 292;

HostFacts host() {
  HostFacts h;
  h.arch = "x86_64";
  h.capabilities = {"CAP_CHOWN", "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_AUDIT_WRITE"};
  h.kernel_major = 6;
  h.kernel_minor = 1;
  return h;
}

Profile parse_ok(const json& doc, const std::string& source = "p.json") {
  auto p = parse_profile(doc, source, host());
  EXPECT_TRUE(p.ok()) << p.error().message;
  return p.ok() ? *p : Profile{};
}

const KernelCve& cve(const std::string& id) {
  const auto& table = kernel_cves();
  auto it = std::find_if(table.begin(), table.end(), [&](const auto& c) { return c.id == id; });
  if (it == table.end()) throw std::runtime_error(id + " is not in data/cves.csv");
  return *it;
}

// The small profile of these tests: eight names on x86_64, personality for one value only.
const json kSmall = R"({
  "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
  "architectures": ["SCMP_ARCH_X86_64"],
  "syscalls": [
    {"names": ["read", "write", "exit_group", "madvise", "splice", "socket", "setsockopt", "bpf"],
     "action": "SCMP_ACT_ALLOW"},
    {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]}
  ]
})"_json;

// What its names open, by the table's rows: madvise (Dirty COW), splice (Dirty
// Pipe), socket + setsockopt (the AF_PACKET bugs; Docker's capabilities include
// CAP_NET_RAW), bpf (the verifier bugs). No unshare or clone: no user namespace.
const std::set<std::string> kSmallReachable = {"CVE-2016-5195",  "CVE-2022-0847",  "CVE-2017-7308",
                                               "CVE-2016-8655",  "CVE-2020-14386", "CVE-2021-3490",
                                               "CVE-2022-23222", "CVE-2020-8835"};

}  // namespace

TEST(DockerDefault, HasTheVerifiedNumberOfX86_64Names) {
  const auto& table = docker_default_x86_64();
  EXPECT_EQ(table.size(), kDockerDefaultX86_64);
  std::set<std::string> names;
  for (const auto& e : table) {
    EXPECT_TRUE(syscalls::number_of("x86_64", e.name)) << e.name << " is not an x86_64 syscall";
    EXPECT_TRUE(names.insert(e.name).second) << e.name << " twice";
    EXPECT_EQ(e.source.rfind("moby v20.10.24 profiles/seccomp/default.json syscalls[", 0), 0u) << e.name;
  }
}

TEST(DockerDefault, AllowsAndOmitsKnownNames) {
  std::map<std::string, bool> conditional;
  for (const auto& e : docker_default_x86_64()) conditional[e.name] = e.conditional;
  for (const char* n : {"read", "write", "openat", "clone", "execve", "ptrace", "chroot", "arch_prctl",
                        "modify_ldt", "io_uring_setup", "splice", "madvise"})
    EXPECT_TRUE(conditional.count(n)) << n;
  for (const char* n : {"mount", "umount2", "kexec_load", "unshare", "setns", "keyctl", "bpf", "clone3",
                        "perf_event_open", "userfaultfd", "init_module", "reboot", "open_by_handle_at",
                        "pivot_root", "fsopen", "swapon", "syslog"})
    EXPECT_FALSE(conditional.count(n)) << n;
  std::set<std::string> conditional_names;
  for (const auto& [n, c] : conditional)
    if (c) conditional_names.insert(n);
  EXPECT_EQ(conditional_names, (std::set<std::string>{"clone", "personality"}));
}

TEST(RiskyTable, ValidNamesWithCategoriesReasonsAndSources) {
  std::set<std::string> names, categories;
  for (const auto& r : risky_syscalls()) {
    EXPECT_TRUE(syscalls::number_of("x86_64", r.name)) << r.name << " is not an x86_64 syscall";
    EXPECT_TRUE(names.insert(r.name).second) << r.name << " twice";
    EXPECT_FALSE(r.reason.empty()) << r.name;
    EXPECT_FALSE(r.source.empty()) << r.name;
    categories.insert(r.category);
  }
  for (const char* c : {"namespaces", "mount", "keyring", "bpf", "perf", "userfaultfd", "io_uring", "ptrace",
                        "module", "kexec", "time", "reboot", "swap", "quota"})
    EXPECT_TRUE(categories.count(c)) << c;
}

TEST(CveTable, RowsAreValidAndIncludeTheKnownOnes) {
  const auto& table = kernel_cves();
  EXPECT_GE(table.size(), 20u);
  std::set<std::string> ids;
  const std::regex id_form("CVE-[0-9]{4}-[0-9]{4,}");
  for (const auto& c : table) {
    EXPECT_TRUE(std::regex_match(c.id, id_form)) << c.id;
    EXPECT_TRUE(ids.insert(c.id).second) << c.id << " twice";
    EXPECT_FALSE(c.description.empty()) << c.id;
    EXPECT_EQ(c.source.rfind("https://", 0), 0u) << c.id;
    ASSERT_FALSE(c.needs.empty()) << c.id;
    // A native path runs on x86_64, a compat one on x86 or x32 (libseccomp
    // names the x86 socket calls only by number, socketcall is x86's alone).
    for (const auto& alternatives : c.needs) {
      ASSERT_FALSE(alternatives.empty()) << c.id;
      for (const auto& n : alternatives) {
        if (!c.compat)
          EXPECT_TRUE(syscalls::number_of("x86_64", n)) << c.id << ": " << n << " is not an x86_64 syscall";
        else
          EXPECT_TRUE(syscalls::number_of("x86", n) || syscalls::number_of("x32", n))
              << c.id << ": " << n << " is a syscall of neither x86 nor x32";
      }
    }
  }
  using Needs = std::vector<std::vector<std::string>>;
  EXPECT_EQ(cve("CVE-2022-0847").needs, (Needs{{"splice", "sendfile"}}));
  EXPECT_EQ(cve("CVE-2016-5195").needs, (Needs{{"madvise"}}));
  EXPECT_EQ(cve("CVE-2022-0185").needs,
            (Needs{{"unshare", "clone", "clone3"}, {"fsopen", "fspick"}, {"fsconfig"}}));
  EXPECT_EQ(cve("CVE-2021-22555").needs,
            (Needs{{"unshare", "clone", "clone3"}, {"setsockopt", "socketcall"}}));
  EXPECT_TRUE(cve("CVE-2021-22555").compat);
  EXPECT_EQ(cve("CVE-2024-1086").needs, (Needs{{"unshare", "clone", "clone3"}, {"socket"}}));
  EXPECT_EQ(cve("CVE-2016-0728").needs, (Needs{{"keyctl"}}));
  for (const char* id :
       {"CVE-2022-2588", "CVE-2023-32233", "CVE-2021-3490", "CVE-2022-23222", "CVE-2020-14386",
        "CVE-2017-7308", "CVE-2019-13272", "CVE-2022-1015", "CVE-2023-0386", "CVE-2021-33909",
        "CVE-2022-29582", "CVE-2023-2598", "CVE-2017-5123"})
    EXPECT_TRUE(ids.count(id)) << id;
  EXPECT_FALSE(ids.count("CVE-2019-5736")) << "a runc bug, not a kernel one";
}

TEST(Explain, SurfaceOfASmallProfile) {
  auto s = surface_of(parse_ok(kSmall));
  ASSERT_EQ(s.arches.size(), 1u);
  const auto& x = s.arches.at("x86_64");
  EXPECT_EQ(x.allowed, (std::set<std::string>{"bpf", "exit_group", "madvise", "read", "setsockopt", "socket",
                                              "splice", "write"}));
  EXPECT_EQ(x.conditional, (std::set<std::string>{"personality"}));
  EXPECT_EQ(s.of("x86_64", "personality"), Allowance::conditional);
  EXPECT_EQ(s.of("x86", "read"), Allowance::no) << "x86 is not listed";
}

TEST(Explain, NextToDockersDefault) {
  auto docker = docker_baseline();
  ASSERT_TRUE(docker.surface);
  auto c = compare_x86_64(surface_of(parse_ok(kSmall)), *docker.surface);
  EXPECT_EQ(c.profile_count, 9u);
  EXPECT_EQ(c.baseline_count, kDockerDefaultX86_64);
  EXPECT_EQ(c.common, 8u);
  EXPECT_EQ(c.only_in_profile, (std::set<std::string>{"bpf"}));
  EXPECT_DOUBLE_EQ(c.share, 9.0 / static_cast<double>(kDockerDefaultX86_64));
}

TEST(Explain, ReachableCvesOfASmallProfile) {
  auto s = surface_of(parse_ok(kSmall));
  std::set<std::string> reached;
  for (const auto& c : kernel_cves()) {
    Allowance a = reachable(c, s);
    EXPECT_NE(a, Allowance::conditional) << c.id << ": nothing on its path is conditional here";
    if (a == Allowance::yes) reached.insert(c.id);
  }
  EXPECT_EQ(reached, kSmallReachable);
}

TEST(Explain, ReachableUnderDockersDefault) {
  auto docker = docker_baseline();
  ASSERT_TRUE(docker.surface);
  // clone is allowed without namespace flags only: a user namespace is conditional.
  EXPECT_EQ(reachable(cve("CVE-2024-1086"), *docker.surface), Allowance::conditional);
  EXPECT_EQ(reachable(cve("CVE-2021-22555"), *docker.surface), Allowance::conditional);
  EXPECT_EQ(reachable(cve("CVE-2022-0847"), *docker.surface), Allowance::yes);
  EXPECT_EQ(reachable(cve("CVE-2019-13272"), *docker.surface), Allowance::yes);
  EXPECT_EQ(reachable(cve("CVE-2016-0728"), *docker.surface), Allowance::no);
  EXPECT_EQ(reachable(cve("CVE-2021-3490"), *docker.surface), Allowance::no);
  EXPECT_EQ(reachable(cve("CVE-2022-0492"), *docker.surface), Allowance::no);
}

TEST(Explain, A32BitPathNeedsA32BitArchitecture) {
  json doc = R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
                 "syscalls": [{"names": ["unshare", "setsockopt"], "action": "SCMP_ACT_ALLOW"}]})"_json;
  EXPECT_EQ(reachable(cve("CVE-2021-22555"), surface_of(parse_ok(doc))), Allowance::no);
  doc["architectures"].push_back("SCMP_ARCH_X86");
  EXPECT_EQ(reachable(cve("CVE-2021-22555"), surface_of(parse_ok(doc))), Allowance::yes);
}

TEST(CveTable, ArgumentNeedsReadAsTheArgumentTableComparesThem) {
  auto need = [](const char* text) {
    auto n = parse_argument_need(text);
    EXPECT_TRUE(n.ok()) << n.error().message;
    return n.ok() ? *n : ArgumentNeed{};
  };
  EXPECT_EQ(need("socket.domain=AF_PACKET"),
            (ArgumentNeed{"socket", 0, 0xffffffff, 0x11, "socket.domain=AF_PACKET"}));
  EXPECT_EQ(need("clone.flags&CLONE_NEWUSER"),
            (ArgumentNeed{"clone", 0, 0x10000000, 0x10000000, "clone.flags&CLONE_NEWUSER"}));
  // futex's op under the table's mask (no private or realtime bit).
  EXPECT_EQ(need("futex.op=FUTEX_CMP_REQUEUE_PI"),
            (ArgumentNeed{"futex", 1, 0xfffffe7f, 12, "futex.op=FUTEX_CMP_REQUEUE_PI"}));
  EXPECT_EQ(need("setsockopt.optname=64").value, 64u);
  for (const char* bad : {"socket", "socket.domain", "read.fd=1", "socket.colour=1", "socket.domain=AF_NOPE",
                          "clone.flags&0", "futex.op=0x80"})
    EXPECT_FALSE(parse_argument_need(bad).ok()) << bad;
  using Texts = std::vector<std::string>;
  auto texts = [](const KernelCve& c) {
    Texts out;
    for (const auto& a : c.arguments) out.push_back(a.text);
    return out;
  };
  EXPECT_EQ(texts(cve("CVE-2017-7308")), (Texts{"socket.domain=AF_PACKET", "setsockopt.level=SOL_PACKET"}));
  EXPECT_EQ(texts(cve("CVE-2014-3153")), (Texts{"futex.op=FUTEX_CMP_REQUEUE_PI"}));
  EXPECT_EQ(cve("CVE-2024-1086").arguments_of("socket").size(), 2u);
  EXPECT_TRUE(cve("CVE-2022-0847").arguments.empty());
}

TEST(Explain, APathThatNeedsAnArgumentValueIsClosedWhenNoRuleLetsItThrough) {
  // socket for AF_INET and AF_UNIX only, clone without namespace flags, futex
  // for the ordinary operations: as `mine --args safe` writes them.
  json doc =
      R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "architectures": ["SCMP_ARCH_X86_64"],
    "syscalls": [
      {"names": ["setsockopt", "unshare", "madvise"], "action": "SCMP_ACT_ALLOW"},
      {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 4294967295, "valueTwo": 2, "op": "SCMP_CMP_MASKED_EQ"}]},
      {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 4294967295, "valueTwo": 1, "op": "SCMP_CMP_MASKED_EQ"}]},
      {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
      {"names": ["futex"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 4294966911, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
      {"names": ["futex"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 4294966911, "valueTwo": 1, "op": "SCMP_CMP_MASKED_EQ"}]}
    ]})"_json;
  auto s = surface_of(parse_ok(doc));
  EXPECT_EQ(s.of("x86_64", "socket"), Allowance::conditional);
  EXPECT_EQ(s.of("x86_64", "socket", cve("CVE-2017-7308").arguments_of("socket")), Allowance::no);
  EXPECT_EQ(reachable(cve("CVE-2017-7308"), s), Allowance::no);  // AF_PACKET
  EXPECT_EQ(reachable(cve("CVE-2014-3153"), s), Allowance::no);  // FUTEX_CMP_REQUEUE_PI
  // unshare is allowed whatever its flags: the user namespace is there, and
  // AF_NETLINK is not: closed; with AF_NETLINK allowed, open.
  EXPECT_EQ(reachable(cve("CVE-2024-1086"), s), Allowance::no);
  doc["syscalls"].push_back(R"({"names": ["socket"], "action": "SCMP_ACT_ALLOW",
      "args": [{"index": 0, "value": 4294967295, "valueTwo": 16, "op": "SCMP_CMP_MASKED_EQ"}]})"_json);
  EXPECT_EQ(reachable(cve("CVE-2024-1086"), surface_of(parse_ok(doc))), Allowance::yes);
  // Without unshare, clone's rule keeps CLONE_NEWUSER out: closed again.
  doc["syscalls"][0]["names"] = json::array({"setsockopt", "madvise"});
  EXPECT_EQ(reachable(cve("CVE-2024-1086"), surface_of(parse_ok(doc))), Allowance::no);
  // A path that needs no value of a conditional syscall stays conditional.
  KernelCve plain{"CVE-0000-0001", {{"socket"}}, false, "d", "https://example.org", {}};
  EXPECT_EQ(reachable(plain, s), Allowance::conditional);
  // Docker's table has no rules: its conditional clone cannot be judged.
  auto docker = docker_baseline();
  EXPECT_EQ(reachable(cve("CVE-2022-0492"), *docker.surface), Allowance::no);
  EXPECT_EQ(reachable(cve("CVE-2024-1086"), *docker.surface), Allowance::conditional);
}

// A profile as `mine --args safe` and `--args strict` write it: socket by
// family and type, clone without namespace flags, futex for two operations,
// setsockopt by level and option (the option's names depend on the level),
// clone3 answered ENOSYS; and two rules written by hand: personality compared
// whole, and a range on an argument the table does not mine.
const json kArgumentRules = R"({
  "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "architectures": ["SCMP_ARCH_X86_64"],
  "syscalls": [
    {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
    {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [
      {"index": 0, "value": 4294967295, "valueTwo": 2, "op": "SCMP_CMP_MASKED_EQ"},
      {"index": 1, "value": 4294440959, "valueTwo": 1, "op": "SCMP_CMP_MASKED_EQ"}]},
    {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [
      {"index": 0, "value": 4294967295, "valueTwo": 1, "op": "SCMP_CMP_MASKED_EQ"},
      {"index": 1, "value": 4294440959, "valueTwo": 2, "op": "SCMP_CMP_MASKED_EQ"}]},
    {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [
      {"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
    {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [
      {"index": 0, "value": 2114060288, "valueTwo": 1073741824, "op": "SCMP_CMP_MASKED_EQ"}]},
    {"names": ["futex"], "action": "SCMP_ACT_ALLOW", "args": [
      {"index": 1, "value": 4294966911, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
    {"names": ["futex"], "action": "SCMP_ACT_ALLOW", "args": [
      {"index": 1, "value": 4294966911, "valueTwo": 1, "op": "SCMP_CMP_MASKED_EQ"}]},
    {"names": ["setsockopt"], "action": "SCMP_ACT_ALLOW", "args": [
      {"index": 1, "value": 4294967295, "valueTwo": 1, "op": "SCMP_CMP_MASKED_EQ"},
      {"index": 2, "value": 4294967295, "valueTwo": 2, "op": "SCMP_CMP_MASKED_EQ"}]},
    {"names": ["setsockopt"], "action": "SCMP_ACT_ALLOW", "args": [
      {"index": 1, "value": 4294967295, "valueTwo": 6, "op": "SCMP_CMP_MASKED_EQ"},
      {"index": 2, "value": 4294967295, "valueTwo": 1, "op": "SCMP_CMP_MASKED_EQ"}]},
    {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
    {"names": ["lseek"], "action": "SCMP_ACT_ALLOW", "args": [
      {"index": 2, "value": 0, "op": "SCMP_CMP_GE"}, {"index": 2, "value": 3, "op": "SCMP_CMP_LT"}]},
    {"names": ["lseek"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22, "args": [{"index": 0, "value": 5, "op": "SCMP_CMP_NE"}]},
    {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38,
     "comment": "clone3's flags are behind a pointer a filter cannot read"}
  ]
})"_json;

TEST(Explain, ListsTheValuesEachArgumentRuleAllowsByName) {
  Explanation e = explain(parse_ok(kArgumentRules), {});
  std::string text = explain_text(e);
  auto start = text.find("\nArgument rules");
  auto end = text.find("\nNext to the default profiles");
  ASSERT_NE(start, std::string::npos) << text;
  ASSERT_NE(end, std::string::npos) << text;
  EXPECT_EQ(text.substr(start, end - start),
            "\n"
            "Argument rules (the values each rule lets through; a call no rule matches gets SCMP_ACT_ERRNO "
            "(EPERM)):\n"
            "  clone: 2 rules\n"
            "    flags&(CLONE_NEWNS|CLONE_NEWCGROUP|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWUSER|CLONE_NEWPID|"
            "CLONE_NEWNET)\n"
            "    none\n"
            "    CLONE_NEWNET\n"
            "  futex: 2 rules\n"
            "    op&0xfffffe7f\n"
            "    FUTEX_WAIT\n"
            "    FUTEX_WAKE\n"
            "  lseek: 2 rules\n"
            "    arg0   arg2            action\n"
            "    any    >=0x0 and <0x3  SCMP_ACT_ALLOW\n"
            "    !=0x5  any             SCMP_ACT_ERRNO (EINVAL)\n"
            "  personality: 1 rule\n"
            "    persona\n"
            "    PER_LINUX32\n"
            "  setsockopt: 2 rules\n"
            "    level        optname\n"
            "    SOL_SOCKET   SO_REUSEADDR\n"
            "    IPPROTO_TCP  TCP_NODELAY\n"
            "  socket: 2 rules\n"
            "    domain   type&0xfff7f7ff\n"
            "    AF_INET  SOCK_STREAM\n"
            "    AF_UNIX  SOCK_DGRAM\n"
            "  clone3: every call gets SCMP_ACT_ERRNO (ENOSYS): clone3's flags are behind a pointer a filter "
            "cannot read\n");

  json j = explain_json(e)["argument_rules"];
  EXPECT_EQ(j["otherwise"], (json{{"action", "SCMP_ACT_ERRNO"}, {"errno", 1}}));
  ASSERT_EQ(j["syscalls"].size(), 6u) << j.dump(2);
  EXPECT_EQ(j["syscalls"][5], R"({"syscall": "socket",
    "arguments": [{"index": 0, "name": "domain", "mask": "0xffffffff", "text": "domain"},
                  {"index": 1, "name": "type", "mask": "0xfff7f7ff", "text": "type&0xfff7f7ff"}],
    "rules": [
      {"action": {"action": "SCMP_ACT_ALLOW"}, "values": [
        {"op": "SCMP_CMP_MASKED_EQ", "value": "0x2", "text": "AF_INET"},
        {"op": "SCMP_CMP_MASKED_EQ", "value": "0x1", "text": "SOCK_STREAM"}]},
      {"action": {"action": "SCMP_ACT_ALLOW"}, "values": [
        {"op": "SCMP_CMP_MASKED_EQ", "value": "0x1", "text": "AF_UNIX"},
        {"op": "SCMP_CMP_MASKED_EQ", "value": "0x2", "text": "SOCK_DGRAM"}]}]})"_json);
  EXPECT_EQ(j["syscalls"][2]["rules"][1], R"({"action": {"action": "SCMP_ACT_ERRNO", "errno": 22}, "values": [
        {"op": "SCMP_CMP_NE", "value": "0x5", "text": "!=0x5"}, {"op": null, "text": "any"}]})"_json);
  EXPECT_EQ(j["answered"], R"([{"syscall": "clone3", "action": {"action": "SCMP_ACT_ERRNO", "errno": 38},
    "comment": "clone3's flags are behind a pointer a filter cannot read"}])"_json);

  // A profile without argument rules says so.
  std::string plain = explain_text(explain(parse_ok(R"({"defaultAction": "SCMP_ACT_ERRNO",
    "architectures": ["SCMP_ARCH_X86_64"], "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]})"_json),
                                           {}));
  EXPECT_NE(plain.find("\nArgument rules: none (every allowed name is allowed for all values)\n"),
            std::string::npos)
      << plain;
}

TEST(Explain, PodmanDefaultNotInstalledIsSaidNotFatal) {
  auto b = podman_baseline("/nonexistent/seccomp.json");
  EXPECT_FALSE(b.surface);
  EXPECT_EQ(b.unavailable, "/nonexistent/seccomp.json is not installed (containers-common installs it)");
}

TEST(ExplainCli, TextWithoutPodmansFile) {
  TempDir dir;
  write_text(dir.file("p.json"), kSmall.dump());
  Outcome r = sandmine({"explain", dir.file("p.json"), "--podman-default", "/nonexistent/seccomp.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("  x86_64: 9 (1 conditional)\n    bpf exit_group madvise personality* read setsockopt "
                       "socket splice write\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Docker 20.10 default  292     8                1                3.1%"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Podman/CRI-O default: not available: /nonexistent/seccomp.json is not installed"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("  CVE-2022-0847   splice/sendfile"), std::string::npos) << r.out;
}

TEST(ExplainCli, JsonWithTheSameFacts) {
  TempDir dir;
  write_text(dir.file("p.json"), kSmall.dump());
  // A Podman default of our own: a user namespace and sockets, on x86_64 only.
  write_text(dir.file("podman.json"),
             R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
    "syscalls": [{"names": ["unshare", "socket", "setsockopt", "read"], "action": "SCMP_ACT_ALLOW"}]})");
  Outcome r =
      sandmine({"explain", dir.file("p.json"), "--json", "--podman-default", dir.file("podman.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json doc = json::parse(r.out);
  ASSERT_EQ(doc["architectures"].size(), 1u);
  EXPECT_EQ(doc["architectures"][0]["arch"], "x86_64");
  EXPECT_EQ(doc["architectures"][0]["count"], 9);
  EXPECT_EQ(doc["architectures"][0]["conditional"], json::array({"personality"}));
  EXPECT_EQ(doc["default_action"], (json{{"action", "SCMP_ACT_ERRNO"}, {"errno", 1}}));

  ASSERT_EQ(doc["defaults"].size(), 2u);
  const json& docker = doc["defaults"][0];
  EXPECT_EQ(docker["key"], "docker");
  EXPECT_EQ(docker["allowed_x86_64"], kDockerDefaultX86_64);
  EXPECT_EQ(docker["common"], 8);
  EXPECT_EQ(docker["only_in_profile"], json::array({"bpf"}));
  const json& podman = doc["defaults"][1];
  EXPECT_EQ(podman["available"], true);
  EXPECT_EQ(podman["allowed_x86_64"], 4);
  EXPECT_EQ(podman["common"], 3);
  EXPECT_EQ(podman["only_in_profile"],
            json::array({"bpf", "exit_group", "madvise", "personality", "splice", "write"}));

  std::set<std::string> profile_reaches, podman_reaches;
  for (const auto& c : doc["cves"]) {
    if (c["profile"] != "no") profile_reaches.insert(c["id"]);
    if (c["podman"] != "no") podman_reaches.insert(c["id"]);
  }
  EXPECT_EQ(profile_reaches, kSmallReachable);
  // unshare + socket opens the netfilter and traffic-control bugs; setsockopt
  // the AF_PACKET ones; the 32-bit x_tables path stays closed without x86.
  EXPECT_EQ(podman_reaches, (std::set<std::string>{"CVE-2017-7308", "CVE-2016-8655", "CVE-2020-14386",
                                                   "CVE-2022-2588", "CVE-2023-32233", "CVE-2024-1086",
                                                   "CVE-2022-1015", "CVE-2022-32250", "CVE-2022-34918"}));
  std::map<std::string, json> risky;
  for (const auto& row : doc["risky"]) risky[row["name"]] = row;
  EXPECT_EQ(risky.at("bpf")["profile"], "yes");
  EXPECT_EQ(risky.at("bpf")["docker"], "no");
  EXPECT_EQ(risky.at("unshare")["podman"], "yes");
  EXPECT_EQ(risky.at("personality")["profile"], "conditional");
  EXPECT_EQ(risky.at("personality")["docker"], "conditional");
}

TEST(ExplainCli, PodmanMissingInJson) {
  TempDir dir;
  write_text(dir.file("p.json"), kSmall.dump());
  Outcome r = sandmine({"explain", dir.file("p.json"), "--json", "--podman-default", dir.file("none.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json doc = json::parse(r.out);
  EXPECT_EQ(doc["defaults"][1]["available"], false);
  EXPECT_EQ(doc["defaults"][1]["reason"],
            dir.file("none.json") + " is not installed (containers-common installs it)");
  for (const auto& c : doc["cves"]) EXPECT_TRUE(c["podman"].is_null()) << c["id"];
}

TEST(ExplainCli, BadInput) {
  TempDir dir;
  expect_one_line_error(sandmine({"explain", dir.file("missing.json")}), "cannot read it");
  write_text(dir.file("bad.json"), "{\"defaultAction\": ");
  expect_one_line_error(sandmine({"explain", dir.file("bad.json")}), "not valid JSON");
  write_text(
      dir.file("unknown.json"),
      R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["frobnicate"], "action": "SCMP_ACT_ALLOW"}]})");
  expect_one_line_error(sandmine({"explain", dir.file("unknown.json")}),
                        "syscalls[0].names[0]: unknown syscall \"frobnicate\"");
  expect_one_line_error(sandmine({"explain"}), "profile is required");
}

TEST(ExplainCli, HelpHasExamples) {
  Outcome r = sandmine({"explain", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("EXAMPLES:"), std::string::npos);
}

// diff

namespace {
const std::string kA = R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
  "architectures": ["SCMP_ARCH_X86_64"],
  "syscalls": [{"names": ["read", "write", "open"], "action": "SCMP_ACT_ALLOW"},
               {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]}]})";
}  // namespace

TEST(Diff, SameAllowancesWrittenDifferently) {
  // Other order, a duplicate, the default errno spelled out, a rule with the default action.
  auto a = parse_ok(json::parse(kA));
  auto b = parse_ok(R"({"defaultAction": "SCMP_ACT_ERRNO",
    "architectures": ["SCMP_ARCH_X86_64"],
    "syscalls": [{"names": ["open", "write", "read", "read"], "action": "SCMP_ACT_ALLOW"},
                 {"names": ["mount"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
                 {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]}]})"_json);
  EXPECT_TRUE(diff_profiles(a, b).empty());
}

TEST(Diff, AddedRemovedAndChangedPerArchitecture) {
  auto a = parse_ok(json::parse(kA));
  auto b = parse_ok(R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
    "syscalls": [{"names": ["read", "write", "close"], "action": "SCMP_ACT_ALLOW"},
                 {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}]})"_json);
  auto d = diff_profiles(a, b);
  ASSERT_TRUE(d.default_action);
  EXPECT_EQ(d.default_action->first, (Action{"SCMP_ACT_ERRNO", 1}));
  EXPECT_EQ(d.default_action->second, (Action{"SCMP_ACT_ERRNO", 38}));
  EXPECT_EQ(d.arches_added, std::vector<std::string>{"x86"});
  EXPECT_TRUE(d.arches_removed.empty());
  ASSERT_EQ(d.arches.size(), 2u);
  EXPECT_EQ(d.arches["x86_64"].added, std::set<std::string>{"close"});
  EXPECT_EQ(d.arches["x86_64"].removed, std::set<std::string>{"open"});
  EXPECT_EQ(d.arches["x86_64"].changed, std::set<std::string>{"personality"});
  EXPECT_EQ(d.arches["x86"].added, (std::set<std::string>{"close", "personality", "read", "write"}));
  EXPECT_TRUE(d.arches["x86"].removed.empty());
}

TEST(DiffCli, ExitCodesAndListing) {
  TempDir dir;
  write_text(dir.file("a.json"), kA);
  write_text(dir.file("b.json"), R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
    "syscalls": [{"names": ["read", "write", "close"], "action": "SCMP_ACT_ALLOW"},
                 {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}]})");
  Outcome same = sandmine({"diff", dir.file("a.json"), dir.file("a.json")});
  EXPECT_EQ(same.exit_code, 0) << same.err;
  EXPECT_EQ(same.out, "");

  Outcome r = sandmine({"diff", dir.file("a.json"), dir.file("b.json")});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out, "--- " + dir.file("a.json") + "\n+++ " + dir.file("b.json") +
                       "\n"
                       "default action: SCMP_ACT_ERRNO (EPERM) -> SCMP_ACT_ERRNO (ENOSYS)\n"
                       "architectures added: x86\n"
                       "x86: 4 added, 0 removed\n"
                       "+ close\n"
                       "+ personality\n"
                       "+ read\n"
                       "+ write\n"
                       "x86_64: 1 added, 1 removed, 1 with other conditions\n"
                       "+ close\n"
                       "- open\n"
                       "~ personality\n");
  Outcome back = sandmine({"diff", dir.file("b.json"), dir.file("a.json")});
  EXPECT_EQ(back.exit_code, 1);
  EXPECT_NE(back.out.find("architectures removed: x86\n"), std::string::npos) << back.out;
}

TEST(DiffCli, FailOnAddedFailsOnlyWhenTheNewProfileAllowsMore) {
  TempDir dir;
  auto profile = [&](const std::string& file, const std::string& names, const std::string& more = "") {
    write_text(dir.file(file), R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
      "syscalls": [{"names": [)" + names +
                                   R"(], "action": "SCMP_ACT_ALLOW"})" + more + "]}");
  };
  profile("old.json", R"("read", "write", "close")");
  profile("fewer.json", R"("read", "write")");
  profile("more.json", R"("read", "write", "close", "mkdir")");
  profile("swap.json", R"("read", "write", "mkdir")");
  profile(
      "cond.json", R"("read", "write", "close")",
      R"(, {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]})");
  profile(
      "cond2.json", R"("read", "write", "close")",
      R"(, {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 9, "op": "SCMP_CMP_EQ"}]})");
  write_text(dir.file("log.json"), R"({"defaultAction": "SCMP_ACT_LOG", "architectures": ["SCMP_ARCH_X86_64"],
      "syscalls": [{"names": ["read", "write", "close"], "action": "SCMP_ACT_ALLOW"}]})");
  auto fail_on = [&](const std::string& a, const std::string& b) {
    return sandmine({"diff", dir.file(a), dir.file(b), "--fail-on", "added"});
  };
  // The same: 0 and nothing printed, with or without the flag.
  Outcome same = fail_on("old.json", "old.json");
  EXPECT_EQ(same.exit_code, 0) << same.err;
  EXPECT_EQ(same.out, "");
  // Only removed: printed, but 0 (today's diff says 1).
  Outcome fewer = fail_on("old.json", "fewer.json");
  EXPECT_EQ(fewer.exit_code, 0) << fewer.err;
  EXPECT_EQ(fewer.out, "--- " + dir.file("old.json") + "\n+++ " + dir.file("fewer.json") +
                           "\nx86_64: 0 added, 1 removed\n- close\n");
  EXPECT_EQ(sandmine({"diff", dir.file("old.json"), dir.file("fewer.json")}).exit_code, 1);
  // Added, added with one removed, a conditional rule that differs, a default that lets calls run: 1.
  Outcome more = fail_on("old.json", "more.json");
  EXPECT_EQ(more.exit_code, 1) << more.err;
  EXPECT_NE(more.out.find("+ mkdir\n"), std::string::npos) << more.out;
  EXPECT_EQ(fail_on("old.json", "swap.json").exit_code, 1);
  EXPECT_EQ(fail_on("cond.json", "cond2.json").exit_code, 1);
  EXPECT_EQ(fail_on("old.json", "log.json").exit_code, 1);
  // The other way round those are removals (and a stricter default): 0.
  EXPECT_EQ(fail_on("more.json", "old.json").exit_code, 0);
  EXPECT_EQ(fail_on("log.json", "old.json").exit_code, 0);
  EXPECT_EQ(fail_on("cond.json", "old.json").exit_code, 0);
  expect_one_line_error(
      sandmine({"diff", dir.file("old.json"), dir.file("more.json"), "--fail-on", "removed"}), "--fail-on");
}

TEST(DiffCli, BadInput) {
  TempDir dir;
  write_text(dir.file("a.json"), kA);
  expect_one_line_error(sandmine({"diff", dir.file("a.json"), dir.file("missing.json")}), "cannot read it");
  expect_one_line_error(sandmine({"diff", dir.file("a.json")}), "b is required");
}

}  // namespace sandmine::profile
