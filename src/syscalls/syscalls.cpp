#include "syscalls/syscalls.h"

#include <seccomp.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <memory>

namespace sandmine::syscalls {

namespace {

// libseccomp resolves names to tokens but not back; these are the names it
// accepts (seccomp_arch_resolve_name), tried in turn to name a token.
constexpr std::string_view kArchNames[] = {
    "x86",    "x86_64",    "x32",    "arm",      "aarch64",     "loongarch64", "m68k",  "mips",
    "mips64", "mips64n32", "mipsel", "mipsel64", "mipsel64n32", "ppc",         "ppc64", "ppc64le",
    "s390",   "s390x",     "parisc", "parisc64", "riscv64",     "sheb",        "sh",
};

constexpr std::int64_t kX32SyscallBit = 0x40000000;

std::uint32_t token_of(std::string_view arch) { return seccomp_arch_resolve_name(std::string(arch).c_str()); }

}  // namespace

std::string native_arch() {
  std::uint32_t native = seccomp_arch_native();
  for (auto name : kArchNames)
    if (token_of(name) == native) return std::string(name);
  return "unknown";
}

bool is_known_arch(std::string_view arch) { return token_of(arch) != 0; }

std::optional<std::string> arch_for_abi(int abi) {
  std::string native = native_arch();
  if (abi == 0) return native;
  if (native == "x86_64") {
    if (abi == 1) return "x86";
    if (abi == 2) return "x32";
  }
  if (native == "aarch64" && abi == 1) return "arm";
  return std::nullopt;
}

std::int64_t seccomp_number(int abi, std::int64_t nr) { return abi == 2 ? (nr | kX32SyscallBit) : nr; }

std::optional<int> abi_for_arch(std::string_view arch) {
  for (int abi = 0; abi < 3; ++abi)
    if (arch_for_abi(abi) == arch) return abi;
  return std::nullopt;
}

std::int64_t abi_number(int abi, std::int64_t nr) { return abi == 2 ? (nr & ~kX32SyscallBit) : nr; }

std::optional<std::string> name_of(std::string_view arch, std::int64_t nr) {
  std::uint32_t token = token_of(arch);
  if (token == 0 || nr < 0 || nr > INT32_MAX) return std::nullopt;
  std::unique_ptr<char, decltype(&std::free)> name(
      seccomp_syscall_resolve_num_arch(token, static_cast<int>(nr)), &std::free);
  if (!name) return std::nullopt;
  return std::string(name.get());
}

std::optional<std::int64_t> number_of(std::string_view arch, std::string_view name) {
  std::uint32_t token = token_of(arch);
  if (token == 0) return std::nullopt;
  int nr = seccomp_syscall_resolve_name_arch(token, std::string(name).c_str());
  if (nr < 0) return std::nullopt;  // __NR_SCMP_ERROR or a pseudo-syscall: not on this arch
  return nr;
}

std::string oci_arch(std::string_view arch) {
  std::string out = "SCMP_ARCH_";
  for (char c : arch) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

Result<std::string> arch_from_oci(std::string_view oci) {
  constexpr std::string_view prefix = "SCMP_ARCH_";
  if (oci.substr(0, prefix.size()) == prefix) {
    std::string name;
    for (char c : oci.substr(prefix.size()))
      name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (is_known_arch(name)) return name;
  }
  return Error{"unknown architecture " + std::string(oci) + " (expected e.g. SCMP_ARCH_X86_64)"};
}

}  // namespace sandmine::syscalls
