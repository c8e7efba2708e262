#include "trace/binaries.h"

#include <algorithm>

#include "sys/proc_maps.h"

namespace sandmine::trace {

void BinaryLog::sample(const Target& target) {
  for (int pid : sys::pids_in_subtree(target.cgroup.path())) {
    auto image = sys::process_image(pid, root_prefix_);
    if (!image || image->exe.empty()) continue;  // gone, or a kernel thread
    auto& into = mapped_[image->exe];
    for (auto& m : image->mapped)
      if (m != image->exe) into.insert(m);
  }
}

Result<std::vector<BinaryRecord>> BinaryLog::finish(EbpfRecorder& recorder, const Target& target,
                                                    std::uint64_t start_ns) {
  sample(target);
  auto execs = recorder.execs(target);
  if (!execs) return execs.error();
  std::map<std::string, BinaryRecord> by_path;
  for (const auto& e : *execs)
    by_path[e.path] = BinaryRecord{
        e.path, e.count, static_cast<double>(e.first_ns - std::min(e.first_ns, start_ns)) / 1e6, {}};
  for (const auto& [exe, files] : mapped_) {
    auto& rec = by_path[exe];
    rec.path = exe;
    rec.mapped.assign(files.begin(), files.end());
  }
  std::vector<BinaryRecord> out;
  for (auto& [path, rec] : by_path) out.push_back(std::move(rec));
  return out;
}

}  // namespace sandmine::trace
