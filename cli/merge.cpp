// sandmine merge: the union of allow-list profiles.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "command.h"
#include "profile/docker_json.h"
#include "sys/files.h"

namespace sandmine::cli {

namespace {

struct MergeOptions {
  std::vector<std::string> profiles;
  std::string output;
};

int run(const MergeOptions& o) {
  if (o.profiles.size() < 2)
    throw UserError(fmt::format("merge needs at least two profiles, got {}", o.profiles.size()));
  std::optional<sys::OutputFile> out;
  if (!o.output.empty()) out.emplace(must(sys::OutputFile::create(o.output)));
  std::vector<profile::Profile> profiles;
  for (const auto& path : o.profiles) profiles.push_back(must(profile::read_profile(path)));
  auto merged = profile::union_of(profiles);
  if (!merged) throw UserError("cannot merge: " + merged.error().message);
  for (const auto& p : profiles)
    for (const auto& w : p.warnings) say("warning: " + w);
  std::string text = profile::to_docker_json(*merged).dump(2) + "\n";
  if (out) {
    must(out->commit(text));
    say(fmt::format("wrote {}: {} syscalls allowed on {}", o.output, profile::permitted_names(*merged).size(),
                    fmt::join(merged->arches, ", ")));
  } else {
    fmt::print("{}", text);
  }
  return 0;
}

}  // namespace

void add_merge(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<MergeOptions>();
  auto* cmd = app.add_subcommand("merge", "One profile that allows what any of the given profiles allows");
  cmd->add_option("profiles", o->profiles, "Two or more allow-list profiles (Docker/OCI JSON)")
      ->required()
      ->expected(-1);
  cmd->add_option("-o,--output", o->output, "Write the profile here (default: standard output)");
  cmd->footer(
      "Takes profiles as sandmine profile and mine write them: a default action that denies, and rules\n"
      "that allow, with or without argument conditions. The merged profile lists every architecture\n"
      "of any of them and allows a name whatever its arguments when any of them does; otherwise it\n"
      "keeps every argument rule of each. Rules with other actions are refused, and the profiles must\n"
      "deny alike (the same defaultAction and errno).\n\n"
      "EXAMPLES:\n"
      "  sandmine merge nginx/profile.json nginx-reload/profile.json -o nginx-all.json\n"
      "  sandmine merge a.json b.json c.json > union.json");
  cmd->callback([o, &exit_code] { exit_code = run(*o); });
}

}  // namespace sandmine::cli
