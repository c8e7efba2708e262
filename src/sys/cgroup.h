#pragma once
// cgroup v2: find the mount, make and remove groups, move processes, read ids.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sys/fd.h"
#include "util/result.h"

namespace sandmine::sys {

/// The cgroup v2 mount point named in a /proc/self/mountinfo text, if any.
std::optional<std::string> find_cgroup2_mount(std::string_view mountinfo);

/// The mount points of cgroup v1 hierarchies (hybrid hosts) in a mountinfo text.
std::vector<std::string> find_cgroup1_mounts(std::string_view mountinfo);

/// The cgroup v2 mount point of this host (from /proc/self/mountinfo).
Result<std::string> cgroup2_mount();

/// The kernel's 64-bit id of the cgroup v2 directory at path (what
/// bpf_get_current_ancestor_cgroup_id returns for it).
Result<std::uint64_t> cgroup_id(const std::string& path);

/// Removes groups named <prefix><pid> directly under parent whose process is
/// gone (a sandmine killed with SIGKILL cannot clean up after itself) and
/// that are empty. Returns the paths of stale groups still holding processes,
/// which are left alone.
std::vector<std::string> remove_stale_groups(const std::string& parent, const std::string& prefix);

/// Freezes (or thaws) every process in the cgroup v2 directory dir and below
/// (cgroup.freeze), and waits up to timeout_ms until cgroup.events says so.
Status freeze_cgroup(const std::string& dir, bool frozen, int timeout_ms = 5000);

/// The CPU time used by the processes in dir and below so far (usage_usec
/// of cpu.stat, which cgroup v2 keeps in every group, controllers or not).
Result<std::uint64_t> cgroup_cpu_usec(const std::string& dir);

/// The ids of every thread in dir and below (cgroup.threads of each group).
Result<std::vector<pid_t>> cgroup_threads(const std::string& dir);

/// The ids of every process in dir and below (cgroup.procs of each group).
Result<std::vector<pid_t>> cgroup_processes(const std::string& dir);

/// A cgroup v2 group this process created. Destruction kills whatever is
/// still inside, waits for it to empty and removes it with all its children.
class Cgroup {
 public:
  /// Creates <parent>/<name>; parent is an absolute directory in the v2 tree.
  static Result<Cgroup> create(const std::string& parent, const std::string& name);

  Cgroup(Cgroup&& o) noexcept;
  Cgroup& operator=(Cgroup&& o) noexcept;
  Cgroup(const Cgroup&) = delete;
  Cgroup& operator=(const Cgroup&) = delete;
  ~Cgroup();

  const std::string& path() const { return path_; }
  std::uint64_t id() const { return id_; }
  /// Depth below the v2 root: the root is 0, /a is 1, /a/b is 2.
  int level() const { return level_; }
  /// This group's path relative to the v2 mount, starting with "/".
  std::string relative_path() const;

  /// cgroup.procs opened for writing, close-on-exec: a child writes "0" to it
  /// to move itself in.
  Result<UniqueFd> open_procs() const;
  /// Whether any process is in this group or below (cgroup.events).
  Result<bool> populated() const;
  /// CPU time used by this group and below, in microseconds (cpu.stat's
  /// usage_usec, which cgroup v2 keeps without any controller enabled).
  Result<std::uint64_t> cpu_usage_usec() const;
  /// Kills every process in this group and below (cgroup.kill).
  Status kill() const;
  /// Kills what is left, waits up to timeout_ms for the group to empty and
  /// removes it and its children, and the same path in every cgroup v1
  /// hierarchy (container engines create their groups there too on hybrid
  /// hosts). Idempotent.
  Status remove(int timeout_ms = 5000);

 private:
  Cgroup(std::string path, std::string mount, std::uint64_t id, int level)
      : path_(std::move(path)), mount_(std::move(mount)), id_(id), level_(level) {}

  std::string path_;
  std::string mount_;
  std::uint64_t id_ = 0;
  int level_ = 0;
};

}  // namespace sandmine::sys
