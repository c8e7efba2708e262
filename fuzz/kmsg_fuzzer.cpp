// The /dev/kmsg record parser (sys::parse_kmsg_record) and the books kept on
// what it parses (sys::AuditLedger) on arbitrary records. The input is a
// list of records separated by NUL bytes; a record "@probe PID" or
// "@opening PID" announces a probe process as the reader does.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_util.h"
#include "sys/kmsg.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sandmine;
  std::string_view input = fuzz::text_of(data, size);
  sys::AuditLedger ledger(10, 5);
  while (!input.empty()) {
    auto end = input.find('\0');
    std::string_view raw = input.substr(0, end);
    input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
    for (std::string_view probe : {"@probe ", "@opening "})
      if (raw.starts_with(probe)) {
        int pid = 0;
        for (char c : raw.substr(probe.size()))
          if (c >= '0' && c <= '9' && pid < 1'000'000) pid = pid * 10 + (c - '0');
        ledger.expect_probe(pid, probe == "@opening ");
      }
    if (raw == "@overwritten") ledger.note_overwritten();
    if (auto r = sys::parse_kmsg_record(raw)) {
      std::size_t before = ledger.records().size();
      bool seccomp = ledger.add(*r);
      if (seccomp != (ledger.records().size() == before + 1))
        fuzz::broken("add() says a seccomp record was kept, records() disagrees", std::string(raw));
      if (seccomp && r->kind != sys::KmsgRecord::Kind::seccomp)
        fuzz::broken("a record that is not a seccomp record was kept", std::string(raw));
    }
  }
  sys::Loss loss = ledger.loss();
  if (loss.why.find('\n') != std::string::npos) fuzz::broken("Loss::why is more than one line", loss.why);
  if (loss.lost != !loss.why.empty()) fuzz::broken("Loss::lost and Loss::why disagree", loss.why);
  return 0;
}
