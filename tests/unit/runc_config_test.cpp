// The runc engine's config.json and what start() refuses, without running
// anything (no privilege needed, only the runc binary). A user above 2^31
// made std::stoi throw after the overlay was mounted; now start() refuses it
// before it makes anything, as runc would ("uids and gids must be in range
// 0-2147483647").
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "engine/runc.h"
#include "support/engines.h"

namespace sandmine::test {
namespace {

namespace fs = std::filesystem;

class RuncConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kRunc)) SKIP_OR_FAIL_IN_CI("runc is not installed");
  }
  TempDir state_;
};

TEST_F(RuncConfig, UidAndGidUpToRuncsLimit) {
  auto runc = engine::Runc::create(state_.path());
  ASSERT_TRUE(runc.ok()) << runc.error().message;
  auto doc = nlohmann::json::parse((*runc)->config_json(
      {.name = "big", .command = {"/bin/true"}, .user = "2147483647:7"}, state_.file("rootfs")));
  EXPECT_EQ(doc["process"]["user"]["uid"], 2147483647u);
  EXPECT_EQ(doc["process"]["user"]["gid"], 7u);
  auto one = nlohmann::json::parse(
      (*runc)->config_json({.name = "one", .command = {"/bin/true"}, .user = "101"}, state_.file("rootfs")));
  EXPECT_EQ(one["process"]["user"]["uid"], 101u);
  EXPECT_EQ(one["process"]["user"]["gid"], 101u);
}

TEST_F(RuncConfig, StartRefusesAUserItCannotTakeBeforeMakingAnything) {
  auto runc = engine::Runc::create(state_.path());
  ASSERT_TRUE(runc.ok()) << runc.error().message;
  for (const char* user : {"2147483648", "3000000000:0", "0:4294967295", "1:", ":1", "-1", "1:2:3", "root"}) {
    auto c =
        (*runc)->start({.name = "bad", .command = {"/bin/true"}, .user = user, .rootfs = "/nonexistent"});
    ASSERT_FALSE(c.ok()) << user;
    EXPECT_EQ(c.error().message, std::string("container user \"") + user +
                                     "\" is not \"uid\" or \"uid:gid\" in digits (0 to 2147483647)");
    EXPECT_TRUE(fs::is_empty(state_.path())) << user;
  }
}

}  // namespace
}  // namespace sandmine::test
