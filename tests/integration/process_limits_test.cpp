// Another process's open-file limit, as the nofile edge lowers and restores
// it: also for a process of another user when this one lacks
// CAP_SYS_RESOURCE (it then acts as that process's owner).
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <set>

#include "support/run.h"
#include "sys/files.h"
#include "sys/process.h"

namespace sandmine::test {
namespace {

TEST(ProcessLimits, AnotherUsersOpenFileLimitIsLoweredAndRestored) {
  if (!is_root()) GTEST_SKIP() << "needs root (CI runs as root)";
  Background sleeper(
      {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/bin/sleep", "30"});
  const std::string proc = "/proc/" + std::to_string(sleeper.pid());
  ASSERT_TRUE(wait_until([&] {
    auto status = sys::read_file(proc + "/status");
    return status && status->find("Name:\tsleep") != std::string::npos;
  }));
  auto status = sys::read_file(proc + "/status");
  ASSERT_NE(status->find("Uid:\t65534\t65534\t65534\t65534"), std::string::npos) << *status;

  auto before = sys::nofile_limit(sleeper.pid());
  ASSERT_TRUE(before.ok()) << before.error().message;
  auto free = sys::lowest_free_descriptor(sleeper.pid());
  ASSERT_TRUE(free.ok()) << free.error().message;
  // What the process has open: stdin, stdout, stderr and whatever its
  // parent (the test runner's caller) let it inherit.
  std::set<unsigned> open;
  for (const auto& entry : std::filesystem::directory_iterator(proc + "/fd"))
    open.insert(static_cast<unsigned>(std::stoul(entry.path().filename().string())));
  unsigned expected = 0;
  while (open.count(expected)) ++expected;
  ASSERT_GE(expected, 3u);
  EXPECT_EQ(*free, expected);

  auto lowered = sys::set_nofile_limit(sleeper.pid(), {.soft = *free, .hard = before->hard});
  ASSERT_TRUE(lowered.ok()) << lowered.error().message;
  auto limits = sys::read_file(proc + "/limits");
  ASSERT_TRUE(limits.ok());
  EXPECT_TRUE(std::regex_search(*limits, std::regex("Max open files +" + std::to_string(expected) + " +" +
                                                    std::to_string(before->hard) + " ")))
      << *limits;
  EXPECT_EQ(sys::nofile_limit(sleeper.pid())->soft, expected);

  ASSERT_TRUE(sys::set_nofile_limit(sleeper.pid(), *before).ok());
  EXPECT_EQ(sys::nofile_limit(sleeper.pid())->soft, before->soft);
}

}  // namespace
}  // namespace sandmine::test
