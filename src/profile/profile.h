#pragma once
// The one seccomp profile model. Every reader produces it (the Docker/OCI
// JSON, traces), small named passes change it (complain mode, the
// timing-dependent additions, folding calls in, union), and every writer
// (Docker/OCI JSON, which is also runc's linux.seccomp; Kubernetes; systemd),
// every engine, `sandmine run`'s filter and the held-out check's notion of
// "allowed" take it from here.
//
// A profile says, per syscall name, what a call gets: one action whatever
// its arguments, or the first argument rule that matches (else the default
// action). That is what libseccomp compiles for one name: its first
// unconditional rule wins over every other, and without one its conditional
// rules decide.

#include <array>
#include <cerrno>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "trace/counts.h"
#include "util/result.h"

namespace sandmine::profile {

/// A seccomp action as profiles spell it: SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, ...
/// errno_ret is what SCMP_ACT_ERRNO and SCMP_ACT_TRACE return (0 otherwise).
struct Action {
  std::string name;
  int errno_ret = 0;
  bool operator==(const Action&) const = default;
  bool allows() const { return name == "SCMP_ACT_ALLOW"; }
  /// Whether errno_ret means anything (SCMP_ACT_ERRNO, SCMP_ACT_TRACE).
  bool takes_errno() const { return name == "SCMP_ACT_ERRNO" || name == "SCMP_ACT_TRACE"; }
  /// SCMP_ACT_ERRNO with ENOSYS: the call "does not exist". A rule that says
  /// so on purpose (clone3, whose flags no filter can read) makes the program
  /// fall back (glibc to clone): complain mode keeps it, and the held-out
  /// check does not name such calls (profile/judge.h).
  bool answers_missing() const { return name == "SCMP_ACT_ERRNO" && errno_ret == ENOSYS; }
  static Action allow() { return {"SCMP_ACT_ALLOW", 0}; }
  static Action error(int errnum) { return {"SCMP_ACT_ERRNO", errnum}; }
  static Action log() { return {"SCMP_ACT_LOG", 0}; }
};

/// "SCMP_ACT_ERRNO (EPERM)", "SCMP_ACT_ALLOW".
std::string describe(const Action& action);

/// One argument condition: args[index] op value; SCMP_CMP_MASKED_EQ is
/// (args[index] & value) == value_two.
struct ArgCondition {
  unsigned index = 0;
  std::uint64_t value = 0;
  std::uint64_t value_two = 0;
  std::string op;  ///< SCMP_CMP_NE, _LT, _LE, _EQ, _GE, _GT, _MASKED_EQ
  bool operator==(const ArgCondition&) const = default;
  /// Whether a call's argument values satisfy it, as the kernel compares
  /// them: all 64 bits of the register.
  bool holds(const std::array<std::uint64_t, 6>& args) const;
};

/// One alternative of a syscall: its action when every condition holds.
struct ArgRule {
  Action action;
  std::vector<ArgCondition> args;  ///< never empty
  std::string comment;
  std::string field;  ///< where it was read ("syscalls[3]"), for messages
  bool operator==(const ArgRule& o) const { return action == o.action && args == o.args; }
};

/// What a profile says about one syscall name.
struct SyscallPolicy {
  /// Set: every call gets it, whatever its arguments (rules are then empty).
  std::optional<Action> action;
  /// Without action: the first rule whose conditions hold decides, none: the
  /// profile's default action.
  std::vector<ArgRule> rules;
  /// Why the name is there when that is not plain mining (the timing-dependent
  /// additions, calls folded in from the held-out check, ...); written as the
  /// comment of the rule that carries it.
  std::string comment;
  std::string field;  ///< where it was read, for messages
};

/// What a profile was mined from: the container's image, command,
/// environment and the configuration files it read at start. A profile holds
/// for that configuration; `sandmine check` warns when the container it
/// starts differs (docs/formats.md#what-a-profile-was-mined-from). Written in
/// the profile's top-level "sandmine" object, which Docker, Podman and runc
/// ignore.
struct MinedFrom {
  std::string name;    ///< the spec's name, or the container's (sandmine record)
  std::string engine;  ///< runc, docker, podman
  /// The image: its config digest ("sha256:...") or, for an image built from
  /// a recipe, the recipe's hash (64 hex digits, as trace.json names it).
  std::string image;
  std::vector<std::string> command;  ///< the main process's argv
  /// The container's environment: each variable's name and the SHA-256 of its
  /// value ("sha256:..."): profiles are committed and published, values may
  /// be secrets.
  std::map<std::string, std::string> env;
  /// The configuration files: path inside the container -> "sha256:..." of
  /// the content it had when the container started.
  std::map<std::string, std::string> config_files;
  /// Why config_files may be incomplete (one line); empty when it is not.
  std::string config_files_note;
  bool operator==(const MinedFrom&) const = default;
};

/// A seccomp profile.
struct Profile {
  std::string source;  ///< its file (or "trace.json", "recording"), for messages
  Action default_action = Action::error(1);
  std::vector<std::string> arches;  ///< libseccomp names, natively first when sandmine writes it
  std::vector<std::string> flags;   ///< SECCOMP_FILTER_FLAG_* as listed
  /// By name. Only names that exist on one of the arches (or are reached
  /// through a multiplexer there); a name not here gets the default action.
  std::map<std::string, SyscallPolicy> syscalls;
  /// What a reader took differently from the letter of its input (names that
  /// exist on none of the architectures, ...), one line each.
  std::vector<std::string> warnings;
  /// What it was mined from; empty when unknown (written by hand, merged, ...).
  std::optional<MinedFrom> mined_from;
  /// A recording profile of `sandmine record`: the run it was written for, so
  /// that run can tell its own profile in a container's configuration.
  std::string recording;

  /// The recording profile: allows everything, so the runtime installs a
  /// filter exactly where it will install the mined one, and the recorder
  /// sees every call of the container as armed.
  static Profile allow_all();
};

/// The action one call gets, given all six argument registers.
Action decide(const Profile& profile, const std::string& name, const std::array<std::uint64_t, 6>& args);

/// The action a name gets whatever its arguments; empty when argument rules
/// decide.
std::optional<Action> unconditional_action(const Profile& profile, const std::string& name);

/// Every (arch, nr) the profile allows whatever the arguments, on each of its
/// architectures (x32 numbers carry the x32 bit). Syscalls allowed only for
/// some argument values are not in it.
std::set<trace::SyscallKey> allowed_set(const Profile& profile);

/// The names the profile allows whatever the arguments, sorted.
std::set<std::string> allowed_names(const Profile& profile);

/// Whether a name its argument rules decide is let through for some values:
/// an allowing rule, or a default that allows.
bool conditionally_allowed(const Profile& profile, const SyscallPolicy& policy);

/// The names the profile lets through for at least some argument values:
/// allowed_names and those its argument rules allow (socket for AF_INET
/// only counts), sorted. What "N syscalls allowed" counts everywhere.
std::set<std::string> permitted_names(const Profile& profile);

/// Whether the profile is a plain allow-list: default action SCMP_ACT_ERRNO,
/// no flags, every name unconditionally allowed. When not, why, one line.
Status plain_allow_list(const Profile& profile);

// ---- passes ----

/// Complain mode: every action that does not allow, the default included,
/// becomes SCMP_ACT_LOG (the call goes through, the kernel writes an audit
/// record), except a rule's ENOSYS answer (Action::answers_missing): the
/// program falls back from it as it will under the profile.
Profile complain_mode(Profile profile);

/// Allows names whatever their arguments, marking them with comment. Names
/// that exist on none of the profile's architectures are left out. Returns
/// the names that were not allowed unconditionally before.
std::set<std::string> allow(Profile& profile, const std::set<std::string>& names, const std::string& comment);

/// The union of profiles that allow or deny (with the same default action):
/// a name any of them allows unconditionally is allowed; argument rules are
/// united. Refuses other actions and differing defaults, saying which.
Result<Profile> union_of(const std::vector<Profile>& profiles);

}  // namespace sandmine::profile
