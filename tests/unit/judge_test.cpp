// The verdict on one call under a profile, the rule check, run and the
// recorder's watch share: by name, by arguments, answers on purpose, and the
// arguments the watch keeps to decide and to name a call.
#include "profile/judge.h"

#include <gtest/gtest.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>

namespace sandmine::profile {
namespace {

using trace::CallArgs;
using trace::SyscallKey;

const SyscallKey kRead{"x86_64", 0}, kWrite{"x86_64", 1}, kIoctl{"x86_64", 16}, kSocket{"x86_64", 41},
    kMkdir{"x86_64", 83}, kClone3{"x86_64", 435}, kGetpid86{"x86", 20};

Profile base() {
  Profile p{.source = "p.json", .default_action = Action::error(EPERM), .arches = {"x86_64"}};
  p.syscalls["read"].action = Action::allow();
  return p;
}

TEST(Judge, ByNameTheActionOrTheDefaultDecidesAndUnlistedArchitecturesAreOutside) {
  Profile p = base();
  p.syscalls["mkdir"].action = Action::error(EACCES);  // denies on purpose: still outside
  p.syscalls["clone3"].action = Action::error(ENOSYS);
  EXPECT_EQ(judge_name(p, kRead), Verdict::allowed);
  EXPECT_EQ(judge_name(p, kWrite), Verdict::outside);
  EXPECT_EQ(judge_name(p, kMkdir), Verdict::outside);
  EXPECT_EQ(judge_name(p, kClone3), Verdict::answered);
  EXPECT_EQ(judge_name(p, kGetpid86), Verdict::outside);                  // x86 not listed
  EXPECT_EQ(judge_name(p, SyscallKey{"x86_64", 999}), Verdict::outside);  // no name: the default
  EXPECT_FALSE(outside_by_name(p, kRead));
  EXPECT_FALSE(outside_by_name(p, kClone3));
  EXPECT_TRUE(outside_by_name(p, kWrite));
}

TEST(Judge, AnEnosysDefaultIsNoAnswerAndADenyListNamesWhatItDenies) {
  Profile p = base();
  p.default_action = Action::error(ENOSYS);  // Podman's default denies this way
  EXPECT_EQ(judge_name(p, kWrite), Verdict::outside);
  Profile deny_list{.source = "d.json", .default_action = Action::allow(), .arches = {"x86_64"}};
  deny_list.syscalls["mkdir"].action = Action::error(EPERM);
  EXPECT_EQ(judge_name(deny_list, kMkdir), Verdict::outside);
  EXPECT_EQ(judge_name(deny_list, kWrite), Verdict::allowed);
}

TEST(Judge, ArgumentRulesDecideByTheFirstMatchAsTheFilterComparesTheRegisters) {
  Profile p = base();
  p.syscalls["socket"].rules = {{Action::allow(), {{0, 0xffffffff, AF_INET, "SCMP_CMP_MASKED_EQ"}}},
                                {Action::error(ENOSYS), {{0, AF_VSOCK, 0, "SCMP_CMP_EQ"}}},
                                {Action::error(EACCES), {{0, AF_PACKET, 0, "SCMP_CMP_EQ"}}}};
  EXPECT_EQ(judge_name(p, kSocket), std::nullopt);
  EXPECT_TRUE(outside_by_name(p, kSocket));  // no arguments kept: named
  EXPECT_EQ(judge(p, kSocket, {AF_INET, SOCK_STREAM}), Verdict::allowed);
  // A 32-bit comparison ignores a garbage upper half, as the kernel does.
  EXPECT_EQ(judge(p, kSocket, {0xdead00000000ULL | AF_INET}), Verdict::allowed);
  EXPECT_EQ(judge(p, kSocket, {AF_VSOCK}), Verdict::answered);
  EXPECT_EQ(judge(p, kSocket, {AF_PACKET}), Verdict::outside);
  // A 64-bit comparison does not: the filter denied that call.
  EXPECT_EQ(judge(p, kSocket, {0x100000000ULL | AF_PACKET}), Verdict::outside);
  EXPECT_EQ(judge(p, kSocket, {AF_NETLINK}), Verdict::outside);  // no rule: the default
  EXPECT_EQ(judge(p, kRead, {}), Verdict::allowed);              // arguments change nothing by name
}

TEST(Judge, TheWatchKeepsTheComparedBitsAndTheRecordedOnes) {
  Profile p = base();
  p.arches = {"x86_64", "x86"};
  p.syscalls["clone3"].action = Action::error(ENOSYS);
  // ioctl: the request (recorded, index 1) and the descriptor (not mined).
  p.syscalls["ioctl"].rules = {
      {Action::allow(), {{0, 3, 0, "SCMP_CMP_EQ"}, {1, 0xffffffff, TCGETS, "SCMP_CMP_MASKED_EQ"}}}};
  // write: a condition on an argument the table never records.
  p.syscalls["write"].rules = {{Action::allow(), {{0, 0xff, 1, "SCMP_CMP_MASKED_EQ"}}}};
  auto w = watch_for(p);
  EXPECT_TRUE(w.allowed.contains(kRead));
  EXPECT_TRUE(w.allowed.contains((SyscallKey{"x86", 3})));  // read on i386
  EXPECT_TRUE(w.allowed.contains(kClone3));
  EXPECT_FALSE(w.allowed.contains(kIoctl));
  EXPECT_FALSE(w.allowed.contains(kMkdir));
  std::map<SyscallKey, CallArgs> arguments{{kWrite, {0xff, 0, 0, 0, 0, 0}},
                                           {kIoctl, {~0ULL, 0xffffffff, 0, 0, 0, 0}},
                                           {SyscallKey{"x86", 4}, {0xff, 0, 0, 0, 0, 0}},
                                           {SyscallKey{"x86", 54}, {~0ULL, 0xffffffff, 0, 0, 0, 0}}};
  EXPECT_EQ(w.arguments, arguments);
}

TEST(Judge, ACallReadsAsTraceNamesItWithTheOtherComparedArgumentsByIndex) {
  CallArgs socket_masks{0xffffffff, 0xfff7f7ff, 0xffffffff, 0, 0, 0};
  EXPECT_EQ(describe_call(kSocket, {AF_NETLINK, SOCK_RAW, 0}, socket_masks),
            "socket(AF_NETLINK, SOCK_RAW, 0)");
  CallArgs ioctl_masks{~0ULL, 0xffffffff, 0, 0, 0, 0};
  EXPECT_EQ(describe_call(kIoctl, {3, TCGETS}, ioctl_masks), "ioctl(arg0=0x3, request=TCGETS)");
  EXPECT_EQ(describe_call(kIoctl, {0, 0x4b33}, CallArgs{0, 0xffffffff}), "ioctl(request=0x4b33)");
  EXPECT_EQ(describe_call(kWrite, {1}, CallArgs{0xff}), "write(arg0=0x1)");
  std::vector<CallArgument> args{{0, "arg0", 3, "0x3"}, {1, "request", TCGETS, "TCGETS"}};
  EXPECT_EQ(call_arguments(kIoctl, {3, TCGETS}, ioctl_masks), args);
  // Bits beyond what the table records print whole, in hex.
  EXPECT_EQ(describe_call(kSocket, {0x100000002ULL, SOCK_STREAM, 0}, CallArgs{~0ULL, 0xfff7f7ff, 0xffffffff}),
            "socket(0x100000002, SOCK_STREAM, 0)");
}

}  // namespace
}  // namespace sandmine::profile
