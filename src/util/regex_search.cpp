#include "util/regex_search.h"

namespace sandmine {

Result<std::optional<RegexMatch>> search_by_line(std::string_view text, const std::regex& re) {
  while (!text.empty()) {
    std::size_t end = std::min(text.find('\n'), kMaxLine);
    std::string line(text.substr(0, end));
    text.remove_prefix(std::min(text.size(), end < text.size() && text[end] == '\n' ? end + 1 : end));
    std::smatch m;
    try {
      if (!std::regex_search(line, m, re)) continue;
    } catch (const std::regex_error& e) {
      return Error{std::string("the regular expression is too costly to match against a line of output (") +
                       e.what() + ")",
                   EINVAL};
    }
    RegexMatch match;
    for (std::size_t i = 0; i < m.size(); ++i)
      match.groups.push_back(m[i].matched ? std::optional<std::string>(m[i].str()) : std::nullopt);
    return std::optional<RegexMatch>(std::move(match));
  }
  return std::optional<RegexMatch>();
}

}  // namespace sandmine
