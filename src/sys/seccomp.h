#pragma once
// Raw seccomp calls that must run between fork and exec (no allocation).

namespace sandmine::sys {

/// Installs a seccomp filter that allows every syscall on the calling thread
/// (the recording filter). Async-signal-safe. Returns 0 or an errno value.
/// Needs CAP_SYS_ADMIN or no_new_privs.
int install_allow_all_filter() noexcept;

/// The seccomp mode of a thread from /proc/<pid>/task/<tid>/status
/// (0 none, 1 strict, 2 filter), or -1 when it cannot be read.
int thread_seccomp_mode(int pid, int tid);

}  // namespace sandmine::sys
