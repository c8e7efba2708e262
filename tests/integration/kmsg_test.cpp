// seccomp's audit records read back from /dev/kmsg, against a program that
// makes a known number of logged calls: every record is read, or the reader
// says what it missed. Never silently fewer.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>

#include "support/run.h"
#include "sys/files.h"
#include "sys/kmsg.h"

namespace sandmine::test {
namespace {

using namespace std::chrono_literals;

int sysctl_int(const std::string& path) {
  auto text = sys::read_file(path);
  if (!text) throw std::runtime_error("cannot read " + path);
  return std::stoi(*text);
}

// The kernel's printk rate limit: burst messages per interval seconds.
int printk_burst() { return sysctl_int("/proc/sys/kernel/printk_ratelimit_burst"); }
int printk_interval() { return sysctl_int("/proc/sys/kernel/printk_ratelimit"); }

class KmsgAudit : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!is_root()) SKIP_OR_FAIL_IN_CI("reading /dev/kmsg and the audit status needs root (CI runs as root)");
    auto st = sys::seccomp_log_enabled();
    ASSERT_TRUE(st.ok()) << st.error().message;
  }

  // A window of the rate limit starts at the first message after the last
  // one ended; waiting one interval lets the next run start with a full burst
  // (unless something else on the machine prints audit messages meanwhile,
  // which the reader then reports).
  static void wait_for_a_fresh_rate_limit_window() {
    std::this_thread::sleep_for(std::chrono::seconds(printk_interval()) + 500ms);
  }

  struct Run {
    int pid = 0;
    std::vector<sys::SeccompRecord> mine;  // the program's records
    sys::Loss loss;
  };

  // Runs prog_log_filter with the reader opened before, draining it from a
  // second thread while the program runs (as a recorder does), then settles.
  static Run run_logged(long native, long i386) {
    auto reader = sys::KmsgAuditReader::open();
    if (!reader) throw std::runtime_error(reader.error().message);
    std::atomic<bool> stop{false};
    std::mutex mu;
    std::vector<sys::SeccompRecord> drained;
    std::thread drainer([&] {
      while (!stop) {
        auto more = reader->drain();
        std::lock_guard lock(mu);
        drained.insert(drained.end(), more.begin(), more.end());
        std::this_thread::sleep_for(1ms);
      }
    });
    Background program({prog("log_filter"), std::to_string(native), std::to_string(i386)});
    Run run;
    run.pid = program.pid();
    Outcome out = program.wait();
    EXPECT_EQ(out.exit_code, 0) << out.err;
    // records() and loss() while the other thread drains.
    wait_until([&] { return reader->records().size() >= static_cast<std::size_t>(native + i386); }, 1000);
    (void)reader->loss();
    stop = true;
    drainer.join();
    auto rest = reader->drain_settled(300ms);
    drained.insert(drained.end(), rest.begin(), rest.end());

    // What drain() and drain_settled() returned is what records() kept, in order.
    auto all = reader->records();
    EXPECT_EQ(all.size(), drained.size());
    for (std::size_t i = 0; i < std::min(all.size(), drained.size()); ++i)
      EXPECT_EQ(all[i].seq, drained[i].seq);
    for (const auto& r : all)
      if (r.pid == run.pid) run.mine.push_back(r);
    run.loss = reader->loss();
    return run;
  }

  // Every record of the program is a logged uname, as the kernel describes it.
  static void expect_uname_records(const Run& run) {
    std::string exe = std::filesystem::canonical(prog("log_filter")).string();
    for (const auto& r : run.mine) {
      EXPECT_EQ(r.comm, "prog_log_filter");
      EXPECT_EQ(r.exe, exe);
      EXPECT_EQ(r.action, "log");
      EXPECT_EQ(r.code, 0x7ffc0000u);
      EXPECT_EQ(r.sig, 0);
      if (r.arch == "x86_64") {
        EXPECT_EQ(r.syscall, 63);
        EXPECT_FALSE(r.compat);
      } else {
        EXPECT_EQ(r.arch, "x86");
        EXPECT_EQ(r.syscall, 122);
        EXPECT_TRUE(r.compat);
      }
    }
  }

  static std::size_t count_arch(const Run& run, const std::string& arch) {
    return static_cast<std::size_t>(
        std::count_if(run.mine.begin(), run.mine.end(), [&](const auto& r) { return r.arch == arch; }));
  }

  // Exactly k records, or fewer and a loss that accounts for the rest.
  static void expect_exact_or_reported(const Run& run, std::size_t k) {
    EXPECT_TRUE(run.loss.confirmed) << run.loss.why;
    EXPECT_LE(run.mine.size(), k);
    if (!run.loss.lost) {
      EXPECT_EQ(run.mine.size(), k);
      EXPECT_EQ(run.loss.why, "");
    } else {
      EXPECT_NE(run.loss.why, "");
      EXPECT_GE(run.mine.size() + run.loss.missing, k) << run.loss.why;
    }
  }
};

TEST_F(KmsgAudit, FiveLoggedCallsAreReadExactly) {
  wait_for_a_fresh_rate_limit_window();
  Run run = run_logged(5, 0);
  std::cout << "[ measured ] 5 logged calls: " << run.mine.size()
            << " records; loss: " << (run.loss.lost ? run.loss.why : "none") << "\n";
  expect_exact_or_reported(run, 5);
  EXPECT_EQ(count_arch(run, "x86_64"), run.mine.size());
  expect_uname_records(run);
  // kauditd prints in order.
  for (std::size_t i = 1; i < run.mine.size(); ++i) EXPECT_LT(run.mine[i - 1].serial, run.mine[i].serial);
}

TEST_F(KmsgAudit, Int80CallsAreArchX86) {
  wait_for_a_fresh_rate_limit_window();
  Run run = run_logged(2, 3);
  std::cout << "[ measured ] 2 native + 3 int $0x80 logged calls: " << count_arch(run, "x86_64")
            << " x86_64 and " << count_arch(run, "x86")
            << " x86 records; loss: " << (run.loss.lost ? run.loss.why : "none") << "\n";
  expect_exact_or_reported(run, 5);
  if (!run.loss.lost) {
    EXPECT_EQ(count_arch(run, "x86_64"), 2u);
    EXPECT_EQ(count_arch(run, "x86"), 3u);
  }
  expect_uname_records(run);
}

TEST_F(KmsgAudit, ABurstBeyondTheRateLimitIsReportedNeverSilentlyShort) {
  constexpr std::size_t k = 200;
  const int burst = printk_burst(), interval = printk_interval();
  wait_for_a_fresh_rate_limit_window();
  Run run = run_logged(k, 0);
  std::cout << "[ measured ] " << k << " logged calls under a printk rate limit of " << burst << " per "
            << interval << " s: " << run.mine.size()
            << " records; loss: " << (run.loss.lost ? run.loss.why : "none") << " (suppressed "
            << run.loss.suppressed << ", unseen serials " << run.loss.unseen_events << ")\n";
  expect_exact_or_reported(run, k);
  expect_uname_records(run);
  if (burst > 0 && interval > 0 && static_cast<std::size_t>(burst) < k) {
    // The limit is on: at most one burst gets through, and the rest is reported.
    EXPECT_LE(run.mine.size(), static_cast<std::size_t>(burst));
    EXPECT_TRUE(run.loss.lost);
    EXPECT_GE(run.loss.suppressed, k - run.mine.size());
    EXPECT_NE(run.loss.why.find("printk rate limit"), std::string::npos) << run.loss.why;
    EXPECT_NE(run.loss.why.find(std::to_string(run.loss.suppressed)), std::string::npos) << run.loss.why;
  }
}

TEST_F(KmsgAudit, OnlyRecordsPrintedAfterOpeningAreRead) {
  // Records of a run that ended (and was settled) before the reader opened.
  Run before = run_logged(1, 0);
  auto reader = sys::KmsgAuditReader::open();
  ASSERT_TRUE(reader) << reader.error().message;
  reader->drain_settled(100ms);
  for (const auto& r : reader->records()) EXPECT_NE(r.pid, before.pid);
  EXPECT_TRUE(reader->loss().confirmed) << reader->loss().why;
}

}  // namespace
}  // namespace sandmine::test
