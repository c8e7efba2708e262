#pragma once
// What the processes of a cgroup subtree have mapped: their executable and
// the files they mapped executable (procfs).

#include <string>
#include <vector>

#include "util/result.h"

namespace sandmine::sys {

/// One process, as procfs showed it at one moment.
struct ProcessImage {
  int pid = 0;
  std::string exe;                  ///< /proc/PID/exe, as the process's root names it
  std::vector<std::string> mapped;  ///< files mapped with execute permission (exe included), sorted, unique
};

/// The pids in the cgroup v2 directory dir and every group below it.
std::vector<int> pids_in_subtree(const std::string& dir);

/// The executable and executable file mappings of pid (/proc/PID/exe and
/// /proc/PID/maps). Paths of a process in another mount namespace are the
/// kernel's, relative to that namespace's root when the reader cannot reach
/// the file; strip_prefix (a host directory that is the process's root, e.g.
/// the image's rootfs) is taken off paths that start with it. Deleted files,
/// anonymous and special mappings are left out. An error when the process is
/// gone.
Result<ProcessImage> process_image(int pid, const std::string& strip_prefix = "");

}  // namespace sandmine::sys
