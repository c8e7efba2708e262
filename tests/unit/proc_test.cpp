// Signal masks from /proc/PID/status.
#include "sys/proc.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

namespace sandmine::sys {
namespace {

TEST(Proc, SignalMasksAreParsedAndNamedBySignal) {
  auto m = parse_signal_masks(
      "Name:\tnginx\nSigQ:\t0/96364\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000001\n"
      "SigBlk:\t0000000000000000\nSigIgn:\t0000000000001000\nSigCgt:\t0000000018016a07\n");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_TRUE(m->is_pending(SIGHUP));
  EXPECT_FALSE(m->is_pending(SIGTERM));
  EXPECT_EQ(m->ignored, 0x1000u);  // SIGPIPE
  for (int sig : {SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGTERM, SIGCHLD, SIGWINCH, SIGIO})
    EXPECT_TRUE(m->catches(sig)) << sig;
  EXPECT_FALSE(m->catches(SIGKILL));
  EXPECT_FALSE(m->catches(SIGPIPE));
}

TEST(Proc, AMissingOrGarbledFieldIsAnError) {
  EXPECT_EQ(parse_signal_masks("SigPnd:\t0\nShdPnd:\t0\nSigBlk:\t0\nSigIgn:\t0\n").error().message,
            "/proc status: no SigCgt: line");
  EXPECT_EQ(parse_signal_masks("SigPnd:\tzz\n").error().message,
            "/proc status: SigPnd: is not a hexadecimal mask: zz");
}

TEST(Proc, ThisProcessCatchesWhatItInstalledAHandlerFor) {
  struct sigaction sa = {}, old = {};
  sa.sa_handler = [](int) {};
  ASSERT_EQ(::sigaction(SIGUSR2, &sa, &old), 0);
  auto m = signal_masks(::getpid());
  ::sigaction(SIGUSR2, &old, nullptr);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_TRUE(m->catches(SIGUSR2));
}

}  // namespace
}  // namespace sandmine::sys
