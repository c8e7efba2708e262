#pragma once
// Searching a program's output with a spec's regular expression without
// crashing on long output. std::regex (libstdc++) recurses once for each
// character a repetition consumes, so a pattern like ".*x" on ~30 KB of text
// overflows an 8 MB stack: SIGSEGV, not an error, and nothing is cleaned up.
// Searching line by line, with lines cut at kMaxLine bytes, bounds that depth
// (and keeps a pattern that is tried at every start, like ".*x", from taking
// time quadratic in the whole output rather than in a line)
// whatever a program prints; a match cannot span lines ("." never matches a
// newline in ECMAScript anyway).

#include <cstddef>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace sandmine {

/// Longer lines are searched in pieces of this many bytes.
inline constexpr std::size_t kMaxLine = 1024;

/// A match: groups[0] the whole match, then each capture group (none when the
/// group took no part in the match).
struct RegexMatch {
  std::vector<std::optional<std::string>> groups;
};

/// The first line of text (in order) that re matches, and how. Errors only
/// when the regex library gives up on a line (std::regex_error).
Result<std::optional<RegexMatch>> search_by_line(std::string_view text, const std::regex& re);

}  // namespace sandmine
