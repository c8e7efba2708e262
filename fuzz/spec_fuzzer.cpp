// The spec reader (spec::parse_spec) on arbitrary text: it returns a spec or
// one line naming the file, and never throws or crashes.
#include <cstddef>
#include <cstdint>

#include "fuzz_util.h"
#include "spec/spec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sandmine;
  auto spec = spec::parse_spec(fuzz::text_of(data, size), "fuzz.yaml");
  if (!spec) {
    fuzz::expect_one_line(spec.error(), "spec fuzz.yaml:");
    return 0;
  }
  if (spec->name.empty() || spec->command.empty() || spec->explore.empty())
    fuzz::broken("a spec without name, command or explore steps was accepted", spec->name);
  return 0;
}
