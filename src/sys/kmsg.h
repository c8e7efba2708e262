#pragma once
// seccomp's audit records read from /dev/kmsg, with an honest account of the
// ones the kernel did not print.
//
// With no audit daemon, the kauditd thread prints every audit record with
// printk behind the kernel's shared printk rate limit (sysctls
// kernel.printk_ratelimit_burst messages per kernel.printk_ratelimit seconds:
// 10 per 5 s by default). What the limit drops is reported only later, as
// "kauditd_printk_skb: N callbacks suppressed", when the first message after
// the interval gets through. So the reader counts those lines, looks for gaps
// in the audit serial numbers, and closes a run with a probe record of its
// own: once the probe is printed, every record made before it has either been
// printed or been counted as suppressed.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sys/fd.h"
#include "util/result.h"

namespace sandmine::sys {

/// One seccomp audit record (type=1326, AUDIT_SECCOMP), as audit_seccomp() in
/// kernel/auditsc.c writes it.
struct SeccompRecord {
  std::uint64_t seq = 0;         ///< /dev/kmsg sequence number
  std::uint32_t serial = 0;      ///< audit event serial: the N of audit(T:N)
  int pid = 0;                   ///< thread group id, in the initial pid namespace
  std::string comm;              ///< the thread's name, hex-decoded if the kernel hex-encoded it
  std::string exe;               ///< the executable's path; empty when the kernel printed (null)
  std::string arch;              ///< libseccomp's name (x86_64, x86, x32, aarch64, ...); empty if unknown
  std::uint32_t audit_arch = 0;  ///< the arch= field (AUDIT_ARCH_* of linux/audit.h)
  std::int64_t syscall = 0;      ///< number as seccomp saw it (x32 numbers keep the x32 bit)
  bool compat = false;           ///< made through a compat entry (int $0x80 on x86_64)
  std::string action;            ///< actions_avail spelling: log, errno, trap, kill_process, ...
  std::uint32_t code = 0;        ///< the code= field: the action (SECCOMP_RET_ACTION_FULL bits)
  int sig = 0;                   ///< the signal the action sends (SIGSYS for kill and trap), else 0
};

/// What one /dev/kmsg record says about audit.
struct KmsgRecord {
  enum class Kind {
    other,            ///< nothing this reader needs
    seccomp,          ///< a seccomp audit record: see `seccomp`
    audit,            ///< another audit record: only `serial` matters
    seccomp_garbled,  ///< type=1326 but not in the form the kernel writes (a record lost to parsing)
    suppressed,       ///< "<audit function>: N callbacks suppressed": `count` messages dropped
    audit_lost,       ///< "audit: audit_lost=N ...": `count` is the kernel's total since boot
    drop_reason,      ///< "audit: rate limit exceeded" and the like: why the audit subsystem lost one
  };
  Kind kind = Kind::other;
  std::uint64_t seq = 0;
  bool has_serial = false;  ///< audit records (also garbled ones, when audit(T:N) could be read)
  std::uint32_t serial = 0;
  std::uint64_t count = 0;  ///< suppressed, audit_lost
  bool drops = false;       ///< drop_reason: the record never reached the kernel log
  std::string text;         ///< the message, unescaped (first line of the record)
  SeccompRecord seccomp;    ///< seccomp
};

/// Classifies one record as read(2) returns it from /dev/kmsg:
/// "PRIO,SEQ,TS_USEC,FLAGS[,...];MESSAGE\n" and then " KEY=VALUE" lines, with
/// bytes the kernel escapes written as \xHH. nullopt when it is not in that form.
std::optional<KmsgRecord> parse_kmsg_record(std::string_view raw);

/// libseccomp's name of an audit architecture, given the syscall number (x32
/// shares AUDIT_ARCH_X86_64 and sets bit 30 of the number). Empty if unknown.
std::string arch_from_audit(std::uint32_t audit_arch, std::int64_t nr);

/// The action of a seccomp return value or audit code= field, spelt as in
/// /proc/sys/kernel/seccomp/actions_avail; "unknown" for anything else.
std::string seccomp_action_name(std::uint32_t code);

/// What a reader knows it did not see.
struct Loss {
  bool lost = false;
  std::string why;  ///< one line, empty when nothing was lost
  /// Audit messages the kernel said its printk rate limit dropped (probes left out).
  std::uint64_t suppressed = 0;
  /// Audit events numbered between the first and last serial seen that never appeared (probes left out).
  std::uint64_t unseen_events = 0;
  /// Audit messages known missing: the larger of the two counts above. They can
  /// include other processes' messages, and, if the opening probe was dropped
  /// too, messages made shortly before the reader opened.
  std::uint64_t missing = 0;
  /// /dev/kmsg records overwritten before they were read (EPIPE).
  std::uint64_t overwritten = 0;
  /// A probe record was printed after everything read so far: nothing made
  /// before it can still be reported. Without it, a burst at the very end can
  /// be dropped without notice (see KmsgAuditReader::drain_settled).
  bool confirmed = false;
};

/// The books of a reader, apart from the kernel: parsed records go in, seccomp
/// records and a Loss come out. Not thread-safe (the reader locks).
class AuditLedger {
 public:
  /// printk_ratelimit_burst and printk_ratelimit, for the message; 0 if unknown.
  explicit AuditLedger(int printk_burst = 0, int printk_interval_s = 0)
      : burst_(printk_burst), interval_s_(printk_interval_s) {}

  /// Takes one record. True when it was a seccomp record, now last in records()
  /// (a probe's record is not: it only closes the books).
  bool add(const KmsgRecord& record);
  /// read(2) on /dev/kmsg failed with EPIPE: records were overwritten unread.
  void note_overwritten();
  /// Reading /dev/kmsg failed: nothing after this point is known.
  void note_read_error(std::string why);
  /// A probe process pid will log getppid once; its record is recognised and
  /// left out. The opening probe, made as reading begins, draws the line
  /// between before and after: what was reported before its record (drops,
  /// serials) is about messages made before reading began, and is forgotten.
  void expect_probe(int pid, bool opening = false);
  /// No probe record appeared: the books could not be closed.
  void note_probe_failure(std::string why);
  /// Whether a closing probe's record was read, and nothing about audit since.
  bool confirmed() const { return confirmed_; }

  const std::vector<SeccompRecord>& records() const { return records_; }
  Loss loss() const;

 private:
  struct Probe {
    int pid = 0;
    bool opening = false;
    bool after_serial = false;  // a serial had been seen when it was made
  };
  void add_serial(std::uint32_t serial);
  std::uint64_t serial_gaps() const;

  int burst_ = 0;
  int interval_s_ = 0;
  std::vector<SeccompRecord> records_;
  std::map<std::uint32_t, std::uint32_t> serials_;  // disjoint [first, last] runs seen
  std::optional<std::uint32_t> baseline_;           // the opening probe's serial
  std::optional<std::uint64_t> last_seq_;
  std::uint64_t overwritten_ = 0;
  bool overwritten_unknown_ = false;  // EPIPE before any record: how many is unknown
  std::uint64_t suppressed_ = 0;
  std::uint64_t audit_lost_lines_ = 0;
  std::uint64_t hold_overflow_lines_ = 0;  // audit_lost lines that lost nothing printk had
  bool last_was_audit_lost_ = false;
  std::string drop_reason_;  // first "audit: <reason>" that dropped a record
  std::uint64_t garbled_ = 0;
  std::string garbled_example_;
  std::string read_error_;
  std::vector<Probe> pending_probes_;
  std::uint64_t probes_suppressed_ = 0;           // probes never printed (counted by the kernel)
  std::uint64_t probes_suppressed_in_range_ = 0;  // of those, made after the first serial
  bool confirmed_ = false;
  std::string probe_failure_;
};

/// Reads seccomp audit records from /dev/kmsg as a workload runs. One thread
/// may drain() periodically while another calls records() or loss(); calls are
/// serialised.
class KmsgAuditReader {
 public:
  /// Opens /dev/kmsg and starts at its end: only records printed from now on
  /// are read. Needs CAP_SYSLOG when kernel.dmesg_restrict is 1. Makes an
  /// opening probe (see drain_settled), so that drops the kernel reports
  /// later but which happened before now are not counted; it takes one
  /// message of the rate limit's burst.
  static Result<KmsgAuditReader> open();

  /// Not while another thread uses o.
  KmsgAuditReader(KmsgAuditReader&& o) noexcept;
  KmsgAuditReader& operator=(KmsgAuditReader&&) = delete;
  KmsgAuditReader(const KmsgAuditReader&) = delete;
  KmsgAuditReader& operator=(const KmsgAuditReader&) = delete;
  ~KmsgAuditReader() = default;

  /// Reads every record available now and returns the seccomp records among
  /// them (also kept in records()). Records overwritten before they could be
  /// read (EPIPE) are counted in loss().
  std::vector<SeccompRecord> drain();

  /// For the end of a run, once the workload has stopped: drains until no
  /// record has arrived for `quiet` (kauditd prints asynchronously), then makes
  /// a probe: a child process logs getppid under a SECCOMP_RET_LOG filter and
  /// exits. kauditd prints in order, so once the probe's record appears
  /// everything made before it has been printed or counted as suppressed; if
  /// the rate limit drops the probe too, another follows when the limit's
  /// interval has passed. Gives up after confirm_timeout and says so in
  /// loss(). Returns the seccomp records read by this call (probes left out).
  std::vector<SeccompRecord> drain_settled(
      std::chrono::milliseconds quiet, std::chrono::milliseconds confirm_timeout = std::chrono::seconds(15));

  /// Every seccomp record read so far, in the order the kernel printed them.
  std::vector<SeccompRecord> records() const;
  /// What is known to be missing. Only after drain_settled() does !lost mean
  /// that every record the kernel made was read.
  Loss loss() const;

 private:
  KmsgAuditReader(UniqueFd fd, int burst, int interval_s);
  std::vector<SeccompRecord> drain_locked();
  // Waits up to `timeout` for a record to be readable (without the lock).
  void wait_readable(std::chrono::milliseconds timeout) const;
  Status fire_probe_locked(bool opening = false);

  mutable std::mutex mu_;
  UniqueFd fd_;
  int interval_s_ = 0;
  AuditLedger ledger_;
  std::chrono::steady_clock::time_point last_read_;  // when a record last arrived
};

/// Ok when SCMP_ACT_LOG records reach /dev/kmsg: "log" is in
/// /proc/sys/kernel/seccomp/actions_logged, the kernel has audit support and
/// no audit daemon takes the records. Otherwise says which and how to fix it.
Status seccomp_log_enabled();

}  // namespace sandmine::sys
