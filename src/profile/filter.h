#pragma once
// Compiling a seccomp profile into the classic BPF program the kernel runs,
// with libseccomp, for `sandmine run` to install before exec.

#include <linux/filter.h>

#include <string_view>
#include <vector>

#include "profile/profile.h"
#include "util/result.h"

namespace sandmine::profile {

/// enforce: the profile as written. complain: every action that does not
/// allow becomes SCMP_ACT_LOG (complain_mode()).
enum class FilterMode { enforce, complain };

/// "enforce" or "complain".
std::string_view mode_name(FilterMode mode);

/// How to build the program.
struct FilterOptions {
  /// libseccomp's SCMP_FLTATR_CTL_OPTIMIZE: 1 a linear list of syscalls (its
  /// default, what runc builds), 2 a binary tree.
  int optimize = 1;
  /// Give calls through an architecture the profile does not list the default
  /// action (sandmine run). Off: libseccomp's SCMP_ACT_KILL_THREAD, as under
  /// runc, Docker and Podman, which never set the attribute.
  bool bad_arch_default = true;
};

/// The profile as a seccomp BPF program (what seccomp_export_bpf writes),
/// ready for seccomp(SECCOMP_SET_MODE_FILTER) with no further allocation.
/// It checks exactly the profile's architectures; a call through any other
/// (i386 `int $0x80` or an x32 number under an x86_64-only profile) gets the
/// default action. Fails on what libseccomp or the kernel cannot take
/// (SCMP_ACT_NOTIFY, more than 4096 instructions), saying which.
Result<std::vector<sock_filter>> compile_filter(const Profile& profile, FilterMode mode,
                                                const FilterOptions& options = {});

}  // namespace sandmine::profile
