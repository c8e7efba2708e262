#include "sys/proc.h"

#include <charconv>
#include <string>

#include "sys/files.h"

namespace sandmine::sys {

Result<SignalMasks> parse_signal_masks(std::string_view status) {
  SignalMasks m;
  struct Field {
    std::string_view key;
    std::uint64_t* value;
    bool seen = false;
  } fields[] = {{"SigPnd:", &m.pending},
                {"ShdPnd:", &m.shared_pending},
                {"SigBlk:", &m.blocked},
                {"SigIgn:", &m.ignored},
                {"SigCgt:", &m.caught}};
  while (!status.empty()) {
    auto eol = status.find('\n');
    std::string_view line = status.substr(0, eol);
    status = eol == std::string_view::npos ? std::string_view() : status.substr(eol + 1);
    for (auto& f : fields) {
      if (!line.starts_with(f.key)) continue;
      std::string_view hex = line.substr(f.key.size());
      while (!hex.empty() && (hex.front() == ' ' || hex.front() == '\t')) hex.remove_prefix(1);
      auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), *f.value, 16);
      if (ec != std::errc() || end != hex.data() + hex.size())
        return Error{
            "/proc status: " + std::string(f.key) + " is not a hexadecimal mask: " + std::string(hex),
            EINVAL};
      f.seen = true;
    }
  }
  for (const auto& f : fields)
    if (!f.seen) return Error{"/proc status: no " + std::string(f.key) + " line", EINVAL};
  return m;
}

Result<SignalMasks> signal_masks(pid_t pid) {
  auto text = read_file("/proc/" + std::to_string(pid) + "/status");
  if (!text) return text.error();
  return parse_signal_masks(*text);
}

}  // namespace sandmine::sys
