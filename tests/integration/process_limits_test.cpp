// Another process's open-file limit, as the nofile edge lowers and restores
// it: also for a process of another user when this one lacks
// CAP_SYS_RESOURCE (it then acts as that process's owner).
#include <gtest/gtest.h>

#include <regex>

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
  EXPECT_EQ(*free, 3u);  // stdin, stdout and stderr are open

  auto lowered = sys::set_nofile_limit(sleeper.pid(), {.soft = *free, .hard = before->hard});
  ASSERT_TRUE(lowered.ok()) << lowered.error().message;
  auto limits = sys::read_file(proc + "/limits");
  ASSERT_TRUE(limits.ok());
  EXPECT_TRUE(
      std::regex_search(*limits, std::regex("Max open files +3 +" + std::to_string(before->hard) + " ")))
      << *limits;
  EXPECT_EQ(sys::nofile_limit(sleeper.pid())->soft, 3u);

  ASSERT_TRUE(sys::set_nofile_limit(sleeper.pid(), *before).ok());
  EXPECT_EQ(sys::nofile_limit(sleeper.pid())->soft, before->soft);
}

}  // namespace
}  // namespace sandmine::test
