#pragma once
// A fuzzer guided by the recorder: it sends mutants of the captured inputs
// and of the mutants it kept, and keeps a mutant only when the step that sent
// it made the container use a syscall (or an argument value) that no earlier
// step did. The recorder's per-step snapshots are its coverage map. The
// captured inputs themselves are not sent again: the spec's own steps sent
// them, and the run recorded what they reached.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "explore/generate/mutate.h"

namespace sandmine::explore::generate {

/// One mutant to try and how it was made.
struct FuzzCase {
  TcpInput input;
  Mutation mutation = Mutation::FlipBit;
  int number = 0;  ///< mutants are counted from 1
};

class Fuzzer {
 public:
  /// seeds: the captured inputs (duplicates are dropped); rng_seed makes the
  /// mutations reproducible; max_corpus bounds what is kept (the oldest
  /// mutant goes first; seeds stay).
  Fuzzer(std::vector<TcpInput> seeds, std::uint64_t rng_seed, std::size_t max_corpus = 256);

  /// Whether there is anything to try (at least one seed).
  bool empty() const { return corpus_.empty(); }
  /// The next mutant: one mutation of a corpus input chosen at random.
  FuzzCase next();
  /// What the input from the last next() added: a mutant that added
  /// something is kept, one that did not is dropped.
  void feedback(bool added);

  const std::vector<TcpInput>& corpus() const { return corpus_; }
  std::size_t seeds() const { return seeds_; }
  std::size_t kept() const { return kept_; }
  std::size_t dropped() const { return dropped_; }

 private:
  std::vector<TcpInput> corpus_;
  std::size_t seeds_ = 0;
  std::size_t max_corpus_;
  Mutator mutator_;
  std::optional<FuzzCase> pending_;
  int mutants_ = 0;
  std::size_t kept_ = 0, dropped_ = 0;
};

}  // namespace sandmine::explore::generate
