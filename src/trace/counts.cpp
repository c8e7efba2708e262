#include "trace/counts.h"

namespace sandmine::trace {

void add(Tallies& tallies, const SyscallKey& key, std::uint64_t n, std::uint64_t ns) {
  Tally& t = tallies[key];
  t.count += n;
  if (ns != 0 && (t.first_ns == 0 || ns < t.first_ns)) t.first_ns = ns;
}

void add_values(Tallies& tallies, const SyscallKey& key, const ArgValues& values, std::uint64_t n) {
  tallies[key].values[values] += n;
}

void merge_into(Tallies& into, const Tallies& from) {
  for (const auto& [key, tally] : from) {
    add(into, key, tally.count, tally.first_ns);
    Tally& t = into[key];
    for (const auto& [values, n] : tally.values) t.values[values] += n;
    t.values_lost |= tally.values_lost;
  }
}

std::string describe_values_lost(std::uint8_t lost) {
  std::string out;
  auto add_reason = [&](std::uint8_t bit, const char* text) {
    if (lost & bit) out += (out.empty() ? "" : "; ") + std::string(text);
  };
  add_reason(kValuesMapFull, "the recorder's map of argument values was full");
  add_reason(kValuesUnreadable, "an argument in the caller's memory could not be read");
  add_reason(kValuesNotStored, "the recorder's map of argument values refused a new value");
  return out;
}

}  // namespace sandmine::trace
