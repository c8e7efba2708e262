#pragma once
// How complete a mining run is: the discovery curve, and from the per-step
// incidence (which syscalls each step used) the sample coverage and the
// Chao2 estimate of how many syscalls the workload uses in all.
//
// The explore steps are the sampling units; start and stop are not (each
// happens once per run, so a syscall only they make says nothing about
// undersampling): what they use counts as observed, never as a singleton.
// docs/coverage.md gives the formulas and their limits.

#include <optional>
#include <string>
#include <vector>

#include "trace/trace.h"

namespace sandmine::explore {

/// One point of the discovery curve: a step and what the run had seen by its end.
struct DiscoveryPoint {
  std::string step;
  std::string phase;
  double end_ms = 0;           ///< since the container was started
  std::size_t added = 0;       ///< syscalls first seen in this step
  std::size_t cumulative = 0;  ///< distinct syscalls seen by the end of it
};

/// The steps in order, with what each added and the running total.
std::vector<DiscoveryPoint> discovery_curve(const std::vector<trace::StepRecord>& steps);

/// Incidence statistics of explore steps. q[k] counts syscalls used in exactly
/// k of them; the rest is computed from t, u, q1 and q2 (docs/coverage.md):
///   f0    = (t-1)/t * q1^2 / (2 q2)        when q2 > 0
///         = (t-1)/t * q1 (q1-1) / 2        when q2 = 0
///   C     = 1 - (q1/u) * t f0 / (t f0 + q1)   (1 when q1 = 0)
///   Chao2 = observed + f0
/// With q2 > 0 the coverage is Chao & Jost's (T-1)Q1 / ((T-1)Q1 + 2Q2) form.
/// Needs t >= 2 and u > 0; otherwise only the counts are filled in and note says why.
trace::CoverageEstimate estimate_coverage(const std::vector<trace::StepRecord>& steps);

/// The same from an incidence table: one set of syscall names per explore step,
/// and how many distinct syscalls the whole run observed (at least the union).
trace::CoverageEstimate estimate_coverage(const std::vector<std::vector<std::string>>& explore_incidence,
                                          std::size_t observed);

/// The sampling unit a step belongs to for the family estimate: a
/// hand-written step is a unit of its own; a generated step ("auto/...")
/// belongs to its family, its name up to the first space without a " #N"
/// suffix: every mutant of a port is "auto/tcp:6379/mutant", every method
/// shape "auto/http:80/method", every session of a protocol
/// "auto/tcp:11211/memcached", each signal "auto/signal/SIGHUP" alone.
std::string step_family(const std::string& step_name);

/// Chao2 and the sample coverage as estimate_coverage, with step families
/// as the sampling units (a unit's incidence: every syscall one of its steps
/// used). Generated steps of one family are near replicates of each other;
/// counted one by one they make Q1 small and Q2 large and the estimate
/// says little is unseen when little was tried (docs/coverage.md).
trace::CoverageEstimate estimate_coverage_by_family(const std::vector<trace::StepRecord>& steps);

}  // namespace sandmine::explore
