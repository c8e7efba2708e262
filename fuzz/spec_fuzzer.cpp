// The spec reader (spec::parse_spec) on arbitrary text: it returns a spec or
// one line naming the file, and never throws or crashes. A spec it accepts
// has a name and explore steps, and a command unless its image has a config
// (ref, oci, archive), whose Entrypoint and Cmd stand in for it.
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
  if (spec->name.empty() || spec->explore.empty())
    fuzz::broken("a spec without name or explore steps was accepted", spec->name);
  if (spec->command.empty() && !spec::has_image_config(spec->image))
    fuzz::broken("a spec without command whose image has no config was accepted", spec->name);
  return 0;
}
