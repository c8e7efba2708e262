#pragma once
// System call names and numbers per architecture, from libseccomp.
// Architecture names are libseccomp's: x86_64, x86, x32, aarch64, arm, ...

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.h"

namespace sandmine::syscalls {

/// libseccomp's name of this host's native architecture ("x86_64").
std::string native_arch();

/// Whether libseccomp knows this architecture name.
bool is_known_arch(std::string_view arch);

/// The architecture for a recorder ABI index (bpf/recorder.h enum sm_abi) on
/// this host: native, compat (i386 on x86_64, arm on aarch64), x32. Empty when
/// the host has no such ABI.
std::optional<std::string> arch_for_abi(int abi);

/// The number as seccomp sees it for a recorder ABI and the number the
/// tracepoint gave with the x32 bit stripped (x32 numbers carry the bit).
std::int64_t seccomp_number(int abi, std::int64_t nr);

/// The recorder ABI index of an architecture on this host (the inverse of
/// arch_for_abi); empty when the host does not run it.
std::optional<int> abi_for_arch(std::string_view arch);

/// The number the recorder indexes for a seccomp number on an ABI (the
/// inverse of seccomp_number: the x32 bit stripped).
std::int64_t abi_number(int abi, std::int64_t nr);

/// The bit every syscall number of arch carries (x32: 0x40000000), 0 for none.
std::int64_t number_bit(std::string_view arch);

/// The syscall name for a number on an architecture, if libseccomp has one.
std::optional<std::string> name_of(std::string_view arch, std::int64_t nr);

/// The number of a syscall name on an architecture, if it exists there.
std::optional<std::int64_t> number_of(std::string_view arch, std::string_view name);

/// Whether a seccomp filter for arch can name this syscall: it exists there,
/// or is reached through a multiplexer (socketcall and ipc on x86).
bool filterable_on(std::string_view arch, std::string_view name);

/// Whether libseccomp knows the name on any architecture.
bool known_anywhere(std::string_view name);

/// The Docker/OCI spelling of an architecture: x86_64 -> SCMP_ARCH_X86_64.
std::string oci_arch(std::string_view arch);

/// The libseccomp name for a Docker/OCI architecture: SCMP_ARCH_X86 -> x86.
Result<std::string> arch_from_oci(std::string_view oci);

}  // namespace sandmine::syscalls
