// The argument table (data/argument_rules.csv) and the names of values
// (data/argument_names.csv), checked against the kernel's own headers.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/futex.h>
#include <linux/prctl.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <cstddef>
#include <tuple>

#include "syscalls/argument_names.h"
#include "syscalls/arguments.h"

namespace sandmine::syscalls {

namespace {

const ArgumentRule& row(std::string_view syscall, int index) {
  const ArgumentSpec* spec = argument_spec(syscall);
  if (!spec) throw std::runtime_error("no spec for " + std::string(syscall));
  for (const auto& r : spec->rules)
    if (r.index == index) return r;
  throw std::runtime_error("no row " + std::string(syscall) + " " + std::to_string(index));
}

constexpr std::uint64_t kNamespaceFlags =
    CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;

// The header of the table plus one row; the rest of each test changes one field.
std::string table_with(const std::string& rows) {
  return "syscall,index,argument,read,compare,mask,int,tier,always,names,reason,source\n" + rows;
}

std::string table_error(const std::string& rows) {
  auto r = parse_argument_rules(table_with(rows), "t.csv");
  return r.ok() ? "" : r.error().message;
}

}  // namespace

TEST(ArgumentTable, HasExactlyTheMinedArgumentsAndNoPointersOrDescriptors) {
  std::set<std::tuple<std::string, int, std::string>> rows;
  for (const auto& spec : argument_specs()) {
    for (const auto& r : spec.rules) {
      rows.insert({r.syscall, r.index, r.argument});
      EXPECT_FALSE(r.reason.empty()) << r.syscall;
      EXPECT_FALSE(r.source.empty()) << r.syscall;
    }
  }
  // Every argument here selects kernel code; none is a pointer, descriptor,
  // size, pid or address (clone3's flags are read through its pointer).
  EXPECT_EQ(rows, (std::set<std::tuple<std::string, int, std::string>>{
                      {"socket", 0, "domain"},    {"socket", 1, "type"},         {"socket", 2, "protocol"},
                      {"clone", 0, "flags"},      {"clone3", 0, "flags"},        {"unshare", 0, "flags"},
                      {"setns", 1, "nstype"},     {"personality", 0, "persona"}, {"pipe2", 1, "flags"},
                      {"mmap", 2, "prot"},        {"mprotect", 2, "prot"},       {"pkey_mprotect", 2, "prot"},
                      {"futex", 1, "op"},         {"ioctl", 1, "request"},       {"prctl", 0, "option"},
                      {"fcntl", 1, "cmd"},        {"setsockopt", 1, "level"},    {"setsockopt", 2, "optname"},
                      {"getsockopt", 1, "level"}, {"getsockopt", 2, "optname"},  {"kill", 1, "sig"},
                      {"tkill", 1, "sig"},        {"tgkill", 2, "sig"},          {"madvise", 2, "advice"}}));
}

TEST(ArgumentTable, MasksAreTheKernelsBits) {
  EXPECT_EQ(row("socket", 1).compare, Compare::masked);
  EXPECT_EQ(row("socket", 1).mask, ~std::uint64_t{SOCK_NONBLOCK | SOCK_CLOEXEC} & 0xffffffff);
  EXPECT_EQ(row("futex", 1).compare, Compare::masked);
  EXPECT_EQ(row("futex", 1).mask, ~std::uint64_t{FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME} & 0xffffffff);
  EXPECT_EQ(row("clone", 0).compare, Compare::flags);
  EXPECT_EQ(row("clone", 0).mask, kNamespaceFlags);  // the low byte is the exit signal, not CLONE_NEWTIME
  EXPECT_EQ(row("clone3", 0).mask, kNamespaceFlags | CLONE_NEWTIME);
  EXPECT_EQ(row("unshare", 0).mask, kNamespaceFlags | CLONE_NEWTIME);
  EXPECT_EQ(row("clone3", 0).struct_offset, static_cast<int>(offsetof(struct clone_args, flags)));
  EXPECT_EQ(row("mmap", 2).compare, Compare::flags);
  EXPECT_EQ(row("mmap", 2).mask, std::uint64_t{PROT_EXEC});
  EXPECT_EQ(row("pipe2", 1).mask, std::uint64_t{O_EXCL});  // O_NOTIFICATION_PIPE
  EXPECT_EQ(row("ioctl", 1).compare, Compare::exact);
  EXPECT_EQ(row("ioctl", 1).mask, 0u);
}

TEST(ArgumentTable, IntArgumentsAreRecordedUnderThirtyTwoBits) {
  EXPECT_EQ(row("socket", 0).record_mask(), 0xffffffffu);
  EXPECT_EQ(row("socket", 1).record_mask(), 0xfff7f7ffu);
  EXPECT_EQ(row("clone", 0).record_mask(), 0xffffffffu);  // the kernel reads lower_32_bits(clone_flags)
  EXPECT_EQ(row("clone3", 0).record_mask(), ~0ULL);       // a __u64 field: CLONE_CLEAR_SIGHAND is bit 32
  EXPECT_EQ(row("unshare", 0).record_mask(), ~0ULL);
  EXPECT_EQ(row("mmap", 2).record_mask(), ~0ULL);
  EXPECT_EQ(row("ioctl", 1).record_mask(), 0xffffffffu);
}

TEST(ArgumentTable, TiersAndAlwaysAllowedValues) {
  for (auto [syscall, index] : {std::pair{"socket", 0},
                                {"socket", 1},
                                {"clone", 0},
                                {"clone3", 0},
                                {"unshare", 0},
                                {"setns", 1},
                                {"personality", 0},
                                {"pipe2", 1},
                                {"mmap", 2},
                                {"mprotect", 2},
                                {"futex", 1}})
    EXPECT_EQ(row(syscall, index).tier, Tier::safe) << syscall;
  for (auto [syscall, index] : {std::pair{"socket", 2},
                                {"ioctl", 1},
                                {"prctl", 0},
                                {"fcntl", 1},
                                {"setsockopt", 1},
                                {"getsockopt", 2},
                                {"kill", 1},
                                {"tgkill", 2},
                                {"madvise", 2}})
    EXPECT_EQ(row(syscall, index).tier, Tier::strict) << syscall;
  EXPECT_EQ(row("futex", 1).always,
            (std::vector<std::uint64_t>{FUTEX_WAIT, FUTEX_WAKE, FUTEX_REQUEUE, FUTEX_CMP_REQUEUE,
                                        FUTEX_WAKE_OP, FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET}));
  const ArgumentSpec& socket = *argument_spec("socket");
  EXPECT_EQ(positions_in_tier(socket, Tier::safe), (std::vector<std::size_t>{0, 1}));
  EXPECT_EQ(positions_in_tier(socket, Tier::strict), (std::vector<std::size_t>{0, 1, 2}));
  std::set<std::vector<std::uint64_t>> seen{
      {AF_INET, SOCK_STREAM, 0}, {AF_INET, SOCK_STREAM, IPPROTO_TCP}, {AF_UNIX, SOCK_DGRAM, 0}};
  EXPECT_EQ(project(seen, {0, 1}),
            (std::set<std::vector<std::uint64_t>>{{AF_INET, SOCK_STREAM}, {AF_UNIX, SOCK_DGRAM}}));
  EXPECT_EQ(project(seen, {}), (std::set<std::vector<std::uint64_t>>{{}}));
}

TEST(ArgumentTable, OnlyTheNativeArchitectureIsMined) {
  const ArgumentSpec* socket = mined_arguments("x86_64", 41);
  ASSERT_NE(socket, nullptr);
  EXPECT_EQ(socket->syscall, "socket");
  EXPECT_EQ(mined_arguments("x86_64", 39), nullptr);  // getpid: name only
  EXPECT_EQ(mined_arguments("x86", 359), nullptr);    // i386 socket
  EXPECT_EQ(mined_arguments("x86", 102), nullptr);    // i386 socketcall
  EXPECT_EQ(mined_arguments("x32", 41 | 0x40000000), nullptr);
  ASSERT_NE(mined_arguments("x86_64", 435), nullptr);  // clone3
}

TEST(ArgumentTable, BadRowsAreRejectedWithLineAndColumn) {
  const std::string good = "socket,0,domain,arg,exact,,yes,safe,,enum:family,r,s\n";
  EXPECT_EQ(table_error(good), "");
  EXPECT_EQ(table_error("socket,6,domain,arg,exact,,yes,safe,,enum:family,r,s\n"),
            "t.csv:2: index: expected 0..5, got \"6\"");
  EXPECT_EQ(table_error("sockt,0,domain,arg,exact,,yes,safe,,enum:family,r,s\n"),
            "t.csv:2: syscall: no syscall \"sockt\" on any architecture");
  EXPECT_EQ(table_error("socket,0,domain,arg,exact,0xff,yes,safe,,enum:family,r,s\n"),
            "t.csv:2: mask: an exact comparison takes no mask");
  EXPECT_EQ(table_error("socket,1,type,arg,masked,,yes,safe,,enum:socket_type,r,s\n"),
            "t.csv:2: mask: expected a non-zero hex mask (0x...), got \"\"");
  EXPECT_EQ(table_error("socket,1,type,arg,masked,0x1ffffffff,yes,safe,,,r,s\n"),
            "t.csv:2: mask: an int argument has 32 bits");
  EXPECT_EQ(table_error("socket,1,type,arg,equal,,yes,safe,,,r,s\n"),
            "t.csv:2: compare: expected exact, masked or flags, got \"equal\"");
  EXPECT_EQ(table_error("socket,1,type,reg,exact,,yes,safe,,,r,s\n"),
            "t.csv:2: read: expected arg or mem64:OFFSET, got \"reg\"");
  EXPECT_EQ(table_error("clone3,0,flags,mem64:4,flags,0x80,no,safe,,,r,s\n"),
            "t.csv:2: read: mem64:N needs a byte offset that is a multiple of 8 below 4096");
  EXPECT_EQ(table_error("socket,1,type,arg,exact,,maybe,safe,,,r,s\n"), "t.csv:2: int: expected yes or no");
  EXPECT_EQ(table_error("socket,1,type,arg,exact,,yes,loose,,,r,s\n"),
            "t.csv:2: tier: expected safe or strict");
  EXPECT_EQ(table_error("socket,1,type,arg,exact,,yes,safe,,enum:nosuchset,r,s\n"),
            "t.csv:2: names: no set \"nosuchset\" in data/argument_names.csv");
  EXPECT_EQ(table_error("socket,1,type,arg,exact,,yes,safe,,list:family,r,s\n"),
            "t.csv:2: names: \"list:family\" is not enum:SET, bits:SET or clone:SET");
  EXPECT_EQ(table_error("socket,0,domain,arg,exact,,yes,safe,AF_NOPE,enum:family,r,s\n"),
            "t.csv:2: always: socket domain: \"AF_NOPE\" is no number and no name in set family");
  EXPECT_EQ(table_error("mmap,2,prot,arg,flags,0x4,no,safe,PROT_EXEC,bits:prot,r,s\n"),
            "t.csv:2: always: a flags comparison always allows the bits' absence");
  EXPECT_EQ(table_error("socket,1,type,arg,masked,0xf,yes,safe,0x800,enum:socket_type,r,s\n"),
            "t.csv:2: always: 0x800 has bits outside the compared mask");
  EXPECT_EQ(table_error("socket,0,domain,arg,exact,,yes,safe,,enum:family,,s\n"), "t.csv:2: reason: empty");
  EXPECT_EQ(table_error(good + good), "t.csv:3: index: socket argument 0 is listed twice");
  EXPECT_EQ(
      table_error("socket,0,a,arg,exact,,yes,safe,,,r,s\nsocket,1,b,arg,exact,,yes,safe,,,r,s\n"
                  "socket,2,c,arg,exact,,yes,safe,,,r,s\nsocket,3,d,arg,exact,,yes,safe,,,r,s\n"),
      "t.csv:5: syscall: socket has more than 3 mined arguments (the recorder keeps that many per call)");
  EXPECT_EQ(
      table_error("setsockopt,2,optname,arg,exact,,yes,strict,,enum:sockopt.{1},r,s\n"),
      "t.csv: setsockopt argument 2: names \"enum:sockopt.{1}\" refers to an argument the table does not "
      "mine for setsockopt");
}

TEST(ArgumentNames, AgreeWithTheHeaders) {
  EXPECT_EQ(name_in("family", AF_PACKET), "AF_PACKET");
  EXPECT_EQ(name_in("family", AF_NETLINK), "AF_NETLINK");
  EXPECT_EQ(name_in("socket_type", SOCK_RAW), "SOCK_RAW");
  EXPECT_EQ(name_in("clone_flag", CLONE_NEWUSER), "CLONE_NEWUSER");
  EXPECT_EQ(name_in("clone_flag", CLONE_CLEAR_SIGHAND), "CLONE_CLEAR_SIGHAND");
  EXPECT_EQ(name_in("prctl", PR_SET_NO_NEW_PRIVS), "PR_SET_NO_NEW_PRIVS");
  EXPECT_EQ(name_in("fcntl", F_DUPFD_CLOEXEC), "F_DUPFD_CLOEXEC");
  EXPECT_EQ(name_in("futex_op", FUTEX_CMP_REQUEUE_PI), "FUTEX_CMP_REQUEUE_PI");
  EXPECT_EQ(name_in("madvise", MADV_DONTNEED), "MADV_DONTNEED");
  EXPECT_EQ(name_in("signal", SIGURG), "SIGURG");
  EXPECT_EQ(name_in("ioctl", TIOCGWINSZ), "TIOCGWINSZ");
  EXPECT_EQ(name_in("ioctl", FIONBIO), "FIONBIO");
  EXPECT_EQ(name_in("sockopt.1", SO_REUSEADDR), "SO_REUSEADDR");
  EXPECT_EQ(name_in("sockopt.6", TCP_NODELAY), "TCP_NODELAY");
  EXPECT_EQ(value_in("family", "AF_INET6"), std::uint64_t{AF_INET6});
  EXPECT_EQ(name_in("family", 12345), std::nullopt);
  EXPECT_EQ(value_in("nosuchset", "AF_INET"), std::nullopt);
  EXPECT_TRUE(has_name_set("sockopt_level"));
}

TEST(ArgumentNames, CallsPrintSymbolically) {
  const auto& socket = *argument_spec("socket");
  EXPECT_EQ(format_call(socket, {AF_INET, SOCK_STREAM, 0}), "socket(AF_INET, SOCK_STREAM, 0)");
  EXPECT_EQ(format_call(socket, {AF_NETLINK, SOCK_RAW, 0}), "socket(AF_NETLINK, SOCK_RAW, 0)");
  EXPECT_EQ(format_call(socket, {999, 77, 6}), "socket(0x3e7, 0x4d, 0x6)");
  EXPECT_EQ(format_call(*argument_spec("clone"), {CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD}),
            "clone(CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD)");
  EXPECT_EQ(format_call(*argument_spec("clone"), {CLONE_NEWUSER}), "clone(CLONE_NEWUSER)");
  EXPECT_EQ(format_call(*argument_spec("clone3"), {CLONE_VM | CLONE_CLEAR_SIGHAND}),
            "clone3(CLONE_VM|CLONE_CLEAR_SIGHAND)");
  EXPECT_EQ(format_call(*argument_spec("unshare"), {0}), "unshare(0)");
  EXPECT_EQ(format_call(*argument_spec("ioctl"), {TCGETS}), "ioctl(request=TCGETS)");
  EXPECT_EQ(format_call(*argument_spec("ioctl"), {0xdead}), "ioctl(request=0xdead)");
  EXPECT_EQ(format_call(*argument_spec("setsockopt"), {SOL_SOCKET, SO_REUSEADDR}),
            "setsockopt(level=SOL_SOCKET, optname=SO_REUSEADDR)");
  EXPECT_EQ(format_call(*argument_spec("setsockopt"), {IPPROTO_TCP, TCP_NODELAY}),
            "setsockopt(level=IPPROTO_TCP, optname=TCP_NODELAY)");
  EXPECT_EQ(format_call(*argument_spec("getsockopt"), {9999, 3}), "getsockopt(level=0x270f, optname=0x3)");
  EXPECT_EQ(format_call(*argument_spec("futex"), {FUTEX_WAIT_BITSET}), "futex(op=FUTEX_WAIT_BITSET)");
  EXPECT_EQ(format_call(*argument_spec("mmap"), {PROT_READ | PROT_EXEC}), "mmap(prot=PROT_READ|PROT_EXEC)");
  EXPECT_EQ(format_call(*argument_spec("mmap"), {0}), "mmap(prot=PROT_NONE)");
  EXPECT_EQ(format_call(*argument_spec("pipe2"), {O_EXCL | O_CLOEXEC}),
            "pipe2(flags=O_NOTIFICATION_PIPE|O_CLOEXEC)");
  EXPECT_EQ(format_call(*argument_spec("kill"), {0}), "kill(sig=0)");
  EXPECT_EQ(format_call(*argument_spec("tgkill"), {SIGURG}), "tgkill(sig=SIGURG)");
  EXPECT_EQ(format_call(*argument_spec("setns"), {CLONE_NEWNET}), "setns(nstype=CLONE_NEWNET)");
  EXPECT_EQ(format_call(*argument_spec("personality"), {0xffffffff}), "personality(0xffffffff)");
}

TEST(ArgumentNames, ValuesParseFromNamesAndNumbers) {
  EXPECT_EQ(*parse_value(row("socket", 0), "AF_PACKET"), std::uint64_t{AF_PACKET});
  EXPECT_EQ(*parse_value(row("socket", 0), "17"), 17u);
  EXPECT_EQ(*parse_value(row("ioctl", 1), "0x5401"), 0x5401u);
  EXPECT_EQ(*parse_value(row("unshare", 0), "CLONE_NEWUSER|CLONE_NEWNET"),
            std::uint64_t{CLONE_NEWUSER | CLONE_NEWNET});
  EXPECT_EQ(*parse_value(row("clone", 0), "CLONE_VM|SIGCHLD"), std::uint64_t{CLONE_VM | SIGCHLD});
  EXPECT_EQ(*parse_value(row("futex", 1), "FUTEX_LOCK_PI"), std::uint64_t{FUTEX_LOCK_PI});
  auto bad = parse_value(row("socket", 0), "AF_NOPE");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "socket domain: \"AF_NOPE\" is no number and no name in set family");
  EXPECT_FALSE(parse_value(row("setsockopt", 2), "SO_REUSEADDR").ok());  // depends on the level: numbers only
  EXPECT_FALSE(parse_value(row("unshare", 0), "CLONE_NEWUSER|").ok());
}

}  // namespace sandmine::syscalls
