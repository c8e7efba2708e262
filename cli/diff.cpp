// sandmine diff: how one profile differs from another.
#include <fmt/core.h>
#include <fmt/ranges.h>

#include "command.h"
#include "profile/docker_json.h"
#include "profile/explain.h"

namespace sandmine::cli {

namespace {

struct DiffOptions {
  std::string a;
  std::string b;
  std::string fail_on;  ///< "added": exit 1 only when B allows more than A
};

int run(const DiffOptions& o) {
  auto a = must(profile::read_profile(o.a));
  auto b = must(profile::read_profile(o.b));
  for (const auto* p : {&a, &b})
    for (const auto& w : p->warnings) say("warning: " + w);
  auto d = profile::diff_profiles(a, b);
  if (d.empty()) return 0;
  // With --fail-on added, removals and narrower rules are news, not failures.
  const int differ = o.fail_on == "added" && !d.allows_more() ? 0 : kExitFailed;

  fmt::print("--- {}\n+++ {}\n", o.a, o.b);
  if (d.default_action)
    fmt::print("default action: {} -> {}\n", profile::describe(d.default_action->first),
               profile::describe(d.default_action->second));
  if (!d.arches_added.empty()) fmt::print("architectures added: {}\n", fmt::join(d.arches_added, ", "));
  if (!d.arches_removed.empty()) fmt::print("architectures removed: {}\n", fmt::join(d.arches_removed, ", "));
  for (const auto& [arch, c] : d.arches) {
    fmt::print("{}: {} added, {} removed{}\n", arch, c.added.size(), c.removed.size(),
               c.changed.empty() ? "" : fmt::format(", {} with other conditions", c.changed.size()));
    for (const auto& n : c.added) fmt::print("+ {}\n", n);
    for (const auto& n : c.removed) fmt::print("- {}\n", n);
    for (const auto& n : c.changed) fmt::print("~ {}\n", n);
  }
  return differ;
}

}  // namespace

void add_diff(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<DiffOptions>();
  auto* cmd = app.add_subcommand("diff", "What profile B allows that A does not, and the other way round");
  cmd->add_option("a", o->a, "The old profile (Docker/OCI JSON)")->required();
  cmd->add_option("b", o->b, "The new profile (Docker/OCI JSON)")->required();
  cmd->add_option("--fail-on", o->fail_on,
                  "added: exit 1 only when B lets through something A does not (a name added, a name\n"
                  "under other argument conditions, a default action that lets calls run); removals\n"
                  "alone exit 0. For CI: fail on profile drift after an image upgrade")
      ->check(CLI::IsMember({"added"}));
  cmd->footer(
      "Compares the profiles as they apply on this host: per architecture either lists, the syscalls\n"
      "B lets through that A does not (+), the other way round (-), and those both let through under\n"
      "different argument conditions (~); then changes of the default action and of the architectures\n"
      "(an architecture a profile does not list lets nothing through).\n\n"
      "Exit status, as diff(1): 0 the profiles allow the same, 1 they differ, 2 bad input.\n"
      "With --fail-on added: 1 only when B allows more than A (the differences are printed either way).\n\n"
      "EXAMPLES:\n"
      "  sandmine diff old/profile.json new/profile.json\n"
      "  sandmine diff committed/profile.json out/api/profile.json --fail-on added   # in CI\n"
      "  sandmine diff /usr/share/containers/seccomp.json nginx-profile.json | grep -c '^- '");
  cmd->callback([o, &exit_code] { exit_code = run(*o); });
}

}  // namespace sandmine::cli
