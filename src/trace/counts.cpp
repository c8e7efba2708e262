#include "trace/counts.h"

namespace sandmine::trace {

void add(Tallies& tallies, const SyscallKey& key, std::uint64_t n, std::uint64_t ns) {
  Tally& t = tallies[key];
  t.count += n;
  if (ns != 0 && (t.first_ns == 0 || ns < t.first_ns)) t.first_ns = ns;
}

void merge_into(Tallies& into, const Tallies& from) {
  for (const auto& [key, tally] : from) add(into, key, tally.count, tally.first_ns);
}

}  // namespace sandmine::trace
