#include "explore/pipeline.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>

#include "image/image.h"
#include "profile/timing.h"
#include "sys/interrupt.h"

namespace sandmine::explore {

Stages real_stages(const spec::Spec& spec, const PipelineOptions& options) {
  return {.mine = [&spec, &options] { return mine(spec, options.mine); },
          .check =
              [&spec, &options](const profile::Profile& p) {
                return check(spec, p,
                             {.engine = options.mine.engine,
                              .engine_options = options.mine.engine_options,
                              .mode = options.check_mode,
                              .work_dir = options.mine.work_dir,
                              .cache_dir = options.mine.cache_dir,
                              .progress = options.mine.progress,
                              .recorder = options.mine.recorder});
              },
          .reach = [&options](const trace::Trace& t) -> Result<reach::ReachReport> {
            const std::string cache =
                options.mine.cache_dir.empty() ? image::kDefaultCacheDir : options.mine.cache_dir;
            const std::string rootfs = image::rootfs_in_cache(cache, t.target.image);
            std::error_code ec;
            if (t.target.image.empty() || !std::filesystem::is_directory(rootfs, ec))
              return Error{"the image's root file system is not in the image cache " + cache, ENOENT};
            return reach::analyse(t, rootfs,
                                  {.cache_dir = options.reach_cache, .progress = options.mine.progress});
          }};
}

Result<PipelineResult> mine_and_check(const spec::Spec& spec, const PipelineOptions& options,
                                      const Stages& stages) {
  auto say = [&](const std::string& line) {
    if (options.mine.progress) options.mine.progress(line);
  };
  auto mined = stages.mine();
  if (!mined) return mined.error();
  PipelineResult r;
  r.mined = std::move(*mined);
  for (const auto& line : trace::lost_values_report(r.mined.trace)) say(line);
  if (r.mined.failed) return r;

  r.profile = profile::from_traces({r.mined.trace}, r.warnings, {.args = options.args});
  r.profile->source = options.profile_path;
  r.profile->mined_from = r.mined.mined_from;
  for (const auto& w : r.warnings) say("warning: " + w);
  r.timing_added = profile::add_timing_dependent(*r.profile, true, options.args);
  if (options.allow_reachable_safe) {
    auto report = stages.reach ? stages.reach(r.mined.trace)
                               : Result<reach::ReachReport>(Error{"no static analysis stage", EINVAL});
    if (!report) {
      r.reach_error = "--allow reachable-safe: " + report.error().message;
      return r;
    }
    reach::NameSets allowed;
    for (const auto& arch : r.profile->arches) allowed[arch] = profile::permitted_names(*r.profile);
    std::set<std::string> names;
    for (const auto& [arch, set] : reach::reachable_safe(*report, allowed))
      names.insert(set.begin(), set.end());
    r.reachable_added = profile::allow(*r.profile, names, kReachableSafeComment);
    say(fmt::format(
        "--allow reachable-safe: allowing {} more, reachable but never seen ({:.1f} s of static analysis)",
        r.reachable_added.size(), report->seconds));
    r.reach = std::move(*report);
  }
  if (spec.validate.empty() || sys::interrupt_signal()) return r;

  // The held-out check: the validate steps under the mined profile, every
  // call outside it named.
  auto check = [&]() -> bool {
    say(fmt::format("held-out check: {} validate steps under the profile with {} ({} mode)",
                    spec.validate.size(), options.mine.engine, to_string(options.check_mode)));
    auto checked = stages.check(*r.profile);
    if (!checked) {
      r.check_error = checked.error().message;
      return false;
    }
    r.held_out = std::move(*checked);
    return true;
  };
  if (!check()) return r;
  if (!options.include_validate || r.held_out->violations.empty() || sys::interrupt_signal()) return r;
  // Folded in on request only, and said so in the profile itself.
  std::set<std::string> names;
  for (const auto& v : r.held_out->violations) names.insert(v.name);
  r.folded = profile::allow(*r.profile, names, kIncludeValidateComment);
  say(fmt::format("--include-validate: allowing {} more ({}), then checking again", r.folded.size(),
                  fmt::join(r.folded, ", ")));
  check();
  return r;
}

int exit_code(const PipelineResult& result, bool interrupted) {
  if (interrupted || result.mined.failed || !result.check_error.empty() || !result.reach_error.empty())
    return 2;
  if (result.held_out && !result.held_out->passed()) return 1;
  return 0;
}

}  // namespace sandmine::explore
