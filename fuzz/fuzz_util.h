#pragma once
// What every fuzz target asserts about the errors it is given: one line, and
// it names the input. A broken promise is a crash, so libFuzzer keeps the input.

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "util/result.h"

namespace sandmine::fuzz {

inline std::string_view text_of(const unsigned char* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

[[noreturn]] inline void broken(const char* what, const std::string& detail) {
  std::fprintf(stderr, "broken promise: %s: %s\n", what, detail.c_str());
  std::abort();
}

/// An error message is one line and starts with prefix (the file it names).
inline void expect_one_line(const Error& e, std::string_view prefix) {
  if (e.message.find('\n') != std::string::npos || e.message.find('\r') != std::string::npos)
    broken("the error is more than one line", e.message);
  if (!e.message.starts_with(prefix)) broken("the error does not name the input", e.message);
}

}  // namespace sandmine::fuzz
