#pragma once
// Inputs for a TCP service (the client's messages of one connection) and the
// mutations that make new ones from them: bytes, numbers and binary lengths,
// truncation, dropped, reordered and repeated messages, splices.

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace sandmine::explore::generate {

/// What a client sends on one connection: messages in order, each after the
/// server has answered the one before (or gone quiet).
struct TcpInput {
  int port = 0;
  std::vector<std::string> messages;
  std::string origin;  ///< "seed 2", "mutant 7 (number) of seed 2"
};

enum class Mutation {
  FlipBit,       ///< one bit of one byte
  SetByte,       ///< one byte set to an interesting or random value
  InsertBytes,   ///< 1 to 16 bytes inserted
  DeleteBytes,   ///< 1 to 16 bytes removed
  Number,        ///< an ASCII decimal number set to a boundary value
  BinaryLength,  ///< a 1, 2 or 4 byte field holding a length set to another one
  Truncate,      ///< a message cut short, the messages after it dropped
  DropMessage,   ///< one message left out
  Reorder,       ///< two messages swapped
  Repeat,        ///< one message sent 2 to 8 times
  Splice,        ///< one message replaced by another input's
};

/// Every mutation, in declaration order.
inline constexpr Mutation kMutations[] = {
    Mutation::FlipBit, Mutation::SetByte,      Mutation::InsertBytes, Mutation::DeleteBytes,
    Mutation::Number,  Mutation::BinaryLength, Mutation::Truncate,    Mutation::DropMessage,
    Mutation::Reorder, Mutation::Repeat,       Mutation::Splice};

/// "flip-bit", "set-byte", "insert", "delete", "number", "binary-length",
/// "truncate", "drop", "reorder", "repeat", "splice".
std::string_view mutation_name(Mutation m);

/// The boundary values Number puts in place of a decimal number n.
std::vector<std::string> number_replacements(std::string_view n);

/// Mutations, reproducible from a seed.
class Mutator {
 public:
  explicit Mutator(std::uint64_t seed) : rng_(seed) {}
  /// A mutant of parent made by one mutation chosen at random (one that can
  /// apply and changes it; InsertBytes when none else does), Number and
  /// BinaryLength three times as often as each other one; used says which.
  /// others: inputs to splice from (the same port's only).
  TcpInput mutate(const TcpInput& parent, const std::vector<TcpInput>& others, Mutation& used);
  /// parent with mutation m applied; unchanged when m cannot apply.
  TcpInput apply(Mutation m, const TcpInput& parent, const std::vector<TcpInput>& others);
  /// A number in [0, n) (0 when n is 0).
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : rng_() % n; }

 private:
  std::string random_bytes(std::size_t n);
  std::mt19937_64 rng_;
};

}  // namespace sandmine::explore::generate
