#pragma once
// What the spec parser says of a document, for tests of its error messages.

#include <string>
#include <string_view>

#include "spec/spec.h"

namespace sandmine::test {

/// The error parse_spec gives, or a marker that fails any comparison with a message.
inline std::string error_of(std::string_view yaml, const std::string& file = "t.yaml") {
  auto r = spec::parse_spec(yaml, file);
  return r.ok() ? "(parsed without error)" : r.error().message;
}

}  // namespace sandmine::test
