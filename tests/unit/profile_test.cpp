#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "profile/oci.h"
#include "profile/sandbox.h"

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
  auto sb = from_traces({trace_of({{"x86_64", "read", 0, 1, 0, ""}, {"x86_64", "write", 1, 1, 0, ""}}),
                         trace_of({{"x86_64", "read", 0, 5, 0, ""}, {"x86", "getpid", 20, 1, 0, ""}})},
                        warnings);
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(sb.allowed.at("x86_64"), (std::set<std::string>{"read", "write"}));
  EXPECT_EQ(sb.allowed.at("x86"), (std::set<std::string>{"getpid"}));
  json expected = R"({
    "defaultAction": "SCMP_ACT_ERRNO",
    "defaultErrnoRet": 1,
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
    "syscalls": [{"names": ["getpid", "read", "write"], "action": "SCMP_ACT_ALLOW"}]
  })"_json;
  EXPECT_EQ(to_oci_json(sb), expected);
}

TEST(Profile, OnlyUsedArchitecturesAreListed) {
  std::vector<std::string> warnings;
  auto sb = from_traces({trace_of({{"x86_64", "read", 0, 1, 0, ""}})}, warnings);
  EXPECT_EQ(to_oci_json(sb)["architectures"], json::array({"SCMP_ARCH_X86_64"}));
}

TEST(Profile, UnnamedNumbersAreReportedNotDropped) {
  std::vector<std::string> warnings;
  auto sb =
      from_traces({trace_of({{"x86_64", "", 999, 1, 0, ""}, {"x86_64", "read", 0, 1, 0, ""}})}, warnings);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("x86_64 syscall number 999 has no name"), std::string::npos);
  EXPECT_EQ(all_names(sb), (std::set<std::string>{"read"}));
}

}  // namespace sandmine::profile
