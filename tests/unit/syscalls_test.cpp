#include <gtest/gtest.h>

#include "syscalls/syscalls.h"

namespace sandmine::syscalls {

TEST(Syscalls, NamesComeFromLibseccompPerArchitecture) {
  EXPECT_EQ(name_of("x86_64", 39), "getpid");
  EXPECT_EQ(name_of("x86", 20), "getpid");  // the i386 number of getpid
  EXPECT_EQ(name_of("x86", 64), "getppid");
  EXPECT_EQ(name_of("x86_64", 110), "getppid");
  EXPECT_EQ(name_of("x32", 0x40000000 | 39), "getpid");  // x32 numbers carry the x32 bit
  EXPECT_EQ(name_of("x86_64", 100000), std::nullopt);
  EXPECT_EQ(name_of("x86_64", -1), std::nullopt);
  EXPECT_EQ(name_of("no-such-arch", 1), std::nullopt);
}

TEST(Syscalls, NumbersByName) {
  EXPECT_EQ(number_of("x86_64", "getppid"), 110);
  EXPECT_EQ(number_of("x86", "socketcall"), 102);
  EXPECT_EQ(number_of("x86_64", "socketcall"), std::nullopt);  // i386 only
  EXPECT_EQ(number_of("x86_64", "not_a_syscall"), std::nullopt);
}

TEST(Syscalls, RecorderAbisMapToHostArchitectures) {
  ASSERT_EQ(native_arch(), "x86_64") << "these expectations are for an x86_64 host";
  EXPECT_EQ(arch_for_abi(0), "x86_64");
  EXPECT_EQ(arch_for_abi(1), "x86");
  EXPECT_EQ(arch_for_abi(2), "x32");
  EXPECT_EQ(arch_for_abi(3), std::nullopt);
  EXPECT_EQ(seccomp_number(2, 39), 0x40000000 | 39);
  EXPECT_EQ(seccomp_number(1, 20), 20);
}

TEST(Syscalls, OciArchitectureSpelling) {
  EXPECT_EQ(oci_arch("x86_64"), "SCMP_ARCH_X86_64");
  EXPECT_EQ(oci_arch("x86"), "SCMP_ARCH_X86");
  EXPECT_EQ(*arch_from_oci("SCMP_ARCH_X32"), "x32");
  EXPECT_EQ(*arch_from_oci("SCMP_ARCH_AARCH64"), "aarch64");
  EXPECT_FALSE(arch_from_oci("SCMP_ARCH_VAX").ok());
  EXPECT_FALSE(arch_from_oci("x86_64").ok());
}

}  // namespace sandmine::syscalls
