#include "explore/generate/fuzz.h"

#include <algorithm>

namespace sandmine::explore::generate {

Fuzzer::Fuzzer(std::vector<TcpInput> seeds, std::uint64_t rng_seed, std::size_t max_corpus)
    : max_corpus_(std::max<std::size_t>(max_corpus, 1)), mutator_(rng_seed) {
  for (auto& s : seeds) {
    bool known = std::any_of(corpus_.begin(), corpus_.end(),
                             [&](const TcpInput& c) { return c.port == s.port && c.messages == s.messages; });
    if (known || s.messages.empty()) continue;
    s.origin = "seed " + std::to_string(corpus_.size() + 1);
    corpus_.push_back(std::move(s));
  }
  seeds_ = corpus_.size();
}

FuzzCase Fuzzer::next() {
  FuzzCase c;
  const TcpInput& parent = corpus_[mutator_.below(corpus_.size())];
  c.input = mutator_.mutate(parent, corpus_, c.mutation);
  c.number = ++mutants_;
  c.input.origin = "mutant " + std::to_string(c.number) + " (" + std::string(mutation_name(c.mutation)) +
                   ") of " + parent.origin;
  pending_ = c;
  return c;
}

void Fuzzer::feedback(bool added) {
  if (!pending_) return;
  FuzzCase c = std::move(*pending_);
  pending_.reset();
  if (!added) {
    ++dropped_;
    return;
  }
  ++kept_;
  if (corpus_.size() >= max_corpus_ && corpus_.size() > seeds_)
    corpus_.erase(corpus_.begin() + static_cast<long>(seeds_));
  corpus_.push_back(std::move(c.input));
}

}  // namespace sandmine::explore::generate
