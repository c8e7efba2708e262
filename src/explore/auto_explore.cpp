#include "explore/auto_explore.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "explore/generate/container_target.h"
#include "explore/generate/generator.h"
#include "sys/interrupt.h"

namespace sandmine::explore {

namespace {

using Clock = std::chrono::steady_clock;

bool has_part(const spec::AutoExplore& a, const char* part) {
  return std::find(a.parts.begin(), a.parts.end(), part) != a.parts.end();
}

}  // namespace

bool has_auto_step(const spec::Spec& spec) {
  return std::any_of(spec.explore.begin(), spec.explore.end(),
                     [](const spec::Step& s) { return s.kind == spec::Step::Kind::Auto; });
}

generate::GenerateOptions generate_options(const spec::AutoExplore& a,
                                           std::vector<generate::TcpStream> traffic) {
  generate::GenerateOptions o;
  o.budget = std::chrono::duration_cast<std::chrono::milliseconds>(a.budget);
  o.quiet = a.quiet;
  o.step_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(a.step_timeout);
  o.lifecycle = has_part(a, "lifecycle");
  o.http = has_part(a, "http");
  o.tcp = has_part(a, "tcp");
  o.edges = has_part(a, "edges");
  o.max_pages = a.max_pages;
  o.seed = static_cast<std::uint64_t>(a.seed);
  o.health_check = a.health;
  o.traffic = std::move(traffic);
  return o;
}

AutoExplorer::AutoExplorer(ContainerRun& run, std::size_t auto_steps,
                           std::function<void(const std::string&)> say)
    : run_(run), auto_left_(auto_steps), say_(std::move(say)) {}

AutoExplorer::~AutoExplorer() = default;

void AutoExplorer::before_step() {
  if (capture_ || capture_failed_ || auto_left_ == 0 || !run_.container()) return;
  // Every TCP connection on the loopback: which ports serve is known only
  // once the generator has read the listening sockets.
  auto capture = generate::TcpCapture::start(run_.container()->netns_fd());
  if (!capture) {
    capture_failed_ = true;
    say_("auto: the spec's own traffic is not captured (the fuzzer has no seeds): " +
         capture.error().message);
    return;
  }
  capture_ = std::move(*capture);
}

void AutoExplorer::after_step(const spec::Step& step) {
  // One capture a step: a step whose capture lost packets (a large value
  // filled the kernel's buffer) loses its own streams only; and a restart
  // gives the container a new network namespace, which the next step's
  // capture joins.
  end_capture(step.name);
}

void AutoExplorer::end_capture(const std::string& step) {
  if (!capture_) return;
  auto streams = capture_->stop();
  capture_.reset();
  if (!streams) {
    say_("auto: the traffic of step " + step +
         " is not kept as the fuzzer's seeds: " + streams.error().message);
    return;
  }
  traffic_.insert(traffic_.end(), streams->begin(), streams->end());
}

trace::AutoRecord AutoExplorer::run(const spec::Step& step, const RecordStep& record) {
  end_capture("before " + step.name);
  if (auto_left_ > 0) --auto_left_;
  const auto& a = step.generate;
  trace::AutoRecord out{.step = step.name,
                        .budget_s = std::chrono::duration<double>(a.budget).count(),
                        .captured = traffic_.size()};
  engine::Container* container = run_.container();
  if (!container) {
    out.stop = "failed";
    out.detail = "no container is running";
    return out;
  }
  generate::ContainerTarget target(*container, {.restart = [this] { return run_.restart(); },
                                                .syscalls = [this] { return run_.calls_so_far(); },
                                                .cgroup_dir = run_.cgroup_dir(),
                                                .stop_signal = run_.spec().stop.signal});
  say_(
      fmt::format("auto {}: exploring by itself for at most {:.0f} s ({} generated steps in a row adding "
                  "nothing stop it; {} client connections of the spec's own steps to mutate)",
                  step.name, out.budget_s, a.quiet, traffic_.size()));
  auto source = generate::make_generator(target, generate_options(a, traffic_));
  std::optional<Clock::time_point> first;
  Clock::time_point last_end{};
  std::string failure;
  while (!sys::interrupt_signal()) {
    auto generated = source->next();
    if (!generated) break;
    std::string name = generated->name;
    for (int n = 2; !names_.insert(name).second; ++n) name = generated->name + " #" + std::to_string(n);
    if (!first) first = Clock::now();
    auto added = record(name, [&] { return generated->body(target); });
    last_end = Clock::now();
    ++out.steps;
    if (!added) {
      failure = "the generated step " + name + " failed";
      break;
    }
    source->feedback(*added);
  }
  if (first) out.seconds = std::chrono::duration<double>(last_end - *first).count();
  if (sys::interrupt_signal()) {
    out.stop = "interrupted";
    out.detail = fmt::format("interrupted after {} generated steps", out.steps);
  } else if (!failure.empty()) {
    out.stop = "failed";
    out.detail = failure;
  } else {
    out.stop = generate::to_string(source->stop_reason());
    out.detail = source->stop_detail();
  }
  say_(fmt::format("auto {}: stopped by {}: {}", step.name, out.stop, out.detail));
  return out;
}

}  // namespace sandmine::explore
