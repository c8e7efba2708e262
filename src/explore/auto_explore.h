#pragma once
// The `auto` steps of a mining run (docs/explore-auto.md). The spec's own
// steps before an auto step are watched on the wire: their client traffic is
// captured on the container's loopback, one capture a step (a restart gives
// the container a new network namespace, which the next capture joins). At the auto step
// a generator drives the run's container; the run records each generated step
// as a step of its own (snapshot, ledger) and tells the generator what it
// added, until a budget, the quiet rule or the generator itself stops it.

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "explore/container_run.h"
#include "explore/generate/capture.h"
#include "explore/generate/generator.h"
#include "explore/generate/target.h"
#include "spec/spec.h"
#include "trace/trace.h"

namespace sandmine::explore {

/// Whether spec explores by itself somewhere (an auto explore step).
bool has_auto_step(const spec::Spec& spec);

/// The generator's options for an auto step: its budget, quiet rule, step
/// timeout, parts, pages, seed and health check (the spec's, or the image's
/// Healthcheck that resolving the spec put there), and the captured traffic.
generate::GenerateOptions generate_options(const spec::AutoExplore& step,
                                           std::vector<generate::TcpStream> traffic);

class AutoExplorer {
 public:
  /// Records one generated step as the run records any step: runs body,
  /// snapshots the recorder, and returns what the step added to the run;
  /// nothing when the step failed (the run stops there).
  using RecordStep = std::function<std::optional<generate::Feedback>(
      const std::string& name, const std::function<StepOutcome()>& body)>;

  /// auto_steps: how many auto steps the run will run; the traffic of the
  /// spec's own steps is captured while one is still to come.
  AutoExplorer(ContainerRun& run, std::size_t auto_steps, std::function<void(const std::string&)> say);
  ~AutoExplorer();
  AutoExplorer(const AutoExplorer&) = delete;
  AutoExplorer& operator=(const AutoExplorer&) = delete;

  /// Before one of the spec's own steps (not auto): starts capturing on the
  /// container's loopback unless a capture runs or none is wanted.
  void before_step();
  /// After one: ends its capture and keeps its client streams (a capture
  /// that lost packets keeps none, and says so).
  void after_step(const spec::Step& step);

  /// Runs auto step: generated steps, each recorded by record, until the
  /// generator stops, a step fails or Ctrl-C. Returns how it went.
  trace::AutoRecord run(const spec::Step& step, const RecordStep& record);

 private:
  void end_capture(const std::string& step);

  ContainerRun& run_;
  std::size_t auto_left_;
  std::function<void(const std::string&)> say_;
  std::unique_ptr<generate::TcpCapture> capture_;
  bool capture_failed_ = false;
  std::vector<generate::TcpStream> traffic_;
  std::set<std::string> names_;  // generated names given so far in the run
};

}  // namespace sandmine::explore
