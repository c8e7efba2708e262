#include <gtest/gtest.h>

#include "sys/cgroup.h"
#include "sys/tracefs.h"

namespace sandmine::sys {

// Lines as this development VM has them (hybrid: v1 controllers and v2 at unified).
constexpr const char* kHybrid =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

constexpr const char* kUnified =
    "22 1 0:21 / /proc rw,nosuid shared:12 - proc proc rw\n"
    "25 21 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"
    "40 21 0:12 / /sys/kernel/tracing rw,nosuid shared:18 - tracefs tracefs rw\n";

// Inside a container the cgroup2 mount can be a subtree: not the hierarchy's root.
constexpr const char* kContainer = "600 500 0:23 /docker/abc /sys/fs/cgroup ro,nosuid - cgroup2 cgroup rw\n";

TEST(Mountinfo, FindsCgroup2OnHybridAndUnifiedHosts) {
  EXPECT_EQ(find_cgroup2_mount(kHybrid), "/sys/fs/cgroup/unified");
  EXPECT_EQ(find_cgroup2_mount(kUnified), "/sys/fs/cgroup");
  EXPECT_EQ(find_cgroup2_mount(kContainer), std::nullopt);
  EXPECT_EQ(find_cgroup2_mount(""), std::nullopt);
}

TEST(Mountinfo, FindsCgroup1Hierarchies) {
  EXPECT_EQ(find_cgroup1_mounts(kHybrid), std::vector<std::string>{"/sys/fs/cgroup/cpu"});
  EXPECT_TRUE(find_cgroup1_mounts(kUnified).empty());
}

TEST(Mountinfo, FindsTracefs) {
  EXPECT_EQ(find_tracefs_mount(kUnified), "/sys/kernel/tracing");
  EXPECT_EQ(find_tracefs_mount(kHybrid), std::nullopt);
}

}  // namespace sandmine::sys
