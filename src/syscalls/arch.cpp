#include "syscalls/arch.h"

#include <cstdlib>
#include <iostream>

#include "util/csv.h"

extern const char kArchitecturesCsv[];

namespace sandmine::syscalls {

namespace {

// A build-time table that does not parse is a bug in this build, not input.
[[noreturn]] void broken(const std::string& what) {
  std::cerr << "sandmine: built with a broken data/architectures.csv: " << what << "\n";
  std::abort();
}

std::int64_t number(const std::string& text, const std::string& row, const std::string& column) {
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 0);
  if (text.empty() || *end != '\0' || v < 0)
    broken(row + ": " + column + " \"" + text + "\" is not a number");
  return v;
}

}  // namespace

const std::vector<ArchInfo>& architectures() {
  static const std::vector<ArchInfo> table = [] {
    auto rows = parse_csv(kArchitecturesCsv, "data/architectures.csv");
    if (!rows) broken(rows.error().message);
    std::vector<ArchInfo> out;
    for (auto& r : *rows)
      out.push_back(
          {.name = r["name"],
           .oci = r["oci"],
           .go = r["go"],
           .systemd = r["systemd"],
           .audit_arch = static_cast<std::uint32_t>(number(r["audit_arch"], r["name"], "audit_arch")),
           .host = r["host"],
           .abi = static_cast<int>(number(r["abi"], r["name"], "abi")),
           .nr_bit = number(r["nr_bit"], r["name"], "nr_bit")});
    return out;
  }();
  return table;
}

const ArchInfo* find_arch(std::string_view name) {
  for (const auto& a : architectures())
    if (a.name == name) return &a;
  return nullptr;
}

const ArchInfo* arch_of_audit(std::uint32_t audit_arch, std::int64_t nr) {
  const ArchInfo* plain = nullptr;
  for (const auto& a : architectures()) {
    if (a.audit_arch != audit_arch) continue;
    if (a.nr_bit == 0) {
      if (!plain) plain = &a;
    } else if (nr >= 0 && (nr & a.nr_bit)) {
      return &a;
    }
  }
  return plain;
}

const ArchInfo* arch_of_abi(std::string_view host, int abi) {
  for (const auto& a : architectures())
    if (a.host == host && a.abi == abi) return &a;
  return nullptr;
}

}  // namespace sandmine::syscalls
