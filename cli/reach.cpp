// sandmine reach: the syscalls the binaries a container ran can reach, next to what mining saw.
#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "command.h"
#include "image/image.h"
#include "reach/analysis.h"
#include "reach/reach_json.h"
#include "report/html.h"
#include "report/reach_section.h"
#include "sys/files.h"
#include "trace/trace.h"

namespace sandmine::cli {

namespace {

namespace fs = std::filesystem;

struct ReachCliOptions {
  std::string dir;
  std::string rootfs;
  std::string image_cache = image::kDefaultCacheDir;
  std::string reach_cache = reach::kDefaultReachCacheDir;
  bool no_cache = false;
};

// The root file system the trace's binaries ran from: --rootfs, the image
// cache entry of the trace's image, or the host's root for a traced command.
std::string rootfs_for(const trace::Trace& t, const ReachCliOptions& o) {
  if (!o.rootfs.empty()) return o.rootfs;
  if (t.target.kind == "command") return "/";
  if (t.target.image.empty())
    throw UserError(o.dir + "/trace.json names no image: give its root file system with --rootfs PATH");
  std::string entry = image::rootfs_in_cache(o.image_cache, t.target.image);
  std::error_code ec;
  if (!fs::is_directory(entry, ec))
    throw UserError("image " + t.target.image.substr(0, 12) + " of " + o.dir +
                    "/trace.json is not in the image cache " + o.image_cache +
                    " (mine it again, or give its root file system with --rootfs PATH)");
  return entry;
}

int run(const ReachCliOptions& o) {
  std::error_code ec;
  if (!fs::is_directory(o.dir, ec))
    throw UserError(o.dir + ": not a directory (give the output folder of sandmine mine)");
  auto t = must(trace::read_trace(o.dir + "/trace.json"));
  if (t.binaries.empty())
    throw UserError(o.dir +
                    "/trace.json lists no binaries (recorded by an older sandmine, or by the ptrace "
                    "backend): mine or trace it again with the eBPF recorder");
  std::string rootfs = rootfs_for(t, o);
  reach::ReachOptions ro{.cache_dir = o.no_cache ? "" : o.reach_cache,
                         .progress = [](const std::string& line) { say(line); }};
  auto report = must(reach::analyse(t, rootfs, ro));
  auto doc = reach::to_json(report, t.target.image);
  auto out = must(sys::OutputFile::create(o.dir + "/reach.json"));
  must(out.commit(doc.dump(2) + "\n"));
  say("wrote " + o.dir + "/reach.json");
  if (fs::exists(o.dir + "/summary.md", ec)) {
    auto summary = must(sys::read_file(o.dir + "/summary.md"));
    auto sout = must(sys::OutputFile::create(o.dir + "/summary.md"));
    must(sout.commit(report::with_reach_section(summary, doc)));
    say("added the static reachability section to " + o.dir + "/summary.md");
  }
  if (fs::exists(o.dir + "/report.html", ec)) {
    auto hout = must(sys::OutputFile::create(o.dir + "/report.html"));
    must(hout.commit(report::report_html(must(report::read_report_input(o.dir)))));
    say("wrote " + o.dir + "/report.html");
  }
  const auto& c = doc["counts"];
  say(fmt::format(
      "{} binaries: {} syscalls reachable, {} seen, {} reachable but unseen ({} risky or on a CVE path), "
      "{} safe to add; {:.1f} s (C library table {})",
      report.binaries.size(), c["reachable"].get<std::size_t>(), c["seen"].get<std::size_t>(),
      c["unseen"].get<std::size_t>(), c["unseen_risky"].get<std::size_t>(),
      c["reachable_safe"].get<std::size_t>(), report.seconds,
      report.libc_path.empty() ? "none"
      : report.libc_cached     ? "cached"
                               : "built"));
  if (c["fatal_path"].get<std::size_t>() || c["cancellation"].get<std::size_t>())
    say(fmt::format(
        "not counted as reachable: {} only on paths that end the process (fatal_path), {} only on "
        "thread-cancellation paths of programs that cannot cancel (cancellation)",
        c["fatal_path"].get<std::size_t>(), c["cancellation"].get<std::size_t>()));
  for (const auto& b : report.binaries)
    if (!b.error.empty()) say("not analysed: " + b.path + ": " + b.error);
  if (!report.seen_unreachable.empty()) {
    std::string names;
    for (const auto& [arch, set] : report.seen_unreachable)
      for (const auto& n : set) names += (names.empty() ? "" : ", ") + arch + ":" + n;
    say("seen but unreachable (a gap in the static analysis, please report it): " + names);
    return kExitFailed;
  }
  return 0;
}

}  // namespace

void add_reach(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<ReachCliOptions>();
  auto* cmd = app.add_subcommand(
      "reach",
      "The syscalls the binaries a container ran can reach (static analysis), next to what mining saw");
  cmd->add_option("dir", o->dir,
                  "The output folder of sandmine mine (or of sandmine trace -o DIR/trace.json)")
      ->required();
  cmd->add_option("--rootfs", o->rootfs,
                  "The root file system the binaries ran from (default: the image cache entry of the trace's "
                  "image; / for a traced command)");
  cmd->add_option("--image-cache", o->image_cache, "The image cache mine used")->capture_default_str();
  cmd->add_option("--cache", o->reach_cache, "Where C library tables are cached by build id")
      ->capture_default_str();
  cmd->add_flag("--no-cache", o->no_cache, "Analyse the C library again and cache nothing");
  cmd->footer(
      "Reads DIR/trace.json (its \"binaries\": every file the container executed and the libraries its\n"
      "processes mapped) and the image's root file system, and writes DIR/reach.json (docs/formats.md):\n"
      "for each binary, the syscalls its code can reach (its own syscall instructions, its dynamic\n"
      "loader's, its DT_NEEDED libraries' and the C library functions any of them import, through a table\n"
      "of the image's own libc cached by build id), which of them mining saw, and each reachable one it\n"
      "did not see with its risk category (data/risky_syscalls.csv), kernel CVEs (data/cves.csv) and\n"
      "where the code that reaches it starts (\"via\": \"sendfile() from libssl.so.3\", the most specific\n"
      "first): the code a step would have to drive to see whether the container needs the call.\n"
      "Indirect calls, dlopen and JIT make a result an estimate: each binary says why. DIR/summary.md and\n"
      "DIR/report.html get a static reachability section when they exist. Method: docs/reach.md.\n\n"
      "Exit codes: 0 done; 1 a syscall was seen that no binary can reach (a gap in the analysis, named on\n"
      "stderr); 2 bad input (no trace, no binaries in it, image not cached).\n\n"
      "EXAMPLES:\n"
      "  sudo sandmine mine examples/nginx.yaml -o out/nginx && sandmine reach out/nginx\n"
      "  jq '.binaries[] | {path, counts}' out/nginx/reach.json\n"
      "  jq -r '.unseen[] | select(.risk != null) | .name' out/nginx/reach.json\n"
      "  jq -r '.unseen[] | \"\\(.name): \\(.via[0])\"' out/nginx/reach.json   # where each starts\n"
      "  sudo sandmine trace -o t/trace.json -- /usr/bin/ls && sandmine reach t      # host binaries: "
      "--rootfs /\n"
      "  sandmine reach out/redis --rootfs /srv/redis-rootfs");
  cmd->callback([o, &exit_code] { exit_code = run(*o); });
}

}  // namespace sandmine::cli
