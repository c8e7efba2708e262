// FileLock::take while another holder has the lock: Ctrl-C ends the wait,
// even when it comes just before the wait starts.
#include <gtest/gtest.h>

#include <unistd.h>
#include <csignal>
#include <cstdlib>
#include <iostream>

#include "support/run.h"
#include "sys/files.h"
#include "sys/interrupt.h"

namespace sandmine::test {
namespace {

// In a child process (the interrupt flag is process-wide and never cleared):
// a second open of the lock file conflicts with the first, and SIGINT comes
// from the `waiting` callback, after the non-blocking try and before the wait.
// Exit 0 when take() ends with the interrupt error within 5 s; SIGALRM kills a
// child that waits on.
void take_interrupted_before_the_wait(const std::string& path) {
  ::alarm(5);
  auto held = sys::FileLock::take(path);
  if (!held.ok()) std::_Exit(3);
  sys::InterruptGuard guard;
  auto second = sys::FileLock::take(path, [] { ::raise(SIGINT); });
  if (second.ok()) std::_Exit(4);
  std::cerr << second.error().message << std::endl;
  std::_Exit(second.error().message == "interrupted by signal 2 while waiting for the lock " + path ? 0 : 5);
}

TEST(FileLockDeathTest, ASignalJustBeforeTheWaitEndsIt) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  TempDir dir;
  const std::string path = dir.file("image.lock");
  EXPECT_EXIT(take_interrupted_before_the_wait(path), ::testing::ExitedWithCode(0),
              "interrupted by signal 2 while waiting for the lock ");
}

}  // namespace
}  // namespace sandmine::test
