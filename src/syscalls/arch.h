#pragma once
// What sandmine knows of each architecture, from one table
// (data/architectures.csv, embedded at build time): its names in libseccomp,
// Docker/OCI profiles, Go (Docker's includes/excludes.arches) and systemd,
// its audit architecture, and which recorder ABI it is on which host.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sandmine::syscalls {

/// Recorder ABI indexes (bpf/recorder.h enum sm_abi; the eBPF backend checks
/// they agree): a host's native ABI is 0, its others follow in the table.
inline constexpr int kAbiNative = 0;
inline constexpr int kAbiCount = 3;

/// One row of data/architectures.csv.
struct ArchInfo {
  std::string name;              ///< libseccomp's name: x86_64, x86, x32, aarch64, ...
  std::string oci;               ///< Docker/OCI profiles: SCMP_ARCH_X86_64
  std::string go;                ///< Go's GOARCH (Docker's includes.arches): amd64; empty when Go has no port
  std::string systemd;           ///< SystemCallArchitectures=: x86-64; empty: systemd spells it as libseccomp
  std::uint32_t audit_arch = 0;  ///< AUDIT_ARCH_* (audit records, PTRACE_GET_SYSCALL_INFO)
  std::string host;              ///< the native architecture of the kernels that run this ABI
  int abi = 0;                   ///< the recorder's ABI index on that host (bpf/recorder.h enum sm_abi)
  std::int64_t nr_bit = 0;       ///< a bit every number of this ABI carries (x32), 0 for none
};

/// The table, in its order.
const std::vector<ArchInfo>& architectures();

/// The row of a libseccomp architecture name; null when there is none.
const ArchInfo* find_arch(std::string_view name);

/// The architecture a call entered through, from its audit architecture and
/// number (x32 shares x86_64's audit architecture and sets a bit in the
/// number); null when the table has none.
const ArchInfo* arch_of_audit(std::uint32_t audit_arch, std::int64_t nr);

/// The architecture of recorder ABI abi on host (a libseccomp name); null
/// when that host has no such ABI.
const ArchInfo* arch_of_abi(std::string_view host, int abi);

}  // namespace sandmine::syscalls
