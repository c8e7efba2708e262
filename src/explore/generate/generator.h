#pragma once
// Generated exploration: the steps sandmine derives from the running
// container by itself (docs/explore-auto.md). make_generator() gives a
// StepSource for the run loop:
//
//   auto source = make_generator(target, options);
//   while (auto step = source->next()) {
//     StepOutcome o = step->body(target);      // a step of its own in trace.json
//     ... snapshot the recorder, as after every step ...
//     source->feedback({.new_syscalls = ...});
//   }
//   say(source->stop_detail());

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "explore/generate/capture.h"
#include "explore/generate/quiescence.h"
#include "explore/generate/target.h"

namespace sandmine::explore::generate {

/// What to generate and for how long.
struct GenerateOptions {
  /// The time from the first next() after which no step starts, and no step
  /// runs past (each step's deadline is at most this).
  std::chrono::milliseconds budget{120000};
  /// An open-ended part (the fuzzer) drops out once this many of its own
  /// steps in a row added nothing (no new syscall, no new argument value);
  /// the planned parts run to their end. 0: only the budget stops it.
  int quiet = 40;
  /// The longest one generated step may take.
  std::chrono::milliseconds step_timeout{10000};
  /// When a step's effect has run its course.
  QuietRule quiescence;
  /// Which parts to generate (docs/explore-auto.md).
  bool lifecycle = true;  ///< caught signals, pause and resume, health check, warm restart
  bool http = true;       ///< crawl and request shapes on every HTTP port
  bool tcp = true;        ///< replay and mutate the captured traffic
  bool edges = true;      ///< connection resets, the open-file limit, a full writable layer
  /// Pages the crawler fetches per HTTP port at most (forms included).
  int max_pages = 30;
  /// How long a pause step keeps the container frozen.
  std::chrono::milliseconds pause_for{500};
  /// The image's health check command (run inside the container); empty: none.
  std::vector<std::string> health_check;
  /// The client traffic of the spec's own run steps (TcpCapture): the fuzzer's seeds.
  std::vector<TcpStream> traffic;
  /// Makes the mutations reproducible.
  std::uint64_t seed = 1;
};

/// The generator for target. It reads the target's /proc (signals, listening
/// sockets) when it first needs them, from next().
std::unique_ptr<StepSource> make_generator(Target& target, GenerateOptions options);

}  // namespace sandmine::explore::generate
