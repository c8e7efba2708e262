#include "util/result.h"

#include <cstdio>
#include <cstring>

namespace sandmine {

Error errno_error(std::string context, int errnum) {
  return Error{std::move(context) + ": " + std::strerror(errnum), errnum};
}

std::string one_line(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace sandmine
