// The profile model: built from traces, its queries and its passes, and the
// one Docker/OCI writer.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "profile/docker_json.h"
#include "profile/from_trace.h"
#include "profile/profile.h"

namespace sandmine::profile {

using nlohmann::json;

trace::Trace trace_of(std::vector<trace::SyscallEntry> entries) {
  trace::Trace t;
  t.backend = "ebpf";
  t.syscalls = std::move(entries);
  return t;
}

TEST(Profile, UnionOfTracesAsOciJson) {
  std::vector<std::string> warnings;
  auto p = from_traces({trace_of({{"x86_64", "read", 0, 1, 0, ""}, {"x86_64", "write", 1, 1, 0, ""}}),
                        trace_of({{"x86_64", "read", 0, 5, 0, ""}, {"x86", "getpid", 20, 1, 0, ""}})},
                       warnings);
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(p.arches, (std::vector<std::string>{"x86_64", "x86"}));
  EXPECT_EQ(allowed_names(p), (std::set<std::string>{"getpid", "read", "write"}));
  json expected = R"({
    "defaultAction": "SCMP_ACT_ERRNO",
    "defaultErrnoRet": 1,
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
    "syscalls": [{"names": ["getpid", "read", "write"], "action": "SCMP_ACT_ALLOW"}]
  })"_json;
  EXPECT_EQ(to_docker_json(p), expected);
}

TEST(Profile, OnlyUsedArchitecturesAreListed) {
  std::vector<std::string> warnings;
  auto p = from_traces({trace_of({{"x86_64", "read", 0, 1, 0, ""}})}, warnings);
  EXPECT_EQ(to_docker_json(p)["architectures"], json::array({"SCMP_ARCH_X86_64"}));
}

TEST(Profile, UnnamedNumbersAreReportedNotDropped) {
  std::vector<std::string> warnings;
  auto p =
      from_traces({trace_of({{"x86_64", "", 999, 1, 0, ""}, {"x86_64", "read", 0, 1, 0, ""}})}, warnings);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("x86_64 syscall number 999 has no name"), std::string::npos);
  EXPECT_EQ(allowed_names(p), (std::set<std::string>{"read"}));
}

// Names added for a reason get a rule of their own whose comment says it, and
// read back into the same model.
TEST(Profile, AddedNamesCarryTheirCommentThroughTheWriterAndBack) {
  Profile p{.source = "p.json", .default_action = Action::error(1), .arches = {"x86_64"}};
  EXPECT_EQ(allow(p, {"read", "write"}, ""), (std::set<std::string>{"read", "write"}));
  EXPECT_EQ(allow(p, {"write", "mkdir", "no_such_call"}, "added by a test"),
            (std::set<std::string>{"mkdir"}));
  json expected = R"({
    "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "architectures": ["SCMP_ARCH_X86_64"],
    "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
                 {"names": ["mkdir"], "action": "SCMP_ACT_ALLOW", "comment": "added by a test"}]
  })"_json;
  EXPECT_EQ(to_docker_json(p), expected);
  auto back = parse_profile(expected, "p.json");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->syscalls.at("mkdir").comment, "added by a test");
  EXPECT_EQ(to_docker_json(*back), expected);
}

TEST(Profile, DecideTakesTheUnconditionalActionElseTheFirstMatchingRuleElseTheDefault) {
  Profile p{.source = "p.json", .default_action = Action::error(1), .arches = {"x86_64"}};
  p.syscalls["read"].action = Action::allow();
  p.syscalls["socket"].rules = {{Action::allow(), {{0, 1, 0, "SCMP_CMP_EQ"}}},
                                {Action::error(13), {{0, 0xff, 2, "SCMP_CMP_MASKED_EQ"}}}};
  EXPECT_EQ(decide(p, "read", {}), Action::allow());
  EXPECT_EQ(decide(p, "socket", {1, 1}), Action::allow());        // AF_UNIX
  EXPECT_EQ(decide(p, "socket", {0x102, 1}), Action::error(13));  // low byte 2
  EXPECT_EQ(decide(p, "socket", {16, 3}), Action::error(1));      // AF_NETLINK: none matches
  EXPECT_EQ(decide(p, "mkdir", {}), Action::error(1));
  EXPECT_EQ(unconditional_action(p, "read"), Action::allow());
  EXPECT_EQ(unconditional_action(p, "socket"), std::nullopt);
  EXPECT_EQ(unconditional_action(p, "mkdir"), Action::error(1));
  EXPECT_EQ(allowed_names(p), (std::set<std::string>{"read"}));
  EXPECT_FALSE(plain_allow_list(p).ok());
  EXPECT_NE(plain_allow_list(p).error().message.find("it allows socket only for some argument values"),
            std::string::npos)
      << plain_allow_list(p).error().message;
}

TEST(Profile, ComplainModeLogsEveryDenial) {
  Profile p{.source = "p.json", .default_action = Action::error(1), .arches = {"x86_64"}};
  p.syscalls["read"].action = Action::allow();
  p.syscalls["kill"].action = Action::error(1);  // not written: the default
  p.syscalls["socket"].rules = {{Action::allow(), {{0, 1, 0, "SCMP_CMP_EQ"}}},
                                {Action::error(13), {{0, 2, 0, "SCMP_CMP_EQ"}}}};
  auto c = complain_mode(p);
  EXPECT_EQ(c.default_action, Action::log());
  EXPECT_EQ(c.syscalls.at("read").action, Action::allow());
  EXPECT_EQ(c.syscalls.at("kill").action, Action::log());
  EXPECT_EQ(c.syscalls.at("socket").rules[0].action, Action::allow());
  EXPECT_EQ(c.syscalls.at("socket").rules[1].action, Action::log());
  EXPECT_EQ(c.syscalls.at("socket").rules[1].args, p.syscalls.at("socket").rules[1].args);
}

TEST(Profile, ComplainModeKeepsARulesEnosysAnswerButNotAnEnosysDefault) {
  // clone3 answered with ENOSYS on purpose: glibc falls back to clone in
  // complain mode as it will under the profile.
  Profile p{.source = "p.json", .default_action = Action::error(ENOSYS), .arches = {"x86_64"}};
  p.syscalls["clone3"].action = Action::error(ENOSYS);
  p.syscalls["ioctl"].rules = {{Action::error(ENOSYS), {{1, 0x5401, 0, "SCMP_CMP_EQ"}}},
                               {Action::error(EPERM), {{1, 0x5402, 0, "SCMP_CMP_EQ"}}}};
  auto c = complain_mode(p);
  EXPECT_EQ(c.default_action, Action::log());
  EXPECT_EQ(c.syscalls.at("clone3").action, Action::error(ENOSYS));
  EXPECT_EQ(c.syscalls.at("ioctl").rules[0].action, Action::error(ENOSYS));
  EXPECT_EQ(c.syscalls.at("ioctl").rules[1].action, Action::log());
}

TEST(Profile, UnionAllowsWhatAnyAllowsAndUnitesArgumentRules) {
  Profile a{.source = "a.json", .default_action = Action::error(1), .arches = {"x86_64"}};
  Profile b{.source = "b.json", .default_action = Action::error(1), .arches = {"x86"}};
  a.syscalls["read"].action = Action::allow();
  a.syscalls["socket"].rules = {{Action::allow(), {{0, 1, 0, "SCMP_CMP_EQ"}}}};
  b.syscalls["socket"].rules = {{Action::allow(), {{0, 2, 0, "SCMP_CMP_EQ"}}},
                                {Action::allow(), {{0, 1, 0, "SCMP_CMP_EQ"}}}};
  b.syscalls["clone"].rules = {{Action::allow(), {{0, 0x10000000, 0, "SCMP_CMP_MASKED_EQ"}}}};
  a.syscalls["clone"].action = Action::allow();
  auto u = union_of({a, b});
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->arches, (std::vector<std::string>{"x86_64", "x86"}));
  EXPECT_EQ(u->syscalls.at("clone").action, Action::allow());
  EXPECT_TRUE(u->syscalls.at("clone").rules.empty());
  ASSERT_EQ(u->syscalls.at("socket").rules.size(), 2u);
  EXPECT_EQ(u->syscalls.at("socket").rules[1].args[0].value, 2u);

  b.default_action = Action::error(38);
  auto differ = union_of({a, b});
  ASSERT_FALSE(differ.ok());
  EXPECT_NE(
      differ.error().message.find("profile a.json denies with SCMP_ACT_ERRNO (EPERM), profile b.json with "
                                  "SCMP_ACT_ERRNO (ENOSYS)"),
      std::string::npos)
      << differ.error().message;
  b.default_action = Action::error(1);
  b.syscalls["kill"].action = Action::log();
  auto other = union_of({a, b});
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().message.find("profile b.json gives kill action SCMP_ACT_LOG"), std::string::npos)
      << other.error().message;
}

TEST(Profile, TheRecordingProfileAllowsEveryAbiOfThisHost) {
  auto p = Profile::allow_all();
  EXPECT_EQ(p.default_action, Action::allow());
  EXPECT_EQ(p.arches, (std::vector<std::string>{"x86_64", "x86", "x32"}));
  EXPECT_TRUE(p.syscalls.empty());
  EXPECT_EQ(to_docker_json(p), R"({"defaultAction": "SCMP_ACT_ALLOW",
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], "syscalls": []})"_json);
}

}  // namespace sandmine::profile
