#pragma once
// Whether one call falls outside a profile: the rule `check`, `run` and the
// recorder's violation watch share. Pure: a profile and a call in, a verdict
// out (unit tests drive it with hand-written profiles).
//
// A call is judged by its (arch, nr) and, for a syscall the profile decides
// by its arguments, by the argument values the recorder kept at sys_exit
// (trace::Watch::arguments says which bits it keeps). The kernel's filter
// decided that call with the same rules on the same registers, so the
// verdict is the filter's: a call the rules allow that then fails on its own
// (EPERM from the kernel, not from the filter) is no violation.

#include <optional>
#include <string>

#include "profile/profile.h"
#include "trace/counts.h"
#include "trace/violations.h"

namespace sandmine::profile {

/// How a profile answers one call.
enum class Verdict {
  allowed,  ///< an action that lets it run (SCMP_ACT_ALLOW)
  /// A rule of the profile answers it with ENOSYS on purpose: the call "does
  /// not exist" and the program falls back (clone3, whose flags no filter can
  /// read, so glibc uses clone). Part of what the profile expects: no violation.
  answered,
  /// Anything else: the default action (no rule for it, or no rule matched),
  /// a rule that denies, logs, traps or kills, or an architecture the profile
  /// does not list.
  outside,
};

/// "allowed", "answered", "outside".
std::string to_string(Verdict verdict);

/// The verdict on a call whatever its arguments; empty when rules with
/// argument conditions decide it (then judge() needs the arguments).
std::optional<Verdict> judge_name(const Profile& profile, const trace::SyscallKey& key);

/// Whether a call named without its arguments counts as outside: its verdict
/// whatever the arguments is outside, or argument rules decide it but no
/// arguments were kept (a number the recorder cannot watch): named, never dropped.
bool outside_by_name(const Profile& profile, const trace::SyscallKey& key);

/// The verdict on one call given its arguments, as the filter compares them
/// (all 64 bits of each register; an argument the rules compare only under a
/// mask needs only those bits).
Verdict judge(const Profile& profile, const trace::SyscallKey& key, const trace::CallArgs& args);

/// What the recorder watches for a profile: every (arch, nr) of its
/// architectures whose verdict is allowed or answered whatever the arguments
/// goes to allowed (never named); every (arch, nr) that argument rules decide
/// goes to arguments, with, per argument index, the bits its rules compare
/// (the mask of SCMP_CMP_MASKED_EQ, all 64 bits for the other comparisons)
/// and the bits the argument table records for it (so the call can be named
/// as `sandmine trace` names it). Everything else is named by (arch, nr).
trace::Watch watch_for(const Profile& profile);

/// A call of a syscall that argument rules decide, as a person reads it:
/// the mined arguments as the argument table names them
/// ("socket(AF_NETLINK, SOCK_RAW, 0)", "clone(CLONE_NEWUSER|SIGCHLD)"),
/// then any other argument the profile compares ("write(arg0=0x1)").
/// args hold the bits the watch kept, masks are the watch's
/// (trace::Watch::arguments of key).
std::string describe_call(const trace::SyscallKey& key, const trace::CallArgs& args,
                          const trace::CallArgs& masks);

/// One argument of such a call: its index, its name ("domain", or "arg3"
/// when the argument table has none), the value the watch kept and how it
/// prints ("AF_NETLINK", hex when it has no name).
struct CallArgument {
  unsigned index = 0;
  std::string name;
  std::uint64_t value = 0;
  std::string text;
  bool operator==(const CallArgument&) const = default;
};

/// The arguments describe_call() shows, in index order.
std::vector<CallArgument> call_arguments(const trace::SyscallKey& key, const trace::CallArgs& args,
                                         const trace::CallArgs& masks);

}  // namespace sandmine::profile
