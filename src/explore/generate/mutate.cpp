#include "explore/generate/mutate.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace sandmine::explore::generate {

std::string_view mutation_name(Mutation m) {
  switch (m) {
    case Mutation::FlipBit:
      return "flip-bit";
    case Mutation::SetByte:
      return "set-byte";
    case Mutation::InsertBytes:
      return "insert";
    case Mutation::DeleteBytes:
      return "delete";
    case Mutation::Number:
      return "number";
    case Mutation::BinaryLength:
      return "binary-length";
    case Mutation::Truncate:
      return "truncate";
    case Mutation::DropMessage:
      return "drop";
    case Mutation::Reorder:
      return "reorder";
    case Mutation::Repeat:
      return "repeat";
    case Mutation::Splice:
      return "splice";
  }
  return "?";
}

std::vector<std::string> number_replacements(std::string_view n) {
  unsigned long long v = std::strtoull(std::string(n).c_str(), nullptr, 10);
  std::vector<std::string> out = {"0",
                                  "1",
                                  std::to_string(v + 1),
                                  std::to_string(v * 2 + 1),
                                  "255",
                                  "256",
                                  "65535",
                                  "65536",
                                  "65537",
                                  "2147483647",
                                  "2147483648",
                                  "4294967295",
                                  "4294967296",
                                  "18446744073709551615",
                                  "99999999999999999999",
                                  "-1"};
  if (v > 0) out.push_back(std::to_string(v - 1));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  out.erase(std::remove(out.begin(), out.end(), std::string(n)), out.end());
  return out;
}

namespace {

// Where decimal numbers are in the messages: (message, offset, length).
struct Run {
  std::size_t message, at, length;
};

std::vector<Run> digit_runs(const std::vector<std::string>& messages) {
  std::vector<Run> out;
  for (std::size_t m = 0; m < messages.size(); ++m) {
    const auto& s = messages[m];
    for (std::size_t i = 0; i < s.size();) {
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) {
        ++i;
        continue;
      }
      std::size_t j = i;
      while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      out.push_back({m, i, j - i});
      i = j;
    }
  }
  return out;
}

// A field of width bytes at offset at, big- or little-endian, whose value is
// a length of the message: what follows the field, or the whole message.
struct LengthField {
  std::size_t message, at, width;
  bool big_endian;
  std::uint64_t value;
};

std::uint64_t read_int(const std::string& s, std::size_t at, std::size_t width, bool big) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < width; ++i) {
    auto byte = static_cast<std::uint8_t>(s[at + (big ? i : width - 1 - i)]);
    v = v << 8 | byte;
  }
  return v;
}

void write_int(std::string& s, std::size_t at, std::size_t width, bool big, std::uint64_t v) {
  for (std::size_t i = 0; i < width; ++i) {
    auto byte = static_cast<char>((v >> (8 * (width - 1 - i))) & 0xff);
    s[at + (big ? i : width - 1 - i)] = byte;
  }
}

std::vector<LengthField> length_fields(const std::vector<std::string>& messages) {
  std::vector<LengthField> out;
  for (std::size_t m = 0; m < messages.size(); ++m) {
    const auto& s = messages[m];
    for (std::size_t width : {1u, 2u, 4u})
      for (std::size_t at = 0; at + width <= s.size() && at < 64; ++at)
        for (bool big : {true, false}) {
          if (width == 1 && !big) continue;
          std::uint64_t v = read_int(s, at, width, big);
          std::uint64_t after = s.size() - at - width;
          if (v >= 2 && (v == after || v == after + width || v == s.size()))
            out.push_back({m, at, width, big, v});
        }
  }
  return out;
}

constexpr unsigned char kInterestingBytes[] = {0x00, 0xff, 0x7f, 0x80, 0x01, '\n', '\r', ' ', '0', '9', '%'};

}  // namespace

std::string Mutator::random_bytes(std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    if (below(2) == 0)
      out += static_cast<char>(kInterestingBytes[below(sizeof kInterestingBytes)]);
    else
      out += static_cast<char>(below(256));
  }
  return out;
}

TcpInput Mutator::apply(Mutation m, const TcpInput& parent, const std::vector<TcpInput>& others) {
  TcpInput out = parent;
  auto& msgs = out.messages;
  // A message with at least one byte, or none.
  auto pick_nonempty = [&]() -> std::string* {
    std::vector<std::size_t> idx;
    for (std::size_t i = 0; i < msgs.size(); ++i)
      if (!msgs[i].empty()) idx.push_back(i);
    if (idx.empty()) return nullptr;
    return &msgs[idx[below(idx.size())]];
  };
  switch (m) {
    case Mutation::FlipBit: {
      if (auto* s = pick_nonempty()) (*s)[below(s->size())] ^= static_cast<char>(1u << below(8));
      break;
    }
    case Mutation::SetByte: {
      if (auto* s = pick_nonempty()) {
        auto at = below(s->size());
        char v = below(2) == 0 ? static_cast<char>(kInterestingBytes[below(sizeof kInterestingBytes)])
                               : static_cast<char>(below(256));
        (*s)[at] = v;
      }
      break;
    }
    case Mutation::InsertBytes: {
      if (msgs.empty()) msgs.emplace_back();
      auto& s = msgs[below(msgs.size())];
      std::size_t n = 1 + below(16);
      std::string bytes;
      if (!s.empty() && below(2) == 0) {
        auto from = below(s.size());
        bytes = s.substr(from, n);
      } else {
        bytes = random_bytes(n);
      }
      s.insert(below(s.size() + 1), bytes);
      break;
    }
    case Mutation::DeleteBytes: {
      if (auto* s = pick_nonempty()) {
        auto at = below(s->size());
        s->erase(at, 1 + below(std::min<std::size_t>(16, s->size() - at)));
      }
      break;
    }
    case Mutation::Number: {
      auto runs = digit_runs(msgs);
      if (runs.empty()) break;
      const Run& r = runs[below(runs.size())];
      auto& s = msgs[r.message];
      auto choices = number_replacements(s.substr(r.at, r.length));
      s.replace(r.at, r.length, choices[below(choices.size())]);
      break;
    }
    case Mutation::BinaryLength: {
      auto fields = length_fields(msgs);
      if (fields.empty()) break;
      const LengthField& f = fields[below(fields.size())];
      std::uint64_t max = f.width == 8 ? ~0ull : (1ull << (8 * f.width)) - 1;
      std::uint64_t choices[] = {0, f.value + 1, f.value - 1, std::min(max, f.value * 2), max, max / 2 + 1};
      write_int(msgs[f.message], f.at, f.width, f.big_endian, choices[below(std::size(choices))] & max);
      break;
    }
    case Mutation::Truncate: {
      std::vector<std::size_t> idx;
      for (std::size_t i = 0; i < msgs.size(); ++i)
        if (!msgs[i].empty()) idx.push_back(i);
      if (idx.empty()) break;
      auto i = idx[below(idx.size())];
      msgs[i].resize(below(msgs[i].size()));
      msgs.resize(i + 1);
      if (msgs.back().empty()) msgs.pop_back();
      break;
    }
    case Mutation::DropMessage: {
      if (msgs.size() < 2) break;
      msgs.erase(msgs.begin() + static_cast<long>(below(msgs.size())));
      break;
    }
    case Mutation::Reorder: {
      if (msgs.size() < 2) break;
      auto a = below(msgs.size()), b = below(msgs.size() - 1);
      if (b >= a) ++b;
      std::swap(msgs[a], msgs[b]);
      break;
    }
    case Mutation::Repeat: {
      if (msgs.empty()) break;
      auto i = below(msgs.size());
      auto copies = 1 + below(7);
      msgs.insert(msgs.begin() + static_cast<long>(i) + 1, copies, msgs[i]);
      break;
    }
    case Mutation::Splice: {
      std::vector<const std::string*> pool;
      for (const auto& o : others)
        if (o.port == parent.port)
          for (const auto& msg : o.messages) pool.push_back(&msg);
      if (pool.empty() || msgs.empty()) break;
      msgs[below(msgs.size())] = *pool[below(pool.size())];
      break;
    }
  }
  return out;
}

namespace {

// How often each mutation is chosen: numbers and binary lengths three times
// as often as the rest, as that is where parsers part ways (a length they
// trust, a size they allocate).
unsigned weight(Mutation m) { return m == Mutation::Number || m == Mutation::BinaryLength ? 3 : 1; }

}  // namespace

TcpInput Mutator::mutate(const TcpInput& parent, const std::vector<TcpInput>& others, Mutation& used) {
  unsigned total = 0;
  for (Mutation m : kMutations) total += weight(m);
  for (int attempt = 0; attempt < 16; ++attempt) {
    auto pick = static_cast<unsigned>(below(total));
    Mutation m = kMutations[0];
    for (Mutation candidate : kMutations) {
      if (pick < weight(candidate)) {
        m = candidate;
        break;
      }
      pick -= weight(candidate);
    }
    TcpInput out = apply(m, parent, others);
    if (out.messages != parent.messages) {
      used = m;
      return out;
    }
  }
  used = Mutation::InsertBytes;  // always changes the input
  return apply(used, parent, others);
}

}  // namespace sandmine::explore::generate
