// Argument rules from recorded values: what each tier writes, exactly, and
// every case where a syscall falls back to its name (always said so).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "profile/docker_json.h"
#include "profile/filter.h"
#include "profile/from_trace.h"
#include "syscalls/syscalls.h"
#include "trace/counts.h"

namespace sandmine::profile {
namespace {

using nlohmann::json;

// A recording of native calls: per name, the argument values of each call.
class Recording {
 public:
  Recording& call(const std::string& name, trace::ArgValues values = {}, const std::string& arch = "x86_64") {
    trace::SyscallKey key{arch, *syscalls::number_of(arch, name)};
    trace::add(tallies_, key, 1, 1);
    if (!values.empty()) trace::add_values(tallies_, key, values, 1);
    return *this;
  }
  Recording& lost(const std::string& name, std::uint8_t why) {
    tallies_[{"x86_64", *syscalls::number_of("x86_64", name)}].values_lost |= why;
    return *this;
  }
  trace::Trace trace() const {
    trace::Trace t;
    t.backend = "ebpf";
    t.syscalls = trace::entries_from(tallies_, 0);
    return t;
  }

 private:
  trace::Tallies tallies_;
};

json rules_of(const Profile& p, const std::string& name) {
  json out = json::array();
  const json written = to_docker_json(p);
  for (const auto& rule : written["syscalls"])
    if (rule["names"] == json::array({name})) out.push_back(rule);
  return out;
}

json masked(unsigned index, std::uint64_t mask, std::uint64_t value) {
  return {{"index", index}, {"op", "SCMP_CMP_MASKED_EQ"}, {"value", mask}, {"valueTwo", value}};
}

json allow_with(std::vector<json> args) {
  return {{"action", "SCMP_ACT_ALLOW"}, {"args", args}, {"names", json::array()}};
}

json expect_rules(const std::string& name, std::vector<std::vector<json>> rules) {
  json out = json::array();
  for (auto& args : rules) {
    json r = allow_with(std::move(args));
    r["names"] = json::array({name});
    out.push_back(r);
  }
  return out;
}

constexpr std::uint64_t kInt = 0xffffffff;
constexpr std::uint64_t kSocketType = 0xfff7f7ff;  // without SOCK_NONBLOCK and SOCK_CLOEXEC
constexpr std::uint64_t kNamespaces = 0x7e020000;  // clone's CLONE_NEW* bits

TEST(ArgumentRules, SafeComparesTheFamilyAndTypeStrictAlsoTheProtocolOffNeither) {
  auto t = Recording()
               .call("socket", {2, 1, 0})   // AF_INET, SOCK_STREAM
               .call("socket", {2, 1, 6})   // AF_INET, SOCK_STREAM, IPPROTO_TCP
               .call("socket", {10, 2, 0})  // AF_INET6, SOCK_DGRAM
               .call("read")
               .trace();
  std::vector<std::string> warnings;
  auto safe = from_traces({t}, warnings, {.args = ArgsMode::safe});
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(rules_of(safe, "socket"),
            expect_rules("socket", {{masked(0, kInt, 2), masked(1, kSocketType, 1)},
                                    {masked(0, kInt, 10), masked(1, kSocketType, 2)}}));
  EXPECT_EQ(safe.syscalls.at("read").action, Action::allow());

  auto strict = from_traces({t}, warnings, {.args = ArgsMode::strict});
  EXPECT_EQ(rules_of(strict, "socket"),
            expect_rules("socket", {{masked(0, kInt, 2), masked(1, kSocketType, 1), masked(2, kInt, 0)},
                                    {masked(0, kInt, 2), masked(1, kSocketType, 1), masked(2, kInt, 6)},
                                    {masked(0, kInt, 10), masked(1, kSocketType, 2), masked(2, kInt, 0)}}));

  auto off = from_traces({t}, warnings, {.args = ArgsMode::off});
  EXPECT_EQ(off.syscalls.at("socket").action, Action::allow());
  EXPECT_TRUE(off.syscalls.at("socket").rules.empty());
  EXPECT_TRUE(warnings.empty());
}

// The rules decide as the kernel will: a family never seen is denied.
TEST(ArgumentRules, TheRulesAllowWhatWasSeenAndDenyTheRest) {
  std::vector<std::string> warnings;
  auto p = from_traces({Recording().call("socket", {2, 1, 0}).trace()}, warnings);
  EXPECT_EQ(decide(p, "socket", {2, 1 | 0x80000, 0, 0, 0, 0}),
            Action::allow());                                                 // SOCK_CLOEXEC is not compared
  EXPECT_EQ(decide(p, "socket", {17, 3, 0, 0, 0, 0}), Action::error(EPERM));  // AF_PACKET, SOCK_RAW
  EXPECT_EQ(decide(p, "socket", {2, 3, 0, 0, 0, 0}), Action::error(EPERM));   // AF_INET, SOCK_RAW
}

TEST(ArgumentRules, Clone3GetsEnosysAndCloneTheNamespaceFlagsSeenInEither) {
  auto t = Recording()
               .call("clone", {0x3d0f00})            // a thread: no namespace flag
               .call("clone3", {0x10000000 | 0x11})  // CLONE_NEWUSER
               .trace();
  std::vector<std::string> warnings;
  auto p = from_traces({t}, warnings);
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(rules_of(p, "clone"),
            expect_rules("clone", {{masked(0, kNamespaces, 0)}, {masked(0, kNamespaces, 0x10000000)}}));
  EXPECT_EQ(rules_of(p, "clone3"), json::array({json{{"action", "SCMP_ACT_ERRNO"},
                                                     {"errnoRet", ENOSYS},
                                                     {"comment", kClone3Comment},
                                                     {"names", json::array({"clone3"})}}}));
  // clone3 alone: clone is allowed with its flags all the same.
  auto only3 = from_traces({Recording().call("clone3", {0x11}).trace()}, warnings);
  EXPECT_EQ(rules_of(only3, "clone"), expect_rules("clone", {{masked(0, kNamespaces, 0)}}));
}

TEST(ArgumentRules, EveryCombinationOfAFlagSeenIsTheNameAlone) {
  std::vector<std::string> warnings;
  auto both = from_traces({Recording().call("pipe2", {0x80}).call("pipe2", {0x80000}).trace()}, warnings);
  EXPECT_EQ(both.syscalls.at("pipe2").action, Action::allow());
  EXPECT_TRUE(both.syscalls.at("pipe2").rules.empty());
  auto cloexec = from_traces({Recording().call("pipe2", {0x80000}).trace()}, warnings);
  EXPECT_EQ(rules_of(cloexec, "pipe2"), expect_rules("pipe2", {{masked(1, 0x80, 0)}}));
  EXPECT_TRUE(warnings.empty());
}

TEST(ArgumentRules, AlwaysAllowedValuesAreAddedInTheirTier) {
  std::vector<std::string> warnings;
  auto t = Recording().call("tgkill", {6}).trace();  // SIGABRT
  auto strict = from_traces({t}, warnings, {.args = ArgsMode::strict});
  EXPECT_EQ(rules_of(strict, "tgkill"),
            expect_rules("tgkill", {{masked(2, kInt, 6)}, {masked(2, kInt, 23)}}));
  auto safe = from_traces({t}, warnings, {.args = ArgsMode::safe});  // the signal is strict-tier
  EXPECT_EQ(safe.syscalls.at("tgkill").action, Action::allow());
  EXPECT_TRUE(warnings.empty());
}

TEST(ArgumentRules, IncompleteValuesAnotherArchitectureOrAnotherTableFallBackToTheNameAndSaySo) {
  std::vector<std::string> warnings;
  auto lost = from_traces(
      {Recording().call("socket", {2, 1, 0}).lost("socket", trace::kValuesMapFull).trace()}, warnings);
  EXPECT_EQ(lost.syscalls.at("socket").action, Action::allow());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("socket is allowed by name only: its argument values are incomplete"),
            std::string::npos)
      << warnings[0];

  warnings.clear();
  auto other = from_traces({Recording().call("futex", {0}).call("futex", {}, "x86").trace()}, warnings);
  EXPECT_EQ(other.syscalls.at("futex").action, Action::allow());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("it was also called through x86"), std::string::npos) << warnings[0];

  warnings.clear();
  auto t = Recording().call("socket", {2, 1, 0}).trace();
  t.syscalls[0].arguments.pop_back();  // recorded under a table with two socket rows
  auto differ = from_traces({t}, warnings);
  EXPECT_EQ(differ.syscalls.at("socket").action, Action::allow());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("another version of the argument table"), std::string::npos) << warnings[0];
}

TEST(ArgumentRules, MoreCombinationsThanMaxRulesFallBackToTheName) {
  Recording r;
  for (std::uint64_t request = 0x5401; request < 0x5401 + 33; ++request) r.call("ioctl", {request});
  std::vector<std::string> warnings;
  auto p = from_traces({r.trace()}, warnings, {.args = ArgsMode::strict, .max_rules = 32});
  EXPECT_EQ(p.syscalls.at("ioctl").action, Action::allow());
  EXPECT_EQ(warnings,
            (std::vector<std::string>{
                "ioctl is allowed by name only: 33 combinations of argument values were seen, more than "
                "32 rules"}));
  auto within = from_traces({r.trace()}, warnings, {.args = ArgsMode::strict, .max_rules = 33});
  EXPECT_EQ(within.syscalls.at("ioctl").rules.size(), 33u);
}

TEST(ArgumentRules, AFilterOverTheKernelsLimitDropsTheLargestRuleSetFirst) {
  Recording r;
  for (std::uint64_t request = 0; request < 4500; ++request) r.call("ioctl", {request});
  for (std::uint64_t option = 0; option < 20; ++option) r.call("prctl", {option});
  std::vector<std::string> warnings;
  auto p = from_traces({r.trace()}, warnings, {.args = ArgsMode::strict, .max_rules = 5000});
  EXPECT_EQ(p.syscalls.at("ioctl").action, Action::allow());
  EXPECT_EQ(p.syscalls.at("prctl").rules.size(), 20u);
  EXPECT_EQ(warnings,
            (std::vector<std::string>{"ioctl is allowed by name only: with its 4500 argument rules the "
                                      "filter would exceed the kernel's 4096 instructions"}));
  EXPECT_TRUE(compile_filter(p, FilterMode::enforce).ok());
}

TEST(ArgumentRules, ModesReadBackFromTheirNames) {
  for (auto mode : {ArgsMode::off, ArgsMode::safe, ArgsMode::strict})
    EXPECT_EQ(args_mode_from_string(to_string(mode)), mode);
  EXPECT_FALSE(args_mode_from_string("loose"));
}

}  // namespace
}  // namespace sandmine::profile
