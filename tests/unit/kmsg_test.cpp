// /dev/kmsg records as this development VM (Linux 6.18, no auditd) prints
// them, parsed; and the books a reader keeps of what it did not see.
#include <gtest/gtest.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>

#include <string>

#include "sys/kmsg.h"

namespace sandmine::sys {
namespace {

using Kind = KmsgRecord::Kind;

// Read from /dev/kmsg after prog_log_filter ran (x86_64 and int $0x80 uname).
constexpr const char* kNative =
    "5,3177,10067684844,-;audit: type=1326 audit(1795889923.751:210): auid=4294967295 uid=0 gid=0 "
    "ses=4294967295 pid=22955 comm=\"logf\" exe=\"/tmp/kmsgexp/logf\" sig=0 arch=c000003e syscall=63 "
    "compat=0 "
    "ip=0x7f0dce332829 code=0x7ffc0000\n";
constexpr const char* kI386 =
    "5,3205,10344024894,-;audit: type=1326 audit(1795890200.091:436): auid=4294967295 uid=0 gid=0 "
    "ses=4294967295 pid=24983 comm=\"prog_log_filter\" "
    "exe=\"/work/main/build-b/tests/programs/prog_log_filter\" "
    "sig=0 arch=40000003 syscall=122 compat=1 ip=0x55ec9f3a117c code=0x7ffc0000\n";
// A name with a space, a quote and a backslash, and a path with a space, are
// hex; an errno rule's record has code=0x50000 (the errno is not logged).
constexpr const char* kHexErrno =
    "5,3198,10325478043,-;audit: type=1326 audit(1795890181.543:431): auid=4294967295 uid=0 gid=0 "
    "ses=4294967295 pid=24811 comm=61206222635C64 exe=2F746D702F6B6D73676578702F6572722066 sig=0 "
    "arch=c000003e syscall=121 compat=0 ip=0x7fae3e832829 code=0x50000\n";
// A lone backslash keeps the name quoted; /dev/kmsg escapes it as \x5c.
constexpr const char* kEscaped =
    "5,3204,10344024830,-;audit: type=1326 audit(1795890200.091:435): auid=4294967295 uid=0 gid=0 "
    "ses=4294967295 pid=24983 comm=\"ab\\x5ccd\" exe=\"/tmp/kmsgexp/errf\" sig=0 arch=c000003e syscall=121 "
    "compat=0 ip=0x7f32d4309829 code=0x50000\n";
constexpr const char* kSuppressed = "4,3176,10067684821,-;kauditd_printk_skb: 198 callbacks suppressed\n";

std::string seccomp_line(std::uint64_t seq, std::uint32_t serial, int pid, long nr,
                         const std::string& extra = "") {
  return "5," + std::to_string(seq) +
         ",10067684844,-;audit: type=1326 audit(1795889923.751:" + std::to_string(serial) +
         "): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=" + std::to_string(pid) +
         " comm=\"w\" exe=\"/w\" sig=0 arch=c000003e syscall=" + std::to_string(nr) + extra +
         " compat=0 ip=0x1 code=0x7ffc0000\n";
}

std::string kmsg_line(std::uint64_t seq, const std::string& message, int prio = 4) {
  return std::to_string(prio) + "," + std::to_string(seq) + ",10067684821,-;" + message + "\n";
}

KmsgRecord parse(const std::string& raw) {
  auto r = parse_kmsg_record(raw);
  EXPECT_TRUE(r.has_value()) << raw;
  return r.value_or(KmsgRecord{});
}

TEST(KmsgParse, ReadsANativeSeccompRecord) {
  auto r = parse(kNative);
  ASSERT_EQ(r.kind, Kind::seccomp);
  EXPECT_EQ(r.seq, 3177u);
  EXPECT_TRUE(r.has_serial);
  EXPECT_EQ(r.serial, 210u);
  const SeccompRecord& s = r.seccomp;
  EXPECT_EQ(s.seq, 3177u);
  EXPECT_EQ(s.serial, 210u);
  EXPECT_EQ(s.pid, 22955);
  EXPECT_EQ(s.comm, "logf");
  EXPECT_EQ(s.exe, "/tmp/kmsgexp/logf");
  EXPECT_EQ(s.arch, "x86_64");
  EXPECT_EQ(s.audit_arch, 0xc000003eu);
  EXPECT_EQ(s.syscall, 63);
  EXPECT_FALSE(s.compat);
  EXPECT_EQ(s.action, "log");
  EXPECT_EQ(s.code, SECCOMP_RET_LOG);
  EXPECT_EQ(s.sig, 0);
}

TEST(KmsgParse, ReadsAnI386RecordAsArchX86) {
  auto r = parse(kI386);
  ASSERT_EQ(r.kind, Kind::seccomp);
  EXPECT_EQ(r.seccomp.arch, "x86");
  EXPECT_EQ(r.seccomp.syscall, 122);
  EXPECT_TRUE(r.seccomp.compat);
  EXPECT_EQ(r.seccomp.comm, "prog_log_filter");
  EXPECT_EQ(r.seccomp.exe, "/work/main/build-b/tests/programs/prog_log_filter");
}

TEST(KmsgParse, DecodesHexNamesAndEscapedBytes) {
  auto hex = parse(kHexErrno);
  ASSERT_EQ(hex.kind, Kind::seccomp);
  EXPECT_EQ(hex.seccomp.comm, "a b\"c\\d");
  EXPECT_EQ(hex.seccomp.exe, "/tmp/kmsgexp/err f");
  EXPECT_EQ(hex.seccomp.action, "errno");
  EXPECT_EQ(hex.seccomp.syscall, 121);

  auto escaped = parse(kEscaped);
  ASSERT_EQ(escaped.kind, Kind::seccomp);
  EXPECT_EQ(escaped.seccomp.comm, "ab\\cd");
  EXPECT_NE(escaped.text.find("comm=\"ab\\cd\""), std::string::npos) << escaped.text;
}

TEST(KmsgParse, AcceptsTheFormWithoutTheAuditPrefixASubjectAndDictionaryLines) {
  // Without pr_fmt's "audit: " (older kernels), with an AppArmor label that
  // holds a space, a missing executable, and /dev/kmsg dictionary lines.
  auto r = parse(
      "5,17,2000,-;type=1326 audit(1700000000.123:456): auid=4294967295 uid=0 gid=0 ses=4294967295 "
      "subj=snap.lxd.lxc (enforce) pid=1234 comm=\"nginx\" exe=(null) sig=31 arch=c000003e syscall=83 "
      "compat=0 ip=0x7f0000000000 code=0x80000000\n SUBSYSTEM=audit\n DEVICE=+audit:1\n");
  ASSERT_EQ(r.kind, Kind::seccomp);
  EXPECT_EQ(r.serial, 456u);
  EXPECT_EQ(r.seccomp.pid, 1234);
  EXPECT_EQ(r.seccomp.comm, "nginx");
  EXPECT_EQ(r.seccomp.exe, "");
  EXPECT_EQ(r.seccomp.syscall, 83);
  EXPECT_EQ(r.seccomp.sig, 31);
  EXPECT_EQ(r.seccomp.action, "kill_process");
  EXPECT_EQ(r.text.find('\n'), std::string::npos);
}

TEST(KmsgParse, NamesArchitecturesAsLibseccompDoes) {
  EXPECT_EQ(arch_from_audit(0xc000003e, 63), "x86_64");
  EXPECT_EQ(arch_from_audit(0xc000003e, 0x40000000 + 63), "x32");
  EXPECT_EQ(arch_from_audit(0x40000003, 122), "x86");
  EXPECT_EQ(arch_from_audit(0xc00000b7, 160), "aarch64");
  EXPECT_EQ(arch_from_audit(0x40000028, 122), "arm");
  EXPECT_EQ(arch_from_audit(0xc00000f3, 160), "riscv64");
  EXPECT_EQ(arch_from_audit(0x80000016, 122), "s390x");
  EXPECT_EQ(arch_from_audit(0xc0000015, 122), "ppc64le");
  EXPECT_EQ(arch_from_audit(0x12345678, 1), "");

  auto x32 = parse(seccomp_line(1, 1, 1, 0x40000000 + 63));
  ASSERT_EQ(x32.kind, Kind::seccomp);
  EXPECT_EQ(x32.seccomp.arch, "x32");
  EXPECT_EQ(x32.seccomp.syscall, 0x40000000 + 63);  // x32 numbers keep the bit
}

TEST(KmsgParse, NamesEveryAction) {
  EXPECT_EQ(seccomp_action_name(SECCOMP_RET_KILL_PROCESS), "kill_process");
  EXPECT_EQ(seccomp_action_name(SECCOMP_RET_KILL_THREAD), "kill_thread");
  EXPECT_EQ(seccomp_action_name(SECCOMP_RET_TRAP), "trap");
  EXPECT_EQ(seccomp_action_name(SECCOMP_RET_ERRNO), "errno");
  EXPECT_EQ(seccomp_action_name(SECCOMP_RET_ERRNO | 1), "errno");
  EXPECT_EQ(seccomp_action_name(SECCOMP_RET_USER_NOTIF), "user_notif");
  EXPECT_EQ(seccomp_action_name(SECCOMP_RET_TRACE), "trace");
  EXPECT_EQ(seccomp_action_name(SECCOMP_RET_LOG), "log");
  EXPECT_EQ(seccomp_action_name(SECCOMP_RET_ALLOW), "allow");
  EXPECT_EQ(seccomp_action_name(0x12340000), "unknown");
}

TEST(KmsgParse, RecognisesEveryLossIndicator) {
  auto s = parse(kSuppressed);
  EXPECT_EQ(s.kind, Kind::suppressed);
  EXPECT_EQ(s.count, 198u);
  for (const char* func : {"audit_log_lost", "audit_panic", "audit_log_start", "audit_printk_skb"}) {
    auto r = parse(kmsg_line(1, std::string(func) + ": 3 callbacks suppressed"));
    EXPECT_EQ(r.kind, Kind::suppressed) << func;
    EXPECT_EQ(r.count, 3u) << func;
  }
  // Other rate limits are not about audit.
  EXPECT_EQ(parse(kmsg_line(1, "net_ratelimit: 5 callbacks suppressed")).kind, Kind::other);

  auto lost = parse(kmsg_line(1, "audit: audit_lost=5 audit_rate_limit=0 audit_backlog_limit=64"));
  EXPECT_EQ(lost.kind, Kind::audit_lost);
  EXPECT_EQ(lost.count, 5u);

  for (const char* reason :
       {"printk limit exceeded", "rate limit exceeded", "backlog limit exceeded",
        "out of memory in audit_log_start", "audit_backlog=70 > audit_backlog_limit=64"}) {
    auto r = parse(kmsg_line(1, std::string("audit: ") + reason, 3));
    EXPECT_EQ(r.kind, Kind::drop_reason) << reason;
    EXPECT_TRUE(r.drops) << reason;
  }
  // kauditd_hold_skb() printed the record before its hold queue overflowed.
  auto hold = parse(kmsg_line(1, "audit: kauditd hold queue overflow", 3));
  EXPECT_EQ(hold.kind, Kind::drop_reason);
  EXPECT_FALSE(hold.drops);
}

TEST(KmsgParse, OtherAuditRecordsCarryOnlyTheirSerial) {
  auto r = parse(kmsg_line(
      9, "audit: type=1300 audit(1700000000.123:77): arch=c000003e syscall=59 success=yes exit=0", 5));
  EXPECT_EQ(r.kind, Kind::audit);
  EXPECT_TRUE(r.has_serial);
  EXPECT_EQ(r.serial, 77u);
  auto plain = parse(kmsg_line(10, "audit: initializing netlink subsys (disabled)", 6));
  EXPECT_EQ(plain.kind, Kind::other);
  EXPECT_FALSE(plain.has_serial);
}

TEST(KmsgParse, IgnoresMalformedRecordsWithoutCrashing) {
  for (const char* raw : {"", ";", "garbage", "5,1,2,-", "x,1,2,-;audit: type=1326", "5,-1,2,-;hello",
                          "5,99999999999999999999999,2,-;hello", "5,1;hello"})
    EXPECT_FALSE(parse_kmsg_record(raw).has_value()) << raw;

  // Well-framed but not what the kernel writes: a type=1326 record that
  // cannot be read is garbled (a lost record), never a made-up one.
  const std::string garbled[] = {
      "audit: type=1326",
      "audit: type=1326 audit(",
      "audit: type=1326 audit(1.2:x): pid=1",
      "audit: type=1326 audit(1.2:3): pid=1 comm=\"a\" arch=c000003e syscall=63",  // no code
      "audit: type=1326 audit(1.2:3): pid=99999999999999 comm=\"a\" arch=c000003e syscall=63 code=0x7ffc0000",
      "audit: type=1326 audit(1.2:3): pid=1 comm=ABC arch=c000003e syscall=63 code=0x7ffc0000",  // odd hex
      "audit: type=1326 audit(1.2:3): pid=1 comm=\"a\" arch=zz syscall=63 code=0x7ffc0000",
      "audit: type=1326 audit(1.2:3): pid=1 comm=\"a\" arch=c000003e syscall=63 code=7ffc0000",
      "audit: type=1326 audit(1.2:3): pid=1 comm=\"a\" arch=c000003e syscall=63 compat=x code=0x7ffc0000",
      std::string(kNative).substr(21, 120),
  };
  for (const auto& msg : garbled) {
    auto r = parse(kmsg_line(1, msg));
    EXPECT_EQ(r.kind, Kind::seccomp_garbled) << msg;
  }
  EXPECT_EQ(parse(kmsg_line(1, "audit: type=abc audit(1.2:3): x=y")).kind, Kind::other);
  EXPECT_EQ(parse(kmsg_line(1, "kauditd_printk_skb: many callbacks suppressed")).kind, Kind::other);
  EXPECT_EQ(parse(kmsg_line(1, "audit: audit_lost=x")).kind, Kind::other);
  EXPECT_EQ(parse(kmsg_line(1, "trailing backslash \\x4")).text, "trailing backslash \\x4");
}

// ---------------------------------------------------------------------------

void feed(AuditLedger& ledger, const std::string& raw) {
  auto r = parse_kmsg_record(raw);
  ASSERT_TRUE(r.has_value()) << raw;
  ledger.add(*r);
}

TEST(AuditLedger, NothingLostWhenEverySerialArrives) {
  AuditLedger ledger(10, 5);
  for (std::uint32_t i = 0; i < 5; ++i) feed(ledger, seccomp_line(100 + i, 10 + i, 7, 63));
  ASSERT_EQ(ledger.records().size(), 5u);
  EXPECT_EQ(ledger.records()[4].serial, 14u);
  Loss loss = ledger.loss();
  EXPECT_FALSE(loss.lost);
  EXPECT_EQ(loss.why, "");
  EXPECT_EQ(loss.missing, 0u);
  EXPECT_FALSE(loss.confirmed);  // no probe yet
}

TEST(AuditLedger, OutOfOrderSerialsAreNoGap) {
  AuditLedger ledger;
  // Two CPUs can end records in the other order; an event's records share a serial.
  std::uint64_t seq = 1;
  for (std::uint32_t serial : {10u, 12u, 11u, 14u, 13u, 13u})
    feed(ledger, seccomp_line(seq++, serial, 7, 63));
  EXPECT_FALSE(ledger.loss().lost) << ledger.loss().why;
}

TEST(AuditLedger, ABurstIsCountedBySerialsAndTheSuppressionLine) {
  // As measured here: 200 logged calls, 10 printed (serials 210..219), and the
  // next record after 5 s (serial 410) preceded by the suppression line.
  AuditLedger ledger(10, 5);
  for (std::uint32_t i = 0; i < 10; ++i) feed(ledger, seccomp_line(3177 + i, 210 + i, 22955, 63));
  feed(ledger, kmsg_line(3187, "kauditd_printk_skb: 190 callbacks suppressed"));
  feed(ledger, seccomp_line(3188, 410, 22984, 63));
  Loss loss = ledger.loss();
  EXPECT_TRUE(loss.lost);
  EXPECT_EQ(loss.suppressed, 190u);
  EXPECT_EQ(loss.unseen_events, 190u);
  EXPECT_EQ(loss.missing, 190u);
  EXPECT_EQ(loss.why, "the kernel's printk rate limit (10 messages per 5 s) suppressed 190 audit messages");
}

TEST(AuditLedger, ASerialGapAloneIsALoss) {
  AuditLedger ledger;
  feed(ledger, seccomp_line(1, 10, 7, 63));
  feed(ledger, seccomp_line(2, 15, 7, 63));
  Loss loss = ledger.loss();
  EXPECT_TRUE(loss.lost);
  EXPECT_EQ(loss.unseen_events, 4u);
  EXPECT_EQ(loss.why, "4 audit events numbered between 10 and 15 never reached the kernel log");
}

TEST(AuditLedger, AProbeClosesTheBooksAndItsOwnDropsAreNotCounted) {
  AuditLedger ledger(10, 5);
  feed(ledger, seccomp_line(1, 10, 7, 63));
  ledger.expect_probe(500);  // dropped by the rate limit
  ledger.expect_probe(501);  // printed after the interval
  EXPECT_FALSE(ledger.confirmed());
  feed(ledger, kmsg_line(2, "kauditd_printk_skb: 1 callbacks suppressed"));
  feed(ledger, seccomp_line(3, 12, 501, SYS_getppid));
  EXPECT_TRUE(ledger.confirmed());
  EXPECT_EQ(ledger.records().size(), 1u);  // the probe is not a record
  Loss loss = ledger.loss();
  EXPECT_FALSE(loss.lost) << loss.why;
  EXPECT_TRUE(loss.confirmed);

  // Anything about audit after the probe may be followed by unreported drops.
  feed(ledger, seccomp_line(4, 13, 7, 63));
  EXPECT_FALSE(ledger.loss().confirmed);
  EXPECT_EQ(ledger.records().size(), 2u);
}

TEST(AuditLedger, DropsReportedBeforeTheOpeningProbeAreForgotten) {
  AuditLedger ledger(10, 5);
  ledger.expect_probe(400, /*opening=*/true);
  // Printed after the reader opened, about messages made before.
  feed(ledger, seccomp_line(1, 90, 7, 63));
  feed(ledger, kmsg_line(2, "kauditd_printk_skb: 79 callbacks suppressed"));
  feed(ledger, kmsg_line(3, "audit: rate limit exceeded", 3));
  feed(ledger, seccomp_line(4, 100, 400, SYS_getppid));
  EXPECT_FALSE(ledger.confirmed());  // the opening probe closes nothing
  EXPECT_FALSE(ledger.loss().lost) << ledger.loss().why;
  EXPECT_EQ(ledger.records().size(), 1u);  // still a record printed after opening

  // From here on, everything counts.
  feed(ledger, seccomp_line(5, 99, 7, 63));  // made before the probe: no gap
  feed(ledger, seccomp_line(6, 101, 7, 63));
  feed(ledger, kmsg_line(7, "kauditd_printk_skb: 3 callbacks suppressed"));
  feed(ledger, seccomp_line(8, 105, 7, 63));
  Loss loss = ledger.loss();
  EXPECT_EQ(loss.suppressed, 3u);
  EXPECT_EQ(loss.unseen_events, 3u);
  EXPECT_EQ(loss.why, "the kernel's printk rate limit (10 messages per 5 s) suppressed 3 audit messages");
}

TEST(AuditLedger, AnOpeningProbeThatWasDroppedForgetsNothing) {
  AuditLedger ledger(10, 5);
  ledger.expect_probe(400, /*opening=*/true);  // dropped: the window was used up
  ledger.expect_probe(401);
  feed(ledger, kmsg_line(1, "kauditd_printk_skb: 80 callbacks suppressed"));
  feed(ledger, seccomp_line(2, 100, 401, SYS_getppid));
  EXPECT_TRUE(ledger.confirmed());
  Loss loss = ledger.loss();
  EXPECT_EQ(loss.suppressed, 79u);  // the opening probe was one of them
  EXPECT_TRUE(loss.lost);
}

TEST(AuditLedger, GetppidFromAProcessThatIsNoProbeIsARecord) {
  AuditLedger ledger;
  ledger.expect_probe(500);
  feed(ledger, seccomp_line(1, 10, 7, SYS_getppid));
  EXPECT_EQ(ledger.records().size(), 1u);
  EXPECT_FALSE(ledger.confirmed());
}

TEST(AuditLedger, AFailedProbeIsALoss) {
  AuditLedger ledger;
  feed(ledger, seccomp_line(1, 10, 7, 63));
  ledger.note_probe_failure("no probe record appeared within 15000 ms");
  Loss loss = ledger.loss();
  EXPECT_TRUE(loss.lost);
  EXPECT_EQ(
      loss.why,
      "could not confirm that every audit record was printed: no probe record appeared within 15000 ms");
}

TEST(AuditLedger, OverwrittenRecordsAreCountedFromSequenceNumbers) {
  AuditLedger ledger;
  feed(ledger, kmsg_line(100, "eth0: link up"));
  ledger.note_overwritten();
  feed(ledger, kmsg_line(142, "eth0: link down"));
  Loss loss = ledger.loss();
  EXPECT_TRUE(loss.lost);
  EXPECT_EQ(loss.overwritten, 41u);
  EXPECT_EQ(loss.why, "the kernel log buffer overwrote 41 records before they were read");

  AuditLedger first;  // EPIPE on the very first read: how many is unknown
  first.note_overwritten();
  EXPECT_EQ(first.loss().why, "the kernel log buffer overwrote records before they were read");
}

TEST(AuditLedger, AuditSubsystemDropsAreLossesButAHoldQueueOverflowIsNot) {
  AuditLedger hold;
  feed(hold, kmsg_line(1, "audit: audit_lost=1 audit_rate_limit=0 audit_backlog_limit=64"));
  feed(hold, kmsg_line(2, "audit: kauditd hold queue overflow", 3));
  EXPECT_FALSE(hold.loss().lost) << hold.loss().why;

  AuditLedger unexplained;
  feed(unexplained, kmsg_line(1, "audit: audit_lost=2 audit_rate_limit=0 audit_backlog_limit=64"));
  EXPECT_EQ(unexplained.loss().why, "the audit subsystem dropped records (it reported audit_lost)");

  AuditLedger rate;
  feed(rate, kmsg_line(1, "audit: audit_lost=3 audit_rate_limit=100 audit_backlog_limit=64"));
  feed(rate, kmsg_line(2, "audit: rate limit exceeded", 3));
  EXPECT_EQ(rate.loss().why, "the audit subsystem dropped records (audit: rate limit exceeded)");
}

TEST(AuditLedger, GarbledSeccompRecordsAndReadErrorsAreLosses) {
  AuditLedger ledger;
  feed(ledger, kmsg_line(1, "audit: type=1326 audit(1.2:3): pid=1"));
  ledger.note_read_error("reading /dev/kmsg failed: Invalid argument");
  Loss loss = ledger.loss();
  EXPECT_TRUE(loss.lost);
  EXPECT_EQ(loss.why,
            "1 seccomp audit record could not be parsed (\"audit: type=1326 audit(1.2:3): pid=1\"); "
            "reading /dev/kmsg failed: Invalid argument");
}

// Found by fuzz_kmsg: a garbled record is quoted in Loss::why, and its text
// is unescaped (\x0a is a newline), so the quote broke the one-line message.
TEST(AuditLedger, AGarbledRecordIsQuotedOnOneLine) {
  AuditLedger ledger;
  ledger.add(parse("5,6,1004,-;audit: type=1326 audit(1.0:5): pid=7 comm=\"a\\x0ab\" arch=c000003e\n"));
  Loss loss = ledger.loss();
  EXPECT_TRUE(loss.lost);
  EXPECT_EQ(
      loss.why,
      "1 seccomp audit record could not be parsed (\"audit: type=1326 audit(1.0:5): pid=7 comm=\"a\\nb\" "
      "arch=c000003e\")");
}

}  // namespace
}  // namespace sandmine::sys
