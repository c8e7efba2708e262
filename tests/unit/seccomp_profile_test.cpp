// Reading Docker/OCI seccomp profiles, the set they allow, complain mode, and
// the BPF program compiled from them (run here by a small classic-BPF
// interpreter over seccomp_data, the kernel's own input format).
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <array>
#include <cstring>
#include <nlohmann/json.hpp>

#include "profile/docker_json.h"
#include "profile/filter.h"
#include "profile/from_trace.h"
#include "support/run.h"
#include "syscalls/syscalls.h"

namespace sandmine::profile {

using nlohmann::json;
using trace::SyscallKey;

constexpr std::int64_t kX32 = 0x40000000;

HostFacts host() {
  HostFacts h;
  h.arch = "x86_64";
  h.capabilities = {"CAP_CHOWN", "CAP_SYS_CHROOT", "CAP_AUDIT_WRITE"};
  h.kernel_major = 6;
  h.kernel_minor = 1;
  return h;
}

Profile parse_ok(const json& doc) {
  auto p = parse_profile(doc, "p.json", host());
  EXPECT_TRUE(p.ok()) << p.error().message;
  return p.ok() ? *p : Profile{};
}

std::string parse_error(const std::string& text) {
  auto p = parse_profile(json::parse(text), "p.json", host());
  if (p.ok()) return "(parsed)";
  return p.error().message;
}

// A classic BPF interpreter for seccomp programs: runs program on one call.
std::uint32_t run_filter(const std::vector<sock_filter>& program, std::uint32_t audit_arch, std::int64_t nr,
                         std::array<std::uint64_t, 6> args = {}) {
  seccomp_data data{};
  data.nr = static_cast<int>(nr);
  data.arch = audit_arch;
  for (int i = 0; i < 6; ++i) data.args[i] = args[i];
  std::uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {};
  auto load = [&](std::uint32_t off) {
    std::uint32_t v = 0;
    EXPECT_LE(off + 4, sizeof data);
    std::memcpy(&v, reinterpret_cast<const char*>(&data) + off, 4);
    return v;
  };
  for (std::size_t pc = 0; pc < program.size(); ++pc) {
    const sock_filter& in = program[pc];
    std::uint32_t src = BPF_SRC(in.code) == BPF_X ? x : in.k;
    switch (BPF_CLASS(in.code)) {
      case BPF_LD:
        if (BPF_MODE(in.code) == BPF_ABS)
          a = load(in.k);
        else if (BPF_MODE(in.code) == BPF_IMM)
          a = in.k;
        else if (BPF_MODE(in.code) == BPF_MEM)
          a = mem[in.k];
        else if (BPF_MODE(in.code) == BPF_LEN)
          a = sizeof data;
        else
          ADD_FAILURE() << "ld mode " << in.code;
        break;
      case BPF_LDX:
        if (BPF_MODE(in.code) == BPF_IMM)
          x = in.k;
        else if (BPF_MODE(in.code) == BPF_MEM)
          x = mem[in.k];
        else if (BPF_MODE(in.code) == BPF_LEN)
          x = sizeof data;
        else
          ADD_FAILURE() << "ldx mode " << in.code;
        break;
      case BPF_ST:
        mem[in.k] = a;
        break;
      case BPF_STX:
        mem[in.k] = x;
        break;
      case BPF_ALU:
        switch (BPF_OP(in.code)) {
          case BPF_ADD:
            a += src;
            break;
          case BPF_SUB:
            a -= src;
            break;
          case BPF_MUL:
            a *= src;
            break;
          case BPF_DIV:
            a = src ? a / src : 0;
            break;
          case BPF_OR:
            a |= src;
            break;
          case BPF_AND:
            a &= src;
            break;
          case BPF_XOR:
            a ^= src;
            break;
          case BPF_LSH:
            a <<= src;
            break;
          case BPF_RSH:
            a >>= src;
            break;
          case BPF_NEG:
            a = -a;
            break;
          default:
            ADD_FAILURE() << "alu op " << in.code;
        }
        break;
      case BPF_JMP: {
        if (BPF_OP(in.code) == BPF_JA) {
          pc += in.k;
          break;
        }
        bool taken = false;
        switch (BPF_OP(in.code)) {
          case BPF_JEQ:
            taken = a == src;
            break;
          case BPF_JGT:
            taken = a > src;
            break;
          case BPF_JGE:
            taken = a >= src;
            break;
          case BPF_JSET:
            taken = (a & src) != 0;
            break;
          default:
            ADD_FAILURE() << "jmp op " << in.code;
        }
        pc += taken ? in.jt : in.jf;
        break;
      }
      case BPF_RET:
        return BPF_RVAL(in.code) == BPF_A ? a : in.k;
      case BPF_MISC:
        if (BPF_MISCOP(in.code) == BPF_TAX)
          x = a;
        else
          a = x;
        break;
    }
  }
  ADD_FAILURE() << "the program ran off its end";
  return 0;
}

constexpr std::uint32_t kAllow = SECCOMP_RET_ALLOW;
constexpr std::uint32_t kLog = SECCOMP_RET_LOG;
constexpr std::uint32_t kEperm = SECCOMP_RET_ERRNO | 1;

std::vector<sock_filter> compile(const Profile& p, FilterMode mode) {
  auto program = compile_filter(p, mode);
  EXPECT_TRUE(program.ok()) << program.error().message;
  return program.ok() ? *program : std::vector<sock_filter>{};
}

TEST(Profile, ReadsTheProfileSandmineWrites) {
  Profile written{.source = "p.json", .default_action = Action::error(1), .arches = {"x86_64", "x86"}};
  allow(written, {"read", "write", "getpid"}, "");
  auto p = parse_ok(to_docker_json(written));
  EXPECT_EQ(p.default_action, (Action{"SCMP_ACT_ERRNO", 1}));
  EXPECT_EQ(p.arches, (std::vector<std::string>{"x86_64", "x86"}));
  ASSERT_EQ(p.syscalls.size(), 3u);
  for (const char* name : {"getpid", "read", "write"}) {
    EXPECT_EQ(p.syscalls.at(name).action, (Action{"SCMP_ACT_ALLOW", 0})) << name;
    EXPECT_TRUE(p.syscalls.at(name).rules.empty()) << name;
    EXPECT_EQ(p.syscalls.at(name).field, "syscalls[0]") << name;
  }
  EXPECT_TRUE(p.warnings.empty());
  // The format gives every architecture the union of names.
  EXPECT_EQ(allowed_set(p),
            (std::set<SyscallKey>{
                {"x86_64", 0}, {"x86_64", 1}, {"x86_64", 39}, {"x86", 3}, {"x86", 4}, {"x86", 20}}));
}

// The shape of Docker's and Podman's default profiles (moby
// profiles/seccomp/default.json, containers-common seccomp.json).
const char* kDockerShaped = R"({
  "defaultAction": "SCMP_ACT_ERRNO",
  "defaultErrnoRet": 1,
  "archMap": [
    {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
    {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]},
    {"architecture": "SCMP_ARCH_S390X", "subArchitectures": null}
  ],
  "syscalls": [
    {"names": ["read", "write", "_llseek", "cacheflush"], "action": "SCMP_ACT_ALLOW",
     "args": [], "comment": "", "includes": {}, "excludes": {}},
    {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
     "args": [{"index": 0, "value": 4294967295, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]},
    {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x32"]}},
    {"names": ["sync_file_range2"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["ppc64le"]}},
    {"names": ["uname"], "action": "SCMP_ACT_ALLOW", "excludes": {"arches": ["x86_64"]}},
    {"names": ["bpf"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
    {"names": ["bpf"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
    {"names": ["chroot"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_CHROOT"]}},
    {"name": "getpid", "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
    {"names": ["getppid"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "99.1"}},
    {"names": ["gettid"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "5.0"}},
    {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
    {"names": ["acct"], "action": "SCMP_ACT_ERRNO", "errno": "EACCES", "args": null, "includes": {}, "excludes": {}}
  ]
})";

TEST(Profile, ReadsADockerDefaultShapedProfile) {
  auto p = parse_ok(json::parse(kDockerShaped));
  EXPECT_EQ(p.arches, (std::vector<std::string>{"x86_64", "x86", "x32"}));
  std::map<std::string, std::string> fields;
  for (const auto& [name, policy] : p.syscalls) fields[name] = policy.field;
  // Left out: sync_file_range2 (ppc64le only), uname (not on x86_64), the
  // CAP_SYS_ADMIN allow, getppid (kernel too old), gettid (kernel new enough),
  // the bpf denial (the default action anyway), cacheflush (no such call here).
  EXPECT_EQ(fields, (std::map<std::string, std::string>{{"_llseek", "syscalls[0]"},
                                                        {"acct", "syscalls[12]"},
                                                        {"arch_prctl", "syscalls[2]"},
                                                        {"chroot", "syscalls[7]"},
                                                        {"clone3", "syscalls[11]"},
                                                        {"getpid", "syscalls[8]"},
                                                        {"personality", "syscalls[1]"},
                                                        {"read", "syscalls[0]"},
                                                        {"write", "syscalls[0]"}}));
  ASSERT_EQ(p.syscalls.at("personality").rules.size(), 1u);
  EXPECT_FALSE(p.syscalls.at("personality").action);
  EXPECT_EQ(p.syscalls.at("personality").rules[0].args,
            (std::vector<ArgCondition>{{0, 4294967295u, 0, "SCMP_CMP_EQ"}}));
  EXPECT_EQ(p.syscalls.at("clone3").action, (Action{"SCMP_ACT_ERRNO", 38}));
  EXPECT_EQ(p.syscalls.at("acct").action, (Action{"SCMP_ACT_ERRNO", EACCES}));
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_EQ(p.warnings[0],
            "profile p.json: 1 syscall exist on none of its architectures (x86_64, x86, x32) and cannot be "
            "allowed or denied there: cacheflush");

  // personality only with an argument, bpf and clone3 denied; _llseek is i386's.
  EXPECT_EQ(allowed_set(p), (std::set<SyscallKey>{{"x86_64", 0},
                                                  {"x86_64", 1},
                                                  {"x86_64", 158},  // arch_prctl
                                                  {"x86_64", 161},
                                                  {"x86_64", 39},  // chroot getpid
                                                  {"x86", 3},
                                                  {"x86", 4},
                                                  {"x86", 140},  // _llseek
                                                  {"x86", 384},
                                                  {"x86", 61},
                                                  {"x86", 20},
                                                  {"x32", kX32 | 0},
                                                  {"x32", kX32 | 1},
                                                  {"x32", kX32 | 158},
                                                  {"x32", kX32 | 161},
                                                  {"x32", kX32 | 39}}));
}

TEST(Profile, ArchitecturesDefaultToTheNativeOne) {
  auto p = parse_ok(json::parse(R"({"defaultAction": "SCMP_ACT_ALLOW"})"));
  EXPECT_EQ(p.arches, (std::vector<std::string>{"x86_64"}));
  EXPECT_TRUE(p.syscalls.empty());
  // An archMap without the host's architecture: the native one too, as runc.
  auto q = parse_ok(json::parse(
      R"({"defaultAction": "SCMP_ACT_ERRNO", "archMap": [{"architecture": "SCMP_ARCH_AARCH64"}]})"));
  EXPECT_EQ(q.arches, (std::vector<std::string>{"x86_64"}));
}

TEST(Profile, TheFirstUnconditionalRuleDecidesAsInLibseccomp) {
  auto p = parse_ok(json::parse(R"({
    "defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
    "syscalls": [
      {"names": ["getpid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5},
      {"names": ["getpid", "getppid"], "action": "SCMP_ACT_ALLOW"},
      {"names": ["gettid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
      {"names": ["gettid"], "action": "SCMP_ACT_ALLOW"},
      {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22,
       "args": [{"index": 0, "value": 16, "op": "SCMP_CMP_EQ"}]},
      {"names": ["socket"], "action": "SCMP_ACT_ALLOW"},
      {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
       "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]}
    ]})"));
  EXPECT_EQ(unconditional_action(p, "getpid"), (Action{"SCMP_ACT_ERRNO", 5}));
  EXPECT_EQ(unconditional_action(p, "getppid"), (Action{"SCMP_ACT_ALLOW", 0}));
  // A rule with the default action (ERRNO 1) changes nothing.
  EXPECT_EQ(unconditional_action(p, "gettid"), (Action{"SCMP_ACT_ALLOW", 0}));
  // An unconditional rule wins over conditional ones, wherever they are.
  EXPECT_EQ(unconditional_action(p, "socket"), (Action{"SCMP_ACT_ALLOW", 0}));
  EXPECT_EQ(unconditional_action(p, "personality"), std::nullopt);
  EXPECT_EQ(unconditional_action(p, "uname"), (Action{"SCMP_ACT_ERRNO", 1}));
  EXPECT_EQ(allowed_set(p), (std::set<SyscallKey>{{"x86_64", 110}, {"x86_64", 186}, {"x86_64", 41}}));

  // The compiled program agrees.
  auto program = compile(p, FilterMode::enforce);
  EXPECT_EQ(run_filter(program, AUDIT_ARCH_X86_64, 39), SECCOMP_RET_ERRNO | 5);  // getpid
  EXPECT_EQ(run_filter(program, AUDIT_ARCH_X86_64, 110), kAllow);                // getppid
  EXPECT_EQ(run_filter(program, AUDIT_ARCH_X86_64, 186), kAllow);                // gettid
  EXPECT_EQ(run_filter(program, AUDIT_ARCH_X86_64, 41, {16}), kAllow);           // socket
  EXPECT_EQ(run_filter(program, AUDIT_ARCH_X86_64, 135, {0}), kAllow);           // personality(0)
  EXPECT_EQ(run_filter(program, AUDIT_ARCH_X86_64, 135, {8}), kEperm);           // personality(8)
  EXPECT_EQ(run_filter(program, AUDIT_ARCH_X86_64, 63), kEperm);                 // uname
}

TEST(Profile, DefaultAllowAllowsEveryNumberWithoutARule) {
  auto p = parse_ok(json::parse(R"({
    "defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
    "syscalls": [{"names": ["uname"], "action": "SCMP_ACT_ERRNO"},
                 {"names": ["personality"], "action": "SCMP_ACT_ERRNO",
                  "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_NE"}]}]})"));
  auto allowed = allowed_set(p);
  EXPECT_TRUE(allowed.count({"x86_64", 0}));
  EXPECT_TRUE(allowed.count({"x86_64", 39}));
  EXPECT_FALSE(allowed.count({"x86_64", 63}));
  EXPECT_FALSE(allowed.count({"x86_64", 135}));
  EXPECT_EQ(allowed.size() + 2, [] {
    std::size_t named = 0;
    for (std::int64_t nr = 0; nr < 1024; ++nr) named += syscalls::name_of("x86_64", nr).has_value();
    return named;
  }());
}

struct Malformed {
  const char* json;
  const char* error;
};

class MalformedProfile : public ::testing::TestWithParam<Malformed> {};

TEST_P(MalformedProfile, FailsWithOneLineNamingTheField) {
  std::string error = parse_error(GetParam().json);
  EXPECT_EQ(error, GetParam().error);
  EXPECT_EQ(error.find('\n'), std::string::npos);
}

#define ACTIONS                                                                                 \
  "SCMP_ACT_KILL, SCMP_ACT_KILL_THREAD, SCMP_ACT_KILL_PROCESS, SCMP_ACT_TRAP, SCMP_ACT_ERRNO, " \
  "SCMP_ACT_TRACE, "                                                                            \
  "SCMP_ACT_ALLOW, SCMP_ACT_LOG, SCMP_ACT_NOTIFY"
#define OPERATORS \
  "SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ"
#define ALLOW_READ R"({"names": ["read"], "action": "SCMP_ACT_ALLOW")"

INSTANTIATE_TEST_SUITE_P(
    Fields, MalformedProfile,
    ::testing::Values(
        Malformed{"[]", "profile p.json: (document): expected a JSON object, got an array"},
        Malformed{"{}", "profile p.json: defaultAction: missing (e.g. SCMP_ACT_ALLOW)"},
        Malformed{R"({"defaultAction": 1})",
                  "profile p.json: defaultAction: expected a string, got the number 1"},
        Malformed{R"({"defaultAction": "SCMP_ACT_DENY"})",
                  "profile p.json: defaultAction: unknown action \"SCMP_ACT_DENY\" (expected one of " ACTIONS
                  ")"},
        Malformed{R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": -1})",
                  "profile p.json: defaultErrnoRet: expected a non-negative integer, got -1"},
        Malformed{R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 5000})",
                  "profile p.json: defaultErrnoRet: errno 5000 is out of range (0 to 4095)"},
        Malformed{
            R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": "EPERM"})",
            "profile p.json: defaultErrnoRet: expected a non-negative integer, got the string \"EPERM\""},
        Malformed{R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrno": "EFOO"})",
                  "profile p.json: defaultErrno: unknown errno name \"EFOO\" (e.g. EPERM)"},
        Malformed{R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": "SCMP_ARCH_X86_64"})",
                  "profile p.json: architectures: expected an array of strings, got the string "
                  "\"SCMP_ARCH_X86_64\""},
        Malformed{R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64", 3]})",
                  "profile p.json: architectures[1]: expected a string, got the number 3"},
        Malformed{
            R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["x86_64"]})",
            "profile p.json: architectures[0]: unknown architecture x86_64 (expected e.g. SCMP_ARCH_X86_64)"},
        Malformed{
            R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
                      "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]})",
            "profile p.json: archMap: the profile has both architectures and archMap; Docker takes one or "
            "the other"},
        Malformed{R"({"defaultAction": "SCMP_ACT_ERRNO", "archMap": [{"subArchitectures": []}]})",
                  "profile p.json: archMap[0].architecture: missing (e.g. SCMP_ARCH_X86_64)"},
        Malformed{
            R"({"defaultAction": "SCMP_ACT_ERRNO",
                      "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_VAX"]}]})",
            "profile p.json: archMap[0].subArchitectures[0]: unknown architecture SCMP_ARCH_VAX (expected "
            "e.g. SCMP_ARCH_X86_64)"},
        Malformed{R"({"defaultAction": "SCMP_ACT_ERRNO", "flags": ["SECCOMP_FILTER_FLAG_FAST"]})",
                  "profile p.json: flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_FAST\" (expected one of "
                  "SECCOMP_FILTER_FLAG_TSYNC, SECCOMP_FILTER_FLAG_LOG, SECCOMP_FILTER_FLAG_SPEC_ALLOW, "
                  "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)"},
        Malformed{R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": {}})",
                  "profile p.json: syscalls: expected an array, got an object"},
        Malformed{R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": ["read"]})",
                  "profile p.json: syscalls[0]: expected an object, got the string \"read\""},
        Malformed{R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": [
                      )" ALLOW_READ
                  R"(}, {"names": ["write", "close", "foo"], "action": "SCMP_ACT_ALLOW"}]})",
                  "profile p.json: syscalls[1].names[2]: unknown syscall \"foo\" on x86_64"},
        Malformed{R"({"defaultAction": "SCMP_ACT_ERRNO",
                      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"], "syscalls": [
                      {"name": "reed", "action": "SCMP_ACT_ALLOW"}]})",
                  "profile p.json: syscalls[0].name: unknown syscall \"reed\" on x86_64, x86"},
        Malformed{R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
                      {"name": "read", "names": ["write"], "action": "SCMP_ACT_ALLOW"}]})",
                  "profile p.json: syscalls[0]: has both name and names; Docker takes one or the other"},
        Malformed{R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"action": "SCMP_ACT_ALLOW"}]})",
                  "profile p.json: syscalls[0]: has no names (e.g. \"names\": [\"read\"])"},
        Malformed{
            R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": [], "action": "SCMP_ACT_ALLOW"}]})",
            "profile p.json: syscalls[0].names: is empty"},
        Malformed{
            R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": "read", "action": "SCMP_ACT_ALLOW"}]})",
            "profile p.json: syscalls[0].names: expected an array of strings, got the string \"read\""},
        Malformed{
            R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read", null], "action": "SCMP_ACT_ALLOW"}]})",
            "profile p.json: syscalls[0].names[1]: expected a string, got null"},
        Malformed{R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"]}]})",
                  "profile p.json: syscalls[0].action: missing (e.g. SCMP_ACT_ALLOW)"},
        Malformed{
            R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "ALLOW"}]})",
            "profile p.json: syscalls[0].action: unknown action \"ALLOW\" (expected one of " ACTIONS ")"},
        Malformed{R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
                      {"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": true}]})",
                  "profile p.json: syscalls[0].errnoRet: expected a non-negative integer, got true"},
        Malformed{R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
                      {"names": ["read"], "action": "SCMP_ACT_ERRNO", "errno": 1}]})",
                  "profile p.json: syscalls[0].errno: expected a string, got the number 1"},
        Malformed{R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [)" ALLOW_READ R"(, "comment": 7}]})",
                  "profile p.json: syscalls[0].comment: expected a string, got the number 7"},
        Malformed{R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [)" ALLOW_READ R"(, "args": {}}]})",
                  "profile p.json: syscalls[0].args: expected an array, got an object"},
        Malformed{R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [)" ALLOW_READ R"(, "args": [3]}]})",
                  "profile p.json: syscalls[0].args[0]: expected an object, got the number 3"},
        Malformed{R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [)" ALLOW_READ
                  R"(, "args": [{"value": 1, "op": "SCMP_CMP_EQ"}]}]})",
                  "profile p.json: syscalls[0].args[0].index: missing (0 to 5)"},
        Malformed{R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [)" ALLOW_READ
                  R"(, "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]})",
                  "profile p.json: syscalls[0].args[0].index: 6 is out of range (0 to 5)"},
        Malformed{R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [)" ALLOW_READ
                  R"(, "args": [{"index": 0, "value": -2, "op": "SCMP_CMP_EQ"}]}]})",
                  "profile p.json: syscalls[0].args[0].value: expected a non-negative integer, got -2"},
        Malformed{R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [)" ALLOW_READ
                  R"(, "args": [{"index": 0, "value": 1, "valueTwo": 1.5, "op": "SCMP_CMP_MASKED_EQ"}]}]})",
                  "profile p.json: syscalls[0].args[0].valueTwo: expected a non-negative integer, got the "
                  "fractional number 1.5"},
        Malformed{R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [)" ALLOW_READ
                  R"(, "args": [{"index": 0, "value": 1}]}]})",
                  "profile p.json: syscalls[0].args[0].op: missing (e.g. SCMP_CMP_EQ)"},
        Malformed{R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [)" ALLOW_READ
                  R"(, "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_IN"}]}]})",
                  "profile p.json: syscalls[0].args[0].op: unknown operator \"SCMP_CMP_IN\" (expected one "
                  "of " OPERATORS ")"},
        Malformed{R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [)" ALLOW_READ R"(, "includes": []}]})",
                  "profile p.json: syscalls[0].includes: expected an object, got an array"},
        Malformed{
            R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [)" ALLOW_READ
            R"(, "includes": {"arches": ["vax"]}}]})",
            "profile p.json: syscalls[0].includes.arches[0]: unknown architecture \"vax\" (e.g. amd64 or "
            "x86_64)"},
        Malformed{R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [)" ALLOW_READ
                  R"(, "excludes": {"caps": "CAP_SYS_ADMIN"}}]})",
                  "profile p.json: syscalls[0].excludes.caps: expected an array of strings, got the string "
                  "\"CAP_SYS_ADMIN\""},
        Malformed{
            R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [)" ALLOW_READ
            R"(, "includes": {"minKernel": "four"}}]})",
            "profile p.json: syscalls[0].includes.minKernel: \"four\" is not a kernel version (e.g. 4.8)"}));

TEST(Profile, FileErrorsNameTheFile) {
  auto missing = read_profile("/nonexistent-sandmine/p.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message,
            "profile /nonexistent-sandmine/p.json: cannot read it: No such file or directory");

  test::TempDir dir;
  test::write_text(dir.file("bad.json"), "{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n}\n");
  auto bad = read_profile(dir.file("bad.json"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message.rfind(
                "profile " + dir.file("bad.json") + ": not valid JSON: parse error at line 3", 0),
            0u)
      << bad.error().message;
  EXPECT_EQ(bad.error().message.find('\n'), std::string::npos);

  test::write_text(dir.file("ok.json"),
                   R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [)" ALLOW_READ "}]}");
  auto ok = read_profile(dir.file("ok.json"));
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->source, dir.file("ok.json"));
}

TEST(Profile, ComplainModeLogsEverythingThatIsNotAllowed) {
  auto p = parse_ok(json::parse(R"({
    "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "architectures": ["SCMP_ARCH_X86_64"],
    "syscalls": [
      {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
      {"names": ["uname"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
      {"names": ["kill"], "action": "SCMP_ACT_KILL_PROCESS"},
      {"names": ["getpid"], "action": "SCMP_ACT_TRAP"},
      {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
       "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]}
    ]})"));
  auto c = complain_mode(p);
  EXPECT_EQ(c.default_action, (Action{"SCMP_ACT_LOG", 0}));
  std::map<std::string, Action> actions;
  for (const auto& [name, policy] : c.syscalls)
    actions[name] = policy.action ? *policy.action : policy.rules.at(0).action;
  EXPECT_EQ(actions,
            (std::map<std::string, Action>{{"getpid", {"SCMP_ACT_LOG", 0}},
                                           {"kill", {"SCMP_ACT_LOG", 0}},
                                           {"personality", {"SCMP_ACT_ALLOW", 0}},
                                           {"read", {"SCMP_ACT_ALLOW", 0}},
                                           {"uname", {"SCMP_ACT_ERRNO", 38}},  // ENOSYS: answered on purpose
                                           {"write", {"SCMP_ACT_ALLOW", 0}}}));
  EXPECT_EQ(c.syscalls.at("personality").rules, p.syscalls.at("personality").rules);
  EXPECT_EQ(allowed_set(c), allowed_set(p));
  EXPECT_EQ(allowed_set(p), (std::set<SyscallKey>{{"x86_64", 0}, {"x86_64", 1}}));

  // In the kernel's terms: the enforcing program returns what the profile
  // says, the complaining one only ALLOW or LOG, and the ENOSYS answer.
  auto enforce = compile(p, FilterMode::enforce);
  EXPECT_EQ(run_filter(enforce, AUDIT_ARCH_X86_64, 0), kAllow);
  EXPECT_EQ(run_filter(enforce, AUDIT_ARCH_X86_64, 63), SECCOMP_RET_ERRNO | 38);
  EXPECT_EQ(run_filter(enforce, AUDIT_ARCH_X86_64, 62), SECCOMP_RET_KILL_PROCESS);
  EXPECT_EQ(run_filter(enforce, AUDIT_ARCH_X86_64, 39), SECCOMP_RET_TRAP);
  EXPECT_EQ(run_filter(enforce, AUDIT_ARCH_X86_64, 135, {0}), kAllow);
  EXPECT_EQ(run_filter(enforce, AUDIT_ARCH_X86_64, 135, {1}), kEperm);
  EXPECT_EQ(run_filter(enforce, AUDIT_ARCH_X86_64, 83), kEperm);  // mkdir
  auto complain = compile(p, FilterMode::complain);
  for (const auto& in : complain)
    if (BPF_CLASS(in.code) == BPF_RET) {
      EXPECT_TRUE(in.k == kAllow || in.k == kLog || in.k == (SECCOMP_RET_ERRNO | 38)) << std::hex << in.k;
    }
  EXPECT_EQ(run_filter(complain, AUDIT_ARCH_X86_64, 0), kAllow);
  EXPECT_EQ(run_filter(complain, AUDIT_ARCH_X86_64, 63), SECCOMP_RET_ERRNO | 38);
  for (std::int64_t nr : {62, 39, 83}) EXPECT_EQ(run_filter(complain, AUDIT_ARCH_X86_64, nr), kLog) << nr;
  EXPECT_EQ(run_filter(complain, AUDIT_ARCH_X86_64, 135, {0}), kAllow);
  EXPECT_EQ(run_filter(complain, AUDIT_ARCH_X86_64, 135, {1}), kLog);
  EXPECT_EQ(run_filter(complain, AUDIT_ARCH_I386, 20), kLog);
}

TEST(Profile, OtherArchitecturesGetTheDefaultAction) {
  Profile sb{.source = "p.json", .default_action = Action::error(1), .arches = {"x86_64"}};
  allow(sb, {"read", "getpid"}, "");
  auto x86_64_only = parse_ok(to_docker_json(sb));
  auto program = compile(x86_64_only, FilterMode::enforce);
  EXPECT_EQ(run_filter(program, AUDIT_ARCH_X86_64, 39), kAllow);
  EXPECT_EQ(run_filter(program, AUDIT_ARCH_X86_64, 63), kEperm);
  EXPECT_EQ(run_filter(program, AUDIT_ARCH_I386, 20), kEperm);           // int $0x80 getpid
  EXPECT_EQ(run_filter(program, AUDIT_ARCH_I386, 3), kEperm);            // int $0x80 read
  EXPECT_EQ(run_filter(program, AUDIT_ARCH_X86_64, kX32 | 39), kEperm);  // x32 getpid
  EXPECT_EQ(run_filter(program, AUDIT_ARCH_AARCH64, 172), kEperm);

  sb.arches = {"x86_64", "x86", "x32"};
  auto all_three = parse_ok(to_docker_json(sb));
  auto program3 = compile(all_three, FilterMode::enforce);
  EXPECT_EQ(run_filter(program3, AUDIT_ARCH_I386, 20), kAllow);
  EXPECT_EQ(run_filter(program3, AUDIT_ARCH_I386, 3), kAllow);  // the format's union of names
  EXPECT_EQ(run_filter(program3, AUDIT_ARCH_I386, 64), kEperm);
  EXPECT_EQ(run_filter(program3, AUDIT_ARCH_X86_64, kX32 | 39), kAllow);
  EXPECT_EQ(run_filter(program3, AUDIT_ARCH_X86_64, kX32 | 110), kEperm);

  // A profile without the native architecture filters only what it lists.
  auto i386_only =
      parse_ok(json::parse(R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86"],
    "syscalls": [{"names": ["getpid"], "action": "SCMP_ACT_ALLOW"}]})"));
  auto program86 = compile(i386_only, FilterMode::enforce);
  EXPECT_EQ(run_filter(program86, AUDIT_ARCH_I386, 20), kAllow);
  EXPECT_EQ(run_filter(program86, AUDIT_ARCH_X86_64, 39), kEperm);
  EXPECT_EQ(allowed_set(i386_only), (std::set<SyscallKey>{{"x86", 20}}));
}

TEST(Profile, ArgumentConditionsCompileAsRuncAddsThem) {
  auto p = parse_ok(json::parse(R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
    "syscalls": [
      {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
       "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
      {"names": ["socket"], "action": "SCMP_ACT_ALLOW",
       "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 1, "op": "SCMP_CMP_EQ"}]},
      {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
       "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}
    ]})"));
  auto program = compile(p, FilterMode::enforce);
  EXPECT_EQ(run_filter(program, AUDIT_ARCH_X86_64, 56, {0x11}), kAllow);        // clone without CLONE_NEW*
  EXPECT_EQ(run_filter(program, AUDIT_ARCH_X86_64, 56, {0x10000000}), kEperm);  // CLONE_NEWUSER
  EXPECT_EQ(run_filter(program, AUDIT_ARCH_X86_64, 41, {1, 1}), kAllow);        // both conditions hold
  EXPECT_EQ(run_filter(program, AUDIT_ARCH_X86_64, 41, {1, 2}), kEperm);
  // Two conditions on one argument: one rule each (runc), so either allows.
  EXPECT_EQ(run_filter(program, AUDIT_ARCH_X86_64, 135, {0}), kAllow);
  EXPECT_EQ(run_filter(program, AUDIT_ARCH_X86_64, 135, {8}), kAllow);
  EXPECT_EQ(run_filter(program, AUDIT_ARCH_X86_64, 135, {3}), kEperm);
  EXPECT_TRUE(allowed_set(p).empty());
}

TEST(Profile, NotifyCannotBeEnforced) {
  auto p = parse_ok(json::parse(R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
    "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]})"));
  auto program = compile_filter(p, FilterMode::enforce);
  ASSERT_FALSE(program.ok());
  EXPECT_EQ(
      program.error().message,
      "profile p.json: syscalls[0].action: SCMP_ACT_NOTIFY needs a seccomp agent to answer the calls, which "
      "sandmine run does not provide (use --mode complain, or another action)");
  EXPECT_TRUE(compile_filter(p, FilterMode::complain).ok());
}

TEST(Profile, HostFactsOfThisMachine) {
  auto h = HostFacts::current();
  EXPECT_FALSE(h.arch.empty());
  EXPECT_GE(h.kernel_major, 3);
  EXPECT_EQ(h.capabilities.size(), 14u);
  EXPECT_TRUE(h.capabilities.count("CAP_NET_BIND_SERVICE"));
  EXPECT_FALSE(h.capabilities.count("CAP_SYS_ADMIN"));
}

// Found by fuzz_profile: a number too large for a double is nlohmann's
// out_of_range, not a parse_error; it escaped the reader and ended the process.
TEST(SeccompProfile, ANumberTooLargeIsNotValidJson) {
  test::TempDir dir;
  test::write_text(dir.file("p.json"),
                   R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 7E00129193})");
  auto p = read_profile(dir.file("p.json"));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().message,
            "profile " + dir.file("p.json") + ": not valid JSON: number overflow parsing '7E00129193'");
}

}  // namespace sandmine::profile
