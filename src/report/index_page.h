#pragma once
// index.html: several containers mined in one `sandmine mine`, one row each,
// linking to each container's report.html.

#include <optional>
#include <string>
#include <vector>

#include "report/html.h"

namespace sandmine::report {

/// One container of the index.
struct IndexRow {
  std::string name;
  std::string dir;     ///< its output folder, relative to the index (the link goes to dir/report.html)
  int exit_code = 0;   ///< of its mining run: 0, 1 (held-out check failed), 2 (error)
  std::string status;  ///< one line: "ok", or what went wrong
  std::optional<ReportInput> run;  ///< what it wrote; none when it failed before writing a trace
};

/// The page: syscalls allowed, share of Docker's default, mining time,
/// coverage, held-out violations, overhead ratio, status and a link per row.
std::string index_html(const std::vector<IndexRow>& rows);

}  // namespace sandmine::report
