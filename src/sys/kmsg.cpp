#include "sys/kmsg.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstddef>
#include <iterator>
#include <sstream>
#include <utility>

#include <fmt/format.h>

#include "sys/files.h"
#include "syscalls/arch.h"
#include "syscalls/syscalls.h"

namespace sandmine::sys {

namespace {

// The probe: a child process that logs this one call (see fire_probe_locked).
constexpr std::int64_t kProbeSyscall = SYS_getppid;

// The audit architecture of this host's native calls (0 when unknown).
std::uint32_t native_audit_arch() {
  const auto* arch = syscalls::find_arch(syscalls::native_arch());
  return arch ? arch->audit_arch : 0;
}

// audit_seccomp() in kernel/auditsc.c writes the record with type
// AUDIT_SECCOMP (1326); kauditd_printk_skb() in kernel/audit.c prints it as
// pr_notice("type=%d %s\n", ...), and pr_fmt there adds "audit: ".
constexpr std::string_view kAuditPrefix = "audit: ";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

template <class T>
std::optional<T> parse_number(std::string_view s, int base = 10) {
  T value{};
  if (s.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value, base);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// /dev/kmsg writes bytes below 0x20, from 0x7f, and the backslash as \xHH
// (msg_add_ext_text() in kernel/printk/printk.c).
std::string unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x') {
      int hi = hex_digit(s[i + 2]), lo = hex_digit(s[i + 3]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

// An audit string field: "quoted" when printable, hex when it holds a space,
// a quote or a byte outside 0x21..0x7e (audit_log_n_untrustedstring() in
// kernel/audit.c), and (null) for a missing executable.
std::optional<std::string> audit_string(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') return std::string(v.substr(1, v.size() - 2));
  if (v == "(null)") return std::string();
  if (v.empty() || v.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(v.size() / 2);
  for (std::size_t i = 0; i < v.size(); i += 2) {
    int hi = hex_digit(v[i]), lo = hex_digit(v[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

// key=value fields separated by spaces; words without '=' (an AppArmor label's
// " (enforce)") are skipped. The first of a repeated key wins.
std::map<std::string_view, std::string_view> fields(std::string_view body) {
  std::map<std::string_view, std::string_view> out;
  while (!body.empty()) {
    auto space = body.find(' ');
    std::string_view word = body.substr(0, space);
    body = space == std::string_view::npos ? std::string_view() : body.substr(space + 1);
    auto eq = word.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    out.emplace(word.substr(0, eq), word.substr(eq + 1));
  }
  return out;
}

bool parse_seccomp(std::string_view body, SeccompRecord& r) {
  auto f = fields(body);
  auto get = [&](std::string_view key) -> std::optional<std::string_view> {
    auto it = f.find(key);
    if (it == f.end()) return std::nullopt;
    return it->second;
  };
  auto pid = get("pid"), comm = get("comm"), arch = get("arch"), nr = get("syscall"), code = get("code");
  if (!pid || !comm || !arch || !nr || !code) return false;
  auto pid_v = parse_number<int>(*pid);
  auto comm_v = audit_string(*comm);
  auto arch_v = parse_number<std::uint32_t>(*arch, 16);
  auto nr_v = parse_number<std::int64_t>(*nr);
  if (!code->starts_with("0x")) return false;
  auto code_v = parse_number<std::uint32_t>(code->substr(2), 16);
  if (!pid_v || !comm_v || !arch_v || !nr_v || !code_v) return false;
  r.pid = *pid_v;
  r.comm = std::move(*comm_v);
  r.audit_arch = *arch_v;
  r.syscall = *nr_v;
  r.arch = arch_from_audit(r.audit_arch, r.syscall);
  r.code = *code_v;
  r.action = seccomp_action_name(r.code);
  if (auto exe = get("exe")) {
    auto exe_v = audit_string(*exe);
    if (!exe_v) return false;
    r.exe = std::move(*exe_v);
  }
  if (auto compat = get("compat")) {
    auto v = parse_number<int>(*compat);
    if (!v) return false;
    r.compat = *v != 0;
  }
  if (auto sig = get("sig")) {
    auto v = parse_number<int>(*sig);
    if (!v) return false;
    r.sig = *v;
  }
  return true;
}

// "type=N audit(SECONDS.MILLIS:SERIAL): BODY", as audit_log_start() in
// kernel/audit.c formats the stamp.
void classify_audit(std::string_view msg, KmsgRecord& r) {
  msg.remove_prefix(5);  // "type="
  auto space = msg.find(' ');
  auto type = parse_number<int>(msg.substr(0, space));
  if (!type) return;
  bool seccomp = *type == AUDIT_SECCOMP;
  if (seccomp) r.kind = KmsgRecord::Kind::seccomp_garbled;
  if (space == std::string_view::npos) return;
  std::string_view rest = msg.substr(space + 1);
  auto close = rest.find("): ");
  auto colon = rest.find(':');
  if (!rest.starts_with("audit(") || close == std::string_view::npos || colon > close) return;
  auto serial = parse_number<std::uint32_t>(rest.substr(colon + 1, close - colon - 1));
  if (!serial) return;
  r.has_serial = true;
  r.serial = *serial;
  if (!seccomp) {
    r.kind = KmsgRecord::Kind::audit;
    return;
  }
  r.seccomp.seq = r.seq;
  r.seccomp.serial = r.serial;
  if (parse_seccomp(rest.substr(close + 3), r.seccomp)) r.kind = KmsgRecord::Kind::seccomp;
}

// What audit_log_lost() in kernel/audit.c says when it drops a record, via
// audit_panic() as pr_err("%s\n", message). true: the record never reached
// printk. "kauditd hold queue overflow" comes after kauditd_hold_skb() printed
// the record (it only lost the copy kept for an audit daemon that may come).
// "printk limit exceeded" is from kernels before 4.11 (audit_printk_skb).
std::optional<bool> drop_reason(std::string_view rest) {
  static constexpr std::string_view kDrops[] = {
      "rate limit exceeded",               // audit_log_end(): audit_rate_limit
      "backlog limit exceeded",            // audit_log_start(): audit_backlog_limit
      "printk limit exceeded",             // audit_printk_skb(), before 4.11
      "out of memory in audit_log_start",  // audit_log_start()
      "out of memory in audit_expand",     // audit_expand(): the record is cut short
      "kauditd retry queue overflow",      // kauditd_retry_skb()
      "auditd disappeared",                // kauditd_send_skb(), before 4.11
  };
  if (rest == "kauditd hold queue overflow") return false;
  for (auto d : kDrops)
    if (rest == d) return true;
  // pr_warn("audit_backlog=%d > audit_backlog_limit=%d\n") in audit_log_start()
  if (rest.starts_with("audit_backlog=") && rest.find(" > audit_backlog_limit=") != std::string_view::npos)
    return true;
  return std::nullopt;
}

// "<func>: N callbacks suppressed", printed by ___ratelimit() in
// lib/ratelimit.c (printk_deferred(KERN_WARNING "%s: %d callbacks
// suppressed\n", func, missed)) when a rate limit's interval has passed and
// the next call comes. kernel/audit.c calls printk_ratelimit(), which is
// __printk_ratelimit(__func__), from kauditd_printk_skb (each record),
// audit_log_lost, audit_panic and audit_log_start; audit_printk_skb before
// 4.11. That state is shared by every printk_ratelimit() caller in the kernel.
std::optional<std::uint64_t> audit_suppressed(std::string_view msg) {
  constexpr std::string_view kTail = " callbacks suppressed";
  if (!msg.ends_with(kTail)) return std::nullopt;
  msg.remove_suffix(kTail.size());
  auto sep = msg.find(": ");
  if (sep == std::string_view::npos) return std::nullopt;
  std::string_view func = msg.substr(0, sep);
  if (func.find(' ') != std::string_view::npos) return std::nullopt;
  if (!func.starts_with("audit") && !func.starts_with("kauditd")) return std::nullopt;
  return parse_number<std::uint64_t>(msg.substr(sep + 2));
}

}  // namespace

std::string arch_from_audit(std::uint32_t audit_arch, std::int64_t nr) {
  const auto* arch = syscalls::arch_of_audit(audit_arch, nr);
  return arch ? arch->name : "";
}

std::string seccomp_action_name(std::uint32_t code) {
  // seccomp_log() in kernel/seccomp.c logs the action without its data (the
  // errno of SECCOMP_RET_ERRNO is not in code=).
  struct Action {
    std::uint32_t ret;
    const char* name;
  };
  static constexpr Action kActions[] = {
      {SECCOMP_RET_KILL_PROCESS, "kill_process"},
      {SECCOMP_RET_KILL_THREAD, "kill_thread"},
      {SECCOMP_RET_TRAP, "trap"},
      {SECCOMP_RET_ERRNO, "errno"},
      {SECCOMP_RET_USER_NOTIF, "user_notif"},
      {SECCOMP_RET_TRACE, "trace"},
      {SECCOMP_RET_LOG, "log"},
      {SECCOMP_RET_ALLOW, "allow"},
  };
  for (const auto& a : kActions)
    if (a.ret == (code & SECCOMP_RET_ACTION_FULL)) return a.name;
  return "unknown";
}

std::optional<KmsgRecord> parse_kmsg_record(std::string_view raw) {
  // Documentation/ABI/testing/dev-kmsg: "PRIO,SEQ,TS_USEC,FLAGS;MESSAGE";
  // more comma-separated fields may follow FLAGS in later kernels.
  auto semi = raw.find(';');
  if (semi == std::string_view::npos) return std::nullopt;
  std::string_view header = raw.substr(0, semi);
  std::array<std::string_view, 3> head{};
  for (auto& field : head) {
    auto comma = header.find(',');
    if (comma == std::string_view::npos) return std::nullopt;
    field = header.substr(0, comma);
    header.remove_prefix(comma + 1);
  }
  auto seq = parse_number<std::uint64_t>(head[1]);
  if (!parse_number<unsigned>(head[0]) || !seq || !parse_number<std::uint64_t>(head[2])) return std::nullopt;

  KmsgRecord r;
  r.seq = *seq;
  std::string_view body = raw.substr(semi + 1);
  body = body.substr(0, body.find('\n'));  // then " KEY=VALUE" lines
  r.text = unescape(body);
  std::string_view msg = r.text;

  std::string_view rest = msg;
  if (rest.starts_with(kAuditPrefix)) rest.remove_prefix(kAuditPrefix.size());
  if (rest.starts_with("type=")) {
    classify_audit(rest, r);
    return r;
  }
  if (auto n = audit_suppressed(msg)) {
    r.kind = KmsgRecord::Kind::suppressed;
    r.count = *n;
    return r;
  }
  if (!msg.starts_with(kAuditPrefix)) return r;
  // pr_warn("audit_lost=%u audit_rate_limit=%u audit_backlog_limit=%u\n") in audit_log_lost()
  if (rest.starts_with("audit_lost=")) {
    std::string_view n = rest.substr(11);
    if (auto v = parse_number<std::uint64_t>(n.substr(0, n.find(' ')))) {
      r.kind = KmsgRecord::Kind::audit_lost;
      r.count = *v;
    }
    return r;
  }
  if (auto drops = drop_reason(rest)) {
    r.kind = KmsgRecord::Kind::drop_reason;
    r.drops = *drops;
  }
  return r;
}

// ---------------------------------------------------------------------------
// AuditLedger

bool AuditLedger::add(const KmsgRecord& record) {
  using Kind = KmsgRecord::Kind;
  if (last_seq_ && record.seq > *last_seq_ + 1) overwritten_ += record.seq - *last_seq_ - 1;
  if (!last_seq_ || record.seq > *last_seq_) last_seq_ = record.seq;

  bool was_audit_lost = std::exchange(last_was_audit_lost_, false);
  if (record.kind == Kind::other) return false;
  // Serials below the opening probe's are of events made before reading began.
  if (record.has_serial && (!baseline_ || record.serial > *baseline_)) add_serial(record.serial);

  if (record.kind == Kind::seccomp && record.seccomp.syscall == kProbeSyscall) {
    auto it = std::find_if(pending_probes_.begin(), pending_probes_.end(),
                           [&](const Probe& p) { return p.pid == record.seccomp.pid; });
    if (it != pending_probes_.end()) {
      // kauditd prints in order: probes made before this one and still not
      // seen were dropped (and are in a "callbacks suppressed" count).
      for (auto p = pending_probes_.begin(); p != it; ++p) {
        ++probes_suppressed_;
        if (p->after_serial) ++probes_suppressed_in_range_;
      }
      bool opening = it->opening;
      pending_probes_.erase(pending_probes_.begin(), it + 1);
      if (opening && record.has_serial) {
        // This probe passed the rate limit, so its window had dropped nothing
        // before it: drops reported before its record are of messages made
        // before it (before reading began), and those reported after it of
        // messages made after it. Forget the former.
        baseline_ = record.serial;
        std::map<std::uint32_t, std::uint32_t> later;
        for (auto [first, last] : serials_)
          if (last > *baseline_) later.emplace(std::max(first, *baseline_ + 1), last);
        serials_ = std::move(later);
        add_serial(*baseline_);
        suppressed_ = 0;
        probes_suppressed_ = probes_suppressed_in_range_ = 0;
        audit_lost_lines_ = hold_overflow_lines_ = 0;
        drop_reason_.clear();
        return false;
      }
      confirmed_ = true;
      probe_failure_.clear();
      return false;
    }
  }
  // Anything about audit after the probe may be followed by drops not yet reported.
  confirmed_ = false;

  switch (record.kind) {
    case Kind::seccomp:
      records_.push_back(record.seccomp);
      return true;
    case Kind::seccomp_garbled:
      // Quoted in Loss::why, which is one line: the record text is unescaped, so escape it again.
      if (garbled_++ == 0) garbled_example_ = one_line(record.text.substr(0, 120));
      break;
    case Kind::suppressed:
      suppressed_ += record.count;
      break;
    case Kind::audit_lost:
      ++audit_lost_lines_;
      last_was_audit_lost_ = true;
      break;
    case Kind::drop_reason:
      // audit_log_lost() prints audit_lost=N, then the reason.
      if (!record.drops && was_audit_lost) ++hold_overflow_lines_;
      if (record.drops && drop_reason_.empty()) drop_reason_ = record.text;
      break;
    case Kind::audit:
    case Kind::other:
      break;
  }
  return false;
}

void AuditLedger::note_overwritten() {
  // The next record's sequence number says how many; before any record, nothing can.
  if (!last_seq_) overwritten_unknown_ = true;
  confirmed_ = false;
}

void AuditLedger::note_read_error(std::string why) {
  if (read_error_.empty()) read_error_ = std::move(why);
}

void AuditLedger::expect_probe(int pid, bool opening) {
  pending_probes_.push_back({pid, opening, !serials_.empty()});
}

void AuditLedger::note_probe_failure(std::string why) {
  if (!confirmed_) probe_failure_ = std::move(why);
}

void AuditLedger::add_serial(std::uint32_t serial) {
  // Runs [first, last] of consecutive serials seen; records can arrive out of
  // order when two CPUs end records at the same time.
  auto next = serials_.upper_bound(serial);
  if (next != serials_.begin()) {
    auto prev = std::prev(next);
    if (serial <= prev->second) return;
    if (serial == prev->second + 1) {
      prev->second = serial;
      if (next != serials_.end() && next->first == serial + 1) {
        prev->second = next->second;
        serials_.erase(next);
      }
      return;
    }
  }
  if (next != serials_.end() && next->first == serial + 1) {
    std::uint32_t last = next->second;
    serials_.erase(next);
    serials_.emplace(serial, last);
    return;
  }
  serials_.emplace(serial, serial);
}

std::uint64_t AuditLedger::serial_gaps() const {
  std::uint64_t gaps = 0;
  for (auto it = serials_.begin(); it != serials_.end(); ++it) {
    auto next = std::next(it);
    if (next != serials_.end()) gaps += next->first - it->second - 1;
  }
  return gaps;
}

Loss AuditLedger::loss() const {
  Loss l;
  l.overwritten = overwritten_;
  l.suppressed = suppressed_ - std::min(suppressed_, probes_suppressed_);
  std::uint64_t gaps = serial_gaps();
  l.unseen_events = gaps - std::min(gaps, probes_suppressed_in_range_);
  l.missing = std::max(l.suppressed, l.unseen_events);
  l.confirmed = confirmed_;

  std::vector<std::string> parts;
  if (l.suppressed > 0) {
    std::string limit = burst_ > 0 && interval_s_ > 0
                            ? fmt::format(" ({} messages per {} s)", burst_, interval_s_)
                            : std::string();
    parts.push_back(fmt::format("the kernel's printk rate limit{} suppressed {} audit message{}", limit,
                                l.suppressed, l.suppressed == 1 ? "" : "s"));
  }
  if (l.unseen_events > l.suppressed)
    parts.push_back(fmt::format("{} audit event{} numbered between {} and {} never reached the kernel log",
                                l.unseen_events, l.unseen_events == 1 ? "" : "s", serials_.begin()->first,
                                serials_.rbegin()->second));
  if (overwritten_ > 0)
    parts.push_back(fmt::format("the kernel log buffer overwrote {} record{} before they were read",
                                overwritten_, overwritten_ == 1 ? "" : "s"));
  else if (overwritten_unknown_)
    parts.push_back("the kernel log buffer overwrote records before they were read");
  if (!drop_reason_.empty())
    parts.push_back(fmt::format("the audit subsystem dropped records ({})", drop_reason_));
  else if (audit_lost_lines_ > hold_overflow_lines_)
    parts.push_back("the audit subsystem dropped records (it reported audit_lost)");
  if (garbled_ > 0)
    parts.push_back(fmt::format("{} seccomp audit record{} could not be parsed (\"{}\")", garbled_,
                                garbled_ == 1 ? "" : "s", garbled_example_));
  if (!read_error_.empty()) parts.push_back(read_error_);
  if (!confirmed_ && !probe_failure_.empty())
    parts.push_back("could not confirm that every audit record was printed: " + probe_failure_);

  l.lost = !parts.empty();
  for (std::size_t i = 0; i < parts.size(); ++i) l.why += (i ? "; " : "") + parts[i];
  return l;
}

// ---------------------------------------------------------------------------
// KmsgAuditReader

namespace {

int read_sysctl_int(const char* path, int fallback) {
  auto text = read_file(path);
  if (!text) return fallback;
  return parse_number<int>(trim(*text)).value_or(fallback);
}

}  // namespace

Result<KmsgAuditReader> KmsgAuditReader::open() {
  UniqueFd fd(::open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) {
    int err = errno;
    return errno_error(
        std::string("cannot open /dev/kmsg to read seccomp's audit records") +
            (err == EPERM || err == EACCES ? " (run as root: kernel.dmesg_restrict needs CAP_SYSLOG)" : ""),
        err);
  }
  // SEEK_END: the next read returns the first record printed after now.
  if (::lseek(fd.get(), 0, SEEK_END) < 0) return errno_error("cannot seek to the end of /dev/kmsg");
  // Defaults of DEFAULT_RATELIMIT_BURST and DEFAULT_RATELIMIT_INTERVAL.
  int burst = read_sysctl_int("/proc/sys/kernel/printk_ratelimit_burst", 10);
  int interval = read_sysctl_int("/proc/sys/kernel/printk_ratelimit", 5);
  KmsgAuditReader reader(std::move(fd), burst, interval);
  // Not shared yet, so no lock. If the probe cannot be made, nothing is
  // forgotten (and drain_settled says why).
  (void)reader.fire_probe_locked(/*opening=*/true);
  return reader;
}

KmsgAuditReader::KmsgAuditReader(UniqueFd fd, int burst, int interval_s)
    : fd_(std::move(fd)),
      interval_s_(interval_s),
      ledger_(burst, interval_s),
      last_read_(std::chrono::steady_clock::now()) {}

KmsgAuditReader::KmsgAuditReader(KmsgAuditReader&& o) noexcept
    : fd_(std::move(o.fd_)),
      interval_s_(o.interval_s_),
      ledger_(std::move(o.ledger_)),
      last_read_(o.last_read_) {}

std::vector<SeccompRecord> KmsgAuditReader::drain() {
  std::lock_guard lock(mu_);
  return drain_locked();
}

std::vector<SeccompRecord> KmsgAuditReader::drain_locked() {
  std::vector<SeccompRecord> out;
  // devkmsg_read() returns one record per read and EINVAL if it does not fit;
  // records are at most CONSOLE_EXT_LOG_MAX (8 KiB).
  std::array<char, 16384> buf;
  for (;;) {
    ssize_t n = ::read(fd_.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      if (errno == EPIPE) {  // overwritten before we read them; the position moved on
        ledger_.note_overwritten();
        continue;
      }
      ledger_.note_read_error(errno_error("reading /dev/kmsg failed").message);
      break;
    }
    if (n == 0) break;
    last_read_ = std::chrono::steady_clock::now();
    auto record = parse_kmsg_record(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    if (record && ledger_.add(*record)) out.push_back(ledger_.records().back());
  }
  return out;
}

void KmsgAuditReader::wait_readable(std::chrono::milliseconds timeout) const {
  if (timeout.count() <= 0) return;
  pollfd p{fd_.get(), POLLIN, 0};
  (void)::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(timeout.count(), 60000)));
}

Status KmsgAuditReader::fire_probe_locked(bool opening) {
  const std::uint32_t native = native_audit_arch();
  if (native == 0) return Error{"probe records are not implemented for this architecture"};
  // Logs the native getppid and allows everything else. Built before fork:
  // the child only makes raw calls.
  const sock_filter kFilter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, native, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<std::uint32_t>(kProbeSyscall), 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_LOG),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(std::size(kFilter)), const_cast<sock_filter*>(kFilter)};

  pid_t pid = ::fork();
  if (pid < 0) return errno_error("cannot start a probe process");
  if (pid == 0) {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(errno);
    if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) ::_exit(errno);
    ::syscall(kProbeSyscall);
    ::_exit(0);
  }
  int status = 0;
  pid_t waited;
  while ((waited = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
  }
  // ECHILD: reaped by someone else (a waitpid(-1) elsewhere); assume it ran.
  if (waited == pid && WIFEXITED(status) && WEXITSTATUS(status) != 0)
    return errno_error("a probe process could not install its seccomp filter", WEXITSTATUS(status));
  // Still under the lock: no drain can have read its record yet.
  ledger_.expect_probe(pid, opening);
  return {};
}

std::vector<SeccompRecord> KmsgAuditReader::drain_settled(std::chrono::milliseconds quiet,
                                                          std::chrono::milliseconds confirm_timeout) {
  using Clock = std::chrono::steady_clock;
  using std::chrono::milliseconds;
  std::vector<SeccompRecord> out;
  auto step = [&] {
    std::lock_guard lock(mu_);
    auto more = drain_locked();
    out.insert(out.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
    return last_read_;
  };
  auto until = [](Clock::time_point t) {
    return std::chrono::duration_cast<milliseconds>(t - Clock::now()) + milliseconds(1);
  };

  // kauditd prints asynchronously: wait until nothing new arrived for `quiet`.
  for (auto last = step(); Clock::now() < last + quiet; last = step()) wait_readable(until(last + quiet));

  // Then a probe. If the rate limit drops it, its window is used up; that
  // window began at a printed message, so at or before the last record read
  // (or before the probe), and ends one interval later.
  const auto deadline = Clock::now() + confirm_timeout;
  const auto interval = std::chrono::seconds(interval_s_) + milliseconds(250);
  const auto probe_wait = milliseconds(500);
  for (;;) {
    Status fired;
    {
      std::lock_guard lock(mu_);
      fired = fire_probe_locked();
      if (!fired) {
        ledger_.note_probe_failure(fired.error().message);
        return out;
      }
    }
    const auto probe_time = Clock::now();
    bool confirmed = false;
    for (;;) {
      step();
      {
        std::lock_guard lock(mu_);
        confirmed = ledger_.confirmed();
      }
      auto until_give_up = std::min(probe_time + probe_wait, deadline);
      if (confirmed || Clock::now() >= until_give_up) break;
      wait_readable(until(until_give_up));
    }
    if (confirmed) return out;
    Clock::time_point last_read;
    {
      std::lock_guard lock(mu_);
      last_read = last_read_;
    }
    auto next = std::min(last_read, probe_time) + interval;
    if (next > deadline) break;
    while (Clock::now() < next) {
      wait_readable(until(next));
      step();
    }
  }
  std::string why = fmt::format("no probe record appeared within {} ms", confirm_timeout.count());
  if (auto st = seccomp_log_enabled(); !st) why += " (" + st.error().message + ")";
  std::lock_guard lock(mu_);
  ledger_.note_probe_failure(std::move(why));
  return out;
}

std::vector<SeccompRecord> KmsgAuditReader::records() const {
  std::lock_guard lock(mu_);
  return ledger_.records();
}

Loss KmsgAuditReader::loss() const {
  std::lock_guard lock(mu_);
  return ledger_.loss();
}

// ---------------------------------------------------------------------------

namespace {

// The audit daemon's pid from AUDIT_GET on the audit netlink socket (0: none),
// or nullopt when it cannot be asked (not CAP_AUDIT_CONTROL, in a container).
// Error when the kernel has no audit socket at all.
Result<std::optional<std::uint32_t>> audit_daemon_pid() {
  UniqueFd sock(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT));
  if (!sock.valid()) {
    if (errno == EPROTONOSUPPORT)
      return Error{
          "the kernel has no audit support (built without CONFIG_AUDIT, or booted with audit=0), so "
          "seccomp's log records are never printed",
          EPROTONOSUPPORT};
    return std::optional<std::uint32_t>();
  }
  timeval timeout{1, 0};
  (void)::setsockopt(sock.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  nlmsghdr request{};
  request.nlmsg_len = NLMSG_LENGTH(0);
  request.nlmsg_type = AUDIT_GET;
  request.nlmsg_flags = NLM_F_REQUEST;
  request.nlmsg_seq = 1;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(sock.get(), &request, request.nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof kernel) < 0)
    return std::optional<std::uint32_t>();
  alignas(nlmsghdr) std::array<char, 8192> buf;
  for (int tries = 0; tries < 4; ++tries) {
    ssize_t n = ::recv(sock.get(), buf.data(), buf.size(), 0);
    if (n < 0) return std::optional<std::uint32_t>();
    int len = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type == NLMSG_ERROR) {
        auto* e = static_cast<nlmsgerr*>(NLMSG_DATA(h));
        if (e->error != 0) return std::optional<std::uint32_t>();
        continue;  // an acknowledgement
      }
      if (h->nlmsg_type == AUDIT_GET &&
          h->nlmsg_len >= NLMSG_LENGTH(offsetof(audit_status, pid) + sizeof(__u32))) {
        const auto* status = static_cast<const audit_status*>(NLMSG_DATA(h));
        return std::optional<std::uint32_t>(status->pid);
      }
    }
  }
  return std::optional<std::uint32_t>();
}

}  // namespace

Status seccomp_log_enabled() {
  constexpr const char* kActionsLogged = "/proc/sys/kernel/seccomp/actions_logged";
  auto text = read_file(kActionsLogged);
  if (!text) {
    if (text.error().errnum == ENOENT)
      return Error{std::string("this kernel cannot log seccomp actions: ") + kActionsLogged +
                       " is missing (SECCOMP_RET_LOG needs Linux 4.14 or later)",
                   ENOENT};
    return text.error();
  }
  std::string actions(trim(*text));
  std::istringstream words(actions);
  bool log = false;
  for (std::string w; words >> w;) log = log || w == "log";
  if (!log)
    return Error{
        fmt::format("seccomp does not log SCMP_ACT_LOG here: {} is \"{}\"; add log as root: "
                    "echo '{}{}log' > {}",
                    kActionsLogged, actions, actions, actions.empty() ? "" : " ", kActionsLogged)};
  auto daemon = audit_daemon_pid();
  if (!daemon) return daemon.error();
  if (*daemon && **daemon != 0)
    return Error{
        fmt::format("an audit daemon (pid {}) receives the kernel's audit records, so they do not reach "
                    "/dev/kmsg: stop it (systemctl stop auditd) or read its log instead",
                    **daemon)};
  return {};
}

}  // namespace sandmine::sys
