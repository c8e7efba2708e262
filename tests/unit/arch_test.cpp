// The architecture table against the kernel's and libseccomp's own constants.
#include "syscalls/arch.h"

#include <gtest/gtest.h>
#include <linux/audit.h>
#include <seccomp.h>

#include "bpf/recorder.h"
#include "syscalls/syscalls.h"

namespace sandmine::syscalls {
namespace {

TEST(Architectures, AuditArchitecturesAreTheKernelsConstants) {
  const std::pair<const char*, std::uint32_t> kernel[] = {{"x86_64", AUDIT_ARCH_X86_64},
                                                          {"x86", AUDIT_ARCH_I386},
                                                          {"x32", AUDIT_ARCH_X86_64},
                                                          {"aarch64", AUDIT_ARCH_AARCH64},
                                                          {"arm", AUDIT_ARCH_ARM},
                                                          {"loongarch64", AUDIT_ARCH_LOONGARCH64},
                                                          {"m68k", AUDIT_ARCH_M68K},
                                                          {"mips", AUDIT_ARCH_MIPS},
                                                          {"mipsel", AUDIT_ARCH_MIPSEL},
                                                          {"mips64", AUDIT_ARCH_MIPS64},
                                                          {"mips64n32", AUDIT_ARCH_MIPS64N32},
                                                          {"mipsel64", AUDIT_ARCH_MIPSEL64},
                                                          {"mipsel64n32", AUDIT_ARCH_MIPSEL64N32},
                                                          {"ppc", AUDIT_ARCH_PPC},
                                                          {"ppc64", AUDIT_ARCH_PPC64},
                                                          {"ppc64le", AUDIT_ARCH_PPC64LE},
                                                          {"s390", AUDIT_ARCH_S390},
                                                          {"s390x", AUDIT_ARCH_S390X},
                                                          {"parisc", AUDIT_ARCH_PARISC},
                                                          {"parisc64", AUDIT_ARCH_PARISC64},
                                                          {"riscv64", AUDIT_ARCH_RISCV64},
                                                          {"sheb", AUDIT_ARCH_SH},
                                                          {"sh", AUDIT_ARCH_SHEL}};
  EXPECT_EQ(architectures().size(), std::size(kernel));
  for (const auto& [name, audit] : kernel) {
    const ArchInfo* a = find_arch(name);
    ASSERT_NE(a, nullptr) << name;
    EXPECT_EQ(a->audit_arch, audit) << name;
    // libseccomp knows every name (Debian 12's 2.5.4 predates loongarch64,
    // m68k and sh, which newer releases add).
    std::string n = name;
    if (n != "loongarch64" && n != "m68k" && n != "sh" && n != "sheb") {
      EXPECT_NE(seccomp_arch_resolve_name(name), 0u) << name;
    }
    EXPECT_EQ(a->oci.rfind("SCMP_ARCH_", 0), 0u) << name;
  }
}

TEST(Architectures, AuditRecordsAndRecorderAbisMapBack) {
  EXPECT_EQ(arch_of_audit(AUDIT_ARCH_X86_64, 39)->name, "x86_64");
  EXPECT_EQ(arch_of_audit(AUDIT_ARCH_X86_64, 0x40000000 | 39)->name, "x32");
  EXPECT_EQ(arch_of_audit(AUDIT_ARCH_I386, 20)->name, "x86");
  EXPECT_EQ(arch_of_audit(0x1234, 1), nullptr);
  // The recorder's ABI indexes (bpf/recorder.h) are the table's.
  EXPECT_EQ(arch_of_abi("x86_64", SM_ABI_NATIVE)->name, "x86_64");
  EXPECT_EQ(arch_of_abi("x86_64", SM_ABI_COMPAT)->name, "x86");
  EXPECT_EQ(arch_of_abi("x86_64", SM_ABI_X32)->name, "x32");
  EXPECT_EQ(arch_of_abi("aarch64", SM_ABI_COMPAT)->name, "arm");
  EXPECT_EQ(arch_of_abi("aarch64", SM_ABI_X32), nullptr);
  EXPECT_EQ(kAbiCount, SM_ABI_COUNT);
  EXPECT_EQ(seccomp_number(SM_ABI_X32, 39), 0x40000000 | 39);
  EXPECT_EQ(abi_number(SM_ABI_X32, 0x40000000 | 39), 39);
  EXPECT_EQ(oci_arch("x86"), "SCMP_ARCH_X86");
  EXPECT_EQ(arch_from_oci("SCMP_ARCH_MIPSEL64N32").value(), "mipsel64n32");
  EXPECT_FALSE(arch_from_oci("SCMP_ARCH_VAX").ok());
}

}  // namespace
}  // namespace sandmine::syscalls
