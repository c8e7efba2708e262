// The profile reader (profile::parse_profile) on arbitrary JSON: it
// returns a profile or one line naming the file. A profile that is read is
// taken through everything the commands do with one (explain, export in each
// format, compile with libseccomp), and written again, which must read back.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "profile/docker_json.h"
#include "profile/explain.h"
#include "profile/export.h"
#include "profile/filter.h"
#include "util/json.h"

namespace {

sandmine::profile::HostFacts host() {
  sandmine::profile::HostFacts h;
  h.arch = "x86_64";
  h.capabilities = {"CAP_CHOWN", "CAP_NET_BIND_SERVICE"};
  h.kernel_major = 6;
  h.kernel_minor = 1;
  return h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sandmine;
  auto doc = parse_json(fuzz::text_of(data, size), "fuzz.json");
  if (!doc) {
    fuzz::expect_one_line(doc.error(), "fuzz.json: ");
    return 0;
  }
  auto p = profile::parse_profile(*doc, "fuzz.json", host());
  if (!p) {
    fuzz::expect_one_line(p.error(), "profile fuzz.json: ");
    return 0;
  }
  (void)profile::allowed_set(*p);
  (void)profile::explain_text(profile::explain(*p, {}));
  (void)profile::explain_json(profile::explain(*p, {})).dump();
  for (auto format : {profile::ExportFormat::docker, profile::ExportFormat::oci, profile::ExportFormat::k8s,
                      profile::ExportFormat::systemd})
    if (auto text = profile::export_profile(*p, format, {.name = "fuzz"}); !text)
      fuzz::expect_one_line(text.error(), "");
  for (auto mode : {profile::FilterMode::enforce, profile::FilterMode::complain})
    if (auto filter = profile::compile_filter(*p, mode); !filter) fuzz::expect_one_line(filter.error(), "");
  nlohmann::json written = profile::to_docker_json(*p);
  (void)written.dump();
  auto again = profile::parse_profile(written, "again.json", host());
  if (!again) fuzz::broken("a profile sandmine wrote does not read back", again.error().message);
  if (profile::allowed_set(*again) != profile::allowed_set(*p))
    fuzz::broken("a profile written and read again allows something else", "");
  return 0;
}
