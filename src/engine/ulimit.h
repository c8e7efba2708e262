#pragma once
// Resource limits of a container's processes, given the way `docker run
// --ulimit` takes them and applied by every engine alike.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace sandmine::engine {

/// One resource limit: `nofile=1024:1024`.
struct Ulimit {
  std::string type;  ///< Docker's name, lower case: nofile, nproc, core, ...
  std::uint64_t soft = 0;
  std::uint64_t hard = 0;
  bool operator==(const Ulimit&) const = default;
};

/// "TYPE=SOFT:HARD" (or "TYPE=LIMIT" for both), as Docker's --ulimit flag.
std::string to_string(const Ulimit& limit);

/// The OCI name of the limit's type: nofile -> RLIMIT_NOFILE.
std::string oci_rlimit_type(const Ulimit& limit);

/// Parses "TYPE=SOFT:HARD" or "TYPE=LIMIT". TYPE is one every engine knows
/// (Docker's list: core, cpu, data, fsize, locks, memlock, msgqueue, nice,
/// nofile, nproc, rss, rtprio, rttime, sigpending, stack); the limits are
/// whole numbers with soft <= hard. Errors are one line naming the input:
/// "--ulimit foo: expected TYPE=SOFT:HARD, like nofile=1024:1024".
Result<Ulimit> parse_ulimit(std::string_view text);

/// Parses each of texts; a type given twice is an error.
Result<std::vector<Ulimit>> parse_ulimits(const std::vector<std::string>& texts);

/// defaults, each replaced by the limit of the same type in given, then the
/// other limits in given, in their order.
std::vector<Ulimit> with_defaults(const std::vector<Ulimit>& defaults, const std::vector<Ulimit>& given);

}  // namespace sandmine::engine
