#include "syscalls/syscalls.h"

#include "syscalls/arch.h"

#include <seccomp.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

namespace sandmine::syscalls {

namespace {

std::uint32_t token_of(std::string_view arch) { return seccomp_arch_resolve_name(std::string(arch).c_str()); }

}  // namespace

std::string native_arch() {
  // libseccomp resolves names to tokens but not back: try the table's names.
  std::uint32_t native = seccomp_arch_native();
  for (const auto& a : architectures())
    if (token_of(a.name) == native) return a.name;
  return "unknown";
}

bool is_known_arch(std::string_view arch) { return token_of(arch) != 0; }

std::optional<std::string> arch_for_abi(int abi) {
  if (const auto* a = arch_of_abi(native_arch(), abi)) return a->name;
  return std::nullopt;
}

namespace {

std::int64_t nr_bit_of_abi(int abi) {
  const auto* a = arch_of_abi(native_arch(), abi);
  return a ? a->nr_bit : 0;
}

}  // namespace

std::int64_t seccomp_number(int abi, std::int64_t nr) { return nr | nr_bit_of_abi(abi); }

std::optional<int> abi_for_arch(std::string_view arch) {
  const auto* a = find_arch(arch);
  if (!a || a->host != native_arch()) return std::nullopt;
  return a->abi;
}

std::int64_t abi_number(int abi, std::int64_t nr) { return nr & ~nr_bit_of_abi(abi); }

std::int64_t number_bit(std::string_view arch) {
  const auto* a = find_arch(arch);
  return a ? a->nr_bit : 0;
}

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

bool filterable_on(std::string_view arch, std::string_view name) {
  return seccomp_syscall_resolve_name_rewrite(token_of(arch), std::string(name).c_str()) >= 0;
}

bool known_anywhere(std::string_view name) {
  // libseccomp gives names of other architectures' syscalls a negative
  // pseudo number, unknown ones __NR_SCMP_ERROR.
  return seccomp_syscall_resolve_name(std::string(name).c_str()) != __NR_SCMP_ERROR;
}

std::string oci_arch(std::string_view arch) {
  const auto* a = find_arch(arch);
  return a ? a->oci : "SCMP_ARCH_" + std::string(arch);
}

Result<std::string> arch_from_oci(std::string_view oci) {
  for (const auto& a : architectures())
    if (a.oci == oci && is_known_arch(a.name)) return a.name;
  return Error{"unknown architecture " + std::string(oci) + " (expected e.g. SCMP_ARCH_X86_64)"};
}

}  // namespace sandmine::syscalls
