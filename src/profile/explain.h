#pragma once
// What a seccomp profile leaves open of the kernel, next to the engines'
// default profiles: the syscalls it allows per architecture, the risky ones
// among them (data/risky_syscalls.csv) and the kernel CVEs whose way in it
// leaves open (data/cves.csv). Docker's default comes from
// data/docker_default_x86_64.csv, Podman's and CRI-O's from the
// containers-common file installed on the host. Also the comparison of two
// profiles (`sandmine diff`).

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "profile/allowed_values.h"
#include "profile/profile.h"
#include "util/result.h"

namespace sandmine::profile {

/// Whether a profile lets a syscall through: always, only for some argument
/// values (a rule with argument conditions decides), or never.
enum class Allowance { no, conditional, yes };

/// "no", "conditional", "yes".
std::string_view to_string(Allowance a);

/// A row of data/docker_default_x86_64.csv: a name Docker 20.10's default
/// profile allows on x86_64 with Docker's default capabilities; conditional
/// when only for some argument values (clone, personality).
struct DockerDefaultEntry {
  std::string name;
  bool conditional = false;
  std::string source;
};

/// The table (embedded in the binary at build time).
const std::vector<DockerDefaultEntry>& docker_default_x86_64();

/// A row of data/risky_syscalls.csv.
struct RiskySyscall {
  std::string name;      ///< x86_64 name
  std::string category;  ///< namespaces, mount, keyring, bpf, ...
  std::string reason;
  std::string source;
};

/// The table (embedded in the binary at build time).
const std::vector<RiskySyscall>& risky_syscalls();

/// An argument value a CVE's path needs in a call (data/cves.csv,
/// `arguments`): a call of syscall whose argument index, under mask, equals
/// value. "socket.domain=AF_PACKET" is (socket, 0, 0xffffffff, 0x11);
/// "clone.flags&CLONE_NEWUSER" (the bit set) is (clone, 0, 0x10000000, 0x10000000).
struct ArgumentNeed {
  std::string syscall;
  unsigned index = 0;
  std::uint64_t mask = 0;
  std::uint64_t value = 0;
  std::string text;  ///< as the table writes it
  bool operator==(const ArgumentNeed&) const = default;
};

/// Reads one term of the `arguments` column: "NAME.ARGUMENT=VALUE" (the
/// argument under the argument table's mask for it, or 32 bits for an int)
/// or "NAME.ARGUMENT&FLAG" (that bit set); ARGUMENT and the value's names
/// come from data/argument_rules.csv and data/argument_names.csv, values may
/// also be numbers.
Result<ArgumentNeed> parse_argument_need(std::string_view text);

/// A row of data/cves.csv: the vulnerable code is reached only when every
/// requirement is met; a requirement is met by any one of its syscalls
/// (`a/b` in the table; requirements are separated by `|`), and a syscall
/// with argument needs only by a call with those values (all of them, in one call).
struct KernelCve {
  std::string id;                               ///< CVE-2022-0847
  std::vector<std::vector<std::string>> needs;  ///< all of these, each by one of its names
  bool compat = false;                          ///< the path goes through the 32-bit compat ABI
  std::string description;
  std::string source;
  std::vector<ArgumentNeed> arguments;  ///< the argument values the path needs, per syscall
  /// The argument needs on syscall name.
  std::vector<ArgumentNeed> arguments_of(const std::string& name) const;
};

/// The table (embedded in the binary at build time).
const std::vector<KernelCve>& kernel_cves();

/// What a profile lets through on one architecture.
struct ArchSurface {
  std::set<std::string> allowed;      ///< unconditionally
  std::set<std::string> conditional;  ///< for some argument values only
  /// The rules that decide conditional names, when known (a profile's; a
  /// table of names such as Docker's default has none).
  std::map<std::string, std::vector<ArgRule>> rules;
  bool default_allows = false;  ///< the profile's default action lets calls run
  Allowance of(const std::string& name) const;
  /// Whether a call of name with argument values meeting every need (of
  /// that name) gets through: yes when a rule allowing the name may hold for
  /// such values (or the default allows), no when none can; conditional when
  /// there are no needs or no rules to decide by (a table of names).
  Allowance of(const std::string& name, const std::vector<ArgumentNeed>& needs) const;
  /// Every name let through at all (allowed and conditional).
  std::set<std::string> names() const;
};

/// What a profile lets through, per architecture it filters. An architecture
/// it does not list is denied whole (the kernel kills or refuses such calls).
struct Surface {
  std::map<std::string, ArchSurface> arches;
  Allowance of(const std::string& arch, const std::string& name) const;
  Allowance of(const std::string& arch, const std::string& name,
               const std::vector<ArgumentNeed>& needs) const;
};

/// The surface of a profile as it applies on this host: allowed_set() for
/// the unconditional part; names that rules with argument conditions decide
/// are conditional when any of those rules (or the default) lets them through.
Surface surface_of(const Profile& profile);

/// Whether a CVE's way in is open under a surface. A native path needs its
/// syscalls on x86_64; a compat path needs them on x86 or x32; a syscall with
/// argument needs, a call with those values (ArchSurface::of). Conditional
/// when it is open only through conditionally allowed syscalls whose rules
/// could not be judged against the values the path needs.
Allowance reachable(const KernelCve& cve, const Surface& surface);

/// A default profile to compare with.
struct Baseline {
  std::string key;                 ///< "docker", "podman": JSON keys and column names
  std::string title;               ///< "Docker 20.10 default"
  std::string source;              ///< the table or file it comes from
  std::optional<Surface> surface;  ///< none when it is not available on this host
  std::string unavailable;         ///< why not, when there is no surface
};

/// Docker 20.10's default (data/docker_default_x86_64.csv). Docker's archMap
/// also filters x86 and x32 on an x86_64 host with the same rules, so the
/// table's names stand for those architectures too (where they exist there).
Baseline docker_baseline();

/// Podman's and CRI-O's default, the containers-common file at path
/// (/usr/share/containers/seccomp.json), read as Docker would take it on this
/// host. Not available (with the reason) when the file is missing or unreadable.
Baseline podman_baseline(const std::string& path);

/// A profile's x86_64 names next to a baseline's.
struct Comparison {
  std::size_t profile_count = 0;          ///< names the profile lets through on x86_64
  std::size_t baseline_count = 0;         ///< names the baseline lets through on x86_64
  std::size_t common = 0;                 ///< let through by both
  std::set<std::string> only_in_profile;  ///< let through by the profile, not the baseline
  double share = 0;                       ///< profile_count / baseline_count
};

Comparison compare_x86_64(const Surface& profile, const Surface& baseline);

/// Everything `sandmine explain` says about one profile.
struct Explanation {
  std::string source;
  Action default_action;
  std::vector<std::string> arches;  ///< in the profile's order
  std::vector<std::string> warnings;
  Surface surface;
  std::vector<Baseline> baselines;
  std::optional<MinedFrom> mined_from;  ///< the profile's, when it says
  AllowedValues values;                 ///< what its argument rules allow, by name
};

Explanation explain(const Profile& profile, std::vector<Baseline> baselines);

/// Plain text for a terminal: aligned tables, names wrapped.
std::string explain_text(const Explanation& e);

/// What a profile was mined from, as lines for a terminal ("image: sha256:...",
/// "command: ...", one per variable and per configuration file).
std::vector<std::string> mined_from_lines(const MinedFrom& m);

/// The same as JSON, as the profile writes it (docs/formats.md).
nlohmann::json mined_from_json(const MinedFrom& m);

/// The same facts as JSON.
nlohmann::json explain_json(const Explanation& e);

/// How B differs from A.
struct ProfileDiff {
  std::optional<std::pair<Action, Action>> default_action;  ///< set when it changed
  std::vector<std::string> arches_added;                    ///< listed by B only
  std::vector<std::string> arches_removed;                  ///< listed by A only
  struct ArchChanges {
    std::set<std::string> added;    ///< let through by B (at all), not by A
    std::set<std::string> removed;  ///< let through by A (at all), not by B
    std::set<std::string> changed;  ///< by both, with different conditions (or none on one side)
  };
  std::map<std::string, ArchChanges> arches;  ///< only architectures with changes
  bool empty() const;
  /// Whether B may let through a call A does not: a name added on some
  /// architecture, a name both let through under other conditions (B's may
  /// be wider), or a default action changed to one that lets calls run
  /// (SCMP_ACT_ALLOW, SCMP_ACT_LOG).
  bool allows_more() const;
};

/// Compares what two profiles let through on each architecture either lists
/// (an unlisted architecture lets nothing through), their default actions
/// and architectures. Conditional names compare by the rules that decide them.
ProfileDiff diff_profiles(const Profile& a, const Profile& b);

}  // namespace sandmine::profile
