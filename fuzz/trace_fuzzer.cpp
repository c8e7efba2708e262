// The readers of the JSON files sandmine writes and reads back, on arbitrary
// text: trace.json (trace::trace_from_json), check.json and bench.json
// (report/run_files.h). Each returns a value or one line naming the file. A
// trace that is read also makes a profile (sandmine profile), which must be
// readable as a profile, and is written again, which must read back.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "fuzz_util.h"
#include "profile/docker_json.h"
#include "profile/from_trace.h"
#include "profile/timing.h"
#include "report/run_files.h"
#include "trace/trace.h"
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
  if (Status st = report::validate_check_json(*doc, "check.json"); !st)
    fuzz::expect_one_line(st.error(), "check.json: ");
  if (Status st = report::validate_bench_json(*doc, "bench.json"); !st)
    fuzz::expect_one_line(st.error(), "bench.json: ");

  auto t = trace::trace_from_json(*doc, "fuzz.json");
  if (!t) {
    fuzz::expect_one_line(t.error(), "fuzz.json: ");
    return 0;
  }
  nlohmann::json written = trace::to_json(*t);
  (void)written.dump();
  auto again = trace::trace_from_json(written, "again.json");
  if (!again) fuzz::broken("a trace sandmine wrote does not read back", again.error().message);

  std::vector<std::string> warnings;
  auto sandbox = profile::from_traces({*t}, warnings);
  (void)profile::add_timing_dependent(sandbox, t->target.kind == "container", profile::ArgsMode::safe);
  nlohmann::json profile_doc = profile::to_docker_json(sandbox);
  (void)profile_doc.dump();
  auto p = profile::parse_profile(profile_doc, "profile.json", host());
  if (!p) fuzz::broken("a profile made from a trace does not read as a profile", p.error().message);
  return 0;
}
