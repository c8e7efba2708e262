// sandmine report: write report.html again from what `sandmine mine` left in its folder.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "command.h"
#include "report/html.h"
#include "report/index_page.h"
#include "sys/files.h"

namespace sandmine::cli {

namespace {

namespace fs = std::filesystem;

// The status a finished run's files tell: the trace is partial, the check failed, or ok.
void status_from_files(report::IndexRow& row) {
  const auto& in = *row.run;
  if (in.trace.partial) {
    row.exit_code = kExitBadInput;
    row.status = "mining did not complete: " + in.trace.partial_reason;
  } else if (auto h = report::headline(in); h.check_passed && !*h.check_passed) {
    row.exit_code = kExitFailed;
    row.status = h.violations && *h.violations > 0
                     ? fmt::format("held-out check failed: {} syscalls outside the profile", *h.violations)
                     : "held-out check failed: a validate step failed";
  } else {
    row.status = "ok";
  }
}

void write_report(const std::string& dir, const report::ReportInput& in) {
  auto out = must(sys::OutputFile::create(dir + "/report.html"));
  must(out.commit(report::report_html(in)));
  say("wrote " + dir + "/report.html");
}

int run(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw UserError(dir + ": not a directory (give the output folder of sandmine mine)");
  if (fs::exists(dir + "/trace.json", ec)) {
    write_report(dir, must(report::read_report_input(dir)));
    return 0;
  }
  // The folder of a several-spec mine: a report per container, then the index.
  std::vector<std::string> subdirs;
  // The error_code overloads: an entry that cannot be looked at (a symlink
  // loop) is not a run's folder, and must not throw.
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (std::error_code e; entry.is_directory(e) && fs::exists(entry.path() / "trace.json", e))
      subdirs.push_back(entry.path().filename().string());
  if (subdirs.empty())
    throw UserError(dir +
                    ": no trace.json in it or in its subfolders (give the output folder of sandmine mine)");
  std::sort(subdirs.begin(), subdirs.end());
  std::vector<report::IndexRow> rows;
  for (const auto& sub : subdirs) {
    const std::string sub_dir = (fs::path(dir) / sub).string();
    report::IndexRow row{.name = sub, .dir = sub};
    row.run = must(report::read_report_input(sub_dir));
    if (auto name = report::report_name(*row.run); !name.empty()) row.name = name;
    write_report(sub_dir, *row.run);
    status_from_files(row);
    rows.push_back(std::move(row));
  }
  auto out = must(sys::OutputFile::create(dir + "/index.html"));
  must(out.commit(report::index_html(rows)));
  say(fmt::format("wrote {}/index.html ({} containers)", dir, rows.size()));
  return 0;
}

}  // namespace

void add_report(CLI::App& app, int& exit_code) {
  auto dir = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("report", "Write report.html again from a mining run's output folder");
  cmd->add_option("dir", *dir, "The output folder of sandmine mine")->required();
  cmd->footer(
      "Reads DIR/trace.json and, when present, DIR/profile.json, check.json (the held-out check) and\n"
      "bench.json (the overhead measurement), and writes DIR/report.html: one self-contained file with\n"
      "inline SVG charts (discovery curve, new syscalls per step, the profile next to Docker's default,\n"
      "overhead), the held-out violations, the coverage estimate and the kernel CVEs the profile leaves\n"
      "open. A folder of several containers (sandmine mine A.yaml B.yaml -o DIR) gets each report and\n"
      "DIR/index.html again.\n\n"
      "EXAMPLES:\n"
      "  sandmine report out/httpd && chromium out/httpd/report.html\n"
      "  sandmine report out          # after sandmine mine examples/*.yaml -o out");
  cmd->callback([dir, &exit_code] { exit_code = run(*dir); });
}

}  // namespace sandmine::cli
