#include "explore/miner.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include "engine/runc.h"
#include "image/image.h"
#include "sys/command.h"
#include "sys/files.h"
#include "sys/interrupt.h"
#include "sys/net.h"
#include "syscalls/syscalls.h"
#include "trace/ebpf_recorder.h"

namespace sandmine::explore {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string where(const spec::Spec& spec, int line) { return spec.file + ":" + std::to_string(line); }

std::string last_line(const std::string& text) {
  sys::CommandResult r;
  r.output = text;
  return r.last_line();
}

// One mining run's moving parts. Members are destroyed in reverse order: the
// container goes before the recorder's target.
class Run {
 public:
  Run(const spec::Spec& spec, const MineOptions& options) : spec_(spec), options_(options) {}

  Result<MineResult> go() {
    MineResult result;
    auto engine = engine::make_engine(options_.engine);
    if (!engine) return engine.error();
    engine_ = std::move(*engine);
    auto t_image = Clock::now();
    auto image = prepare_image();
    if (!image) return image.error();
    result.image_seconds = seconds_since(t_image);

    auto rec = trace::EbpfRecorder::open();
    if (!rec) return rec.error();
    recorder_ = std::move(*rec);
    auto target = recorder_->add_target(spec_.name);
    if (!target) return target.error();
    target_ = *target;
    // Ctrl-C kills the container at once; the loop then stops and what was
    // recorded is kept.
    std::string kill_path = target_->cgroup.path() + "/cgroup.kill";
    kill_fd_.reset(::open(kill_path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!kill_fd_.valid()) return errno_error("cannot open " + kill_path);
    sys::arm_interrupt_kill(kill_fd_.get());

    container_spec_ = {.name = "sandmine-" + spec_.name + "-" + std::to_string(::getpid()),
                       .command = spec_.command,
                       .env = spec_.env,
                       .user = spec_.user,
                       .workdir = spec_.workdir,
                       .rootfs = image->rootfs,
                       .image = image->ref,
                       .cgroup_parent = target_->cgroup.relative_path(),
                       .log_file = options_.work_dir + "/container.log",
                       .work_dir = options_.work_dir};
    // One line per step: start, the explore steps, stop.
    total_steps_ = spec_.explore.size() + 2;
    start_ = Clock::now();
    start_ns_ = trace::monotonic_ns();

    bool ok = step("start", "start", [&] { return start_container(); }, result);
    for (const auto& s : spec_.explore) {
      if (!ok || sys::interrupt_signal()) break;
      ok = step(s.name, "explore", [&] { return run_step(s); }, result);
    }
    if (container_) step("stop", "stop", [&] { return stop_container(); }, result);
    container_.reset();
    sys::arm_interrupt_kill(-1);
    result.mining_seconds = seconds_since(start_);
    result.failed = !result.failure.empty() || sys::interrupt_signal() != 0;
    if (sys::interrupt_signal() && result.failure.empty()) result.failure = "interrupted";

    auto counts = recorder_->snapshot(*target_);
    if (!counts) return counts.error();
    if (auto st = recorder_->health(); !st) return st.error();
    (void)recorder_->remove_target(target_);
    result.trace = make_trace(*counts, image->id, result);
    return result;
  }

 private:
  // What the engine runs: a root file system (runc) or a reference in its
  // store (docker, podman: imported once from the built root file system).
  struct Prepared {
    std::string rootfs, ref, id;
  };
  Result<Prepared> prepare_image() {
    std::string client = engine_->image_client();
    if (auto* ref = std::get_if<spec::RefImage>(&spec_.image)) {
      if (client.empty())
        return Error{"spec " + spec_.file + ": image.ref needs --engine docker (runc runs a root file system)", EINVAL};
      return Prepared{"", ref->ref, ref->ref};
    }
    auto rootfs = image::build(spec_.image, {.name = spec_.name,
                                             .cache_dir = options_.cache_dir.empty() ? image::kDefaultCacheDir
                                                                                     : options_.cache_dir,
                                             .progress = options_.progress});
    if (!rootfs) return rootfs.error();
    Prepared p{rootfs->dir, "", rootfs->hash};
    if (!client.empty()) {
      auto ref = image::import_into(client, *rootfs, spec_.name, options_.progress);
      if (!ref) return ref.error();
      p.ref = *ref;
    }
    return p;
  }

  // Runs one step, then snapshots the target: what is new was first seen in it.
  template <class F>
  bool step(const std::string& name, const std::string& phase, F&& body, MineResult& result) {
    ++step_index_;
    auto t = Clock::now();
    StepOutcome outcome = body();
    outcome.name = name;
    outcome.phase = phase;
    trace::StepRecord rec{.name = name, .phase = phase};
    rec.started_ms = std::chrono::duration<double, std::milli>(t - start_).count();
    rec.duration_ms = std::chrono::duration<double, std::milli>(Clock::now() - t).count();
    if (auto counts = recorder_->snapshot(*target_)) {
      for (const auto& [key, tally] : counts->armed)
        if (seen_.insert(key).second) {
          first_step_[key] = name;
          rec.new_syscalls.push_back(key.arch + ":" + syscalls::name_of(key.arch, key.nr).value_or("#" + std::to_string(key.nr)));
        }
      rec.total = seen_.size();
    }
    steps_.push_back(rec);
    if (options_.progress)
      options_.progress(fmt::format("[{}/{}] {} {}: {} ({:.2f} s, +{} syscalls, {} total, {:.1f} s elapsed)", step_index_,
                                    total_steps_, phase, name, outcome.ok ? "ok" : "FAILED: " + outcome.failure,
                                    rec.duration_ms / 1000, rec.new_syscalls.size(), rec.total, seconds_since(start_)));
    bool ok = outcome.ok;
    if (!ok && result.failure.empty()) result.failure = outcome.failure;
    result.steps.push_back(std::move(outcome));
    return ok;
  }

  StepOutcome failed(std::string why) { return StepOutcome{.ok = false, .failure = std::move(why)}; }

  StepOutcome start_container() {
    auto c = engine_->start(container_spec_);
    if (!c) return failed(c.error().message);
    container_ = std::move(*c);
    if (spec_.ready) {
      if (auto st = wait_ready(*spec_.ready); !st) return failed(st.error().message);
    }
    return {};
  }

  Status wait_ready(const spec::ReadyProbe& probe) {
    auto deadline = Clock::now() + probe.timeout;
    std::string last = "never checked";
    while (Clock::now() < deadline) {
      if (sys::interrupt_signal()) return Error{"interrupted"};
      if (!container_->running())
        return Error{"the container exited before it was ready (" + last_line(log()) + ")"};
      auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      milliseconds attempt = std::min(left, milliseconds(1000));
      switch (probe.kind) {
        case spec::ReadyProbe::Kind::Tcp: {
          auto fd = sys::connect_in_netns(container_->netns_fd(), probe.port, attempt);
          if (fd) return {};
          last = fd.error().message;
          break;
        }
        case spec::ReadyProbe::Kind::Http: {
          auto code = sys::http_status_in_netns(container_->netns_fd(), probe.port, probe.path, attempt);
          if (code && *code >= 200 && *code < 400) return {};
          last = code ? "HTTP " + std::to_string(*code) : code.error().message;
          break;
        }
        case spec::ReadyProbe::Kind::Exec: {
          auto r = container_->exec(probe.exec, attempt);
          if (r && r->exit_code == 0) return {};
          last = r ? "exit " + std::to_string(r->exit_code) + ": " + r->last_line() : r.error().message;
          break;
        }
        case spec::ReadyProbe::Kind::Log: {
          if (std::regex_search(log(), std::regex(probe.log))) return {};
          last = "no line matched";
          break;
        }
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    return Error{fmt::format("spec {}: ready: not ready after {:.1f} s ({})", where(spec_, probe.line),
                             probe.timeout.count() / 1000.0, last)};
  }

  StepOutcome run_step(const spec::Step& s) {
    using Kind = spec::Step::Kind;
    std::string at = "spec " + where(spec_, s.line) + ": step " + s.name + ": ";
    switch (s.kind) {
      case Kind::Run:
      case Kind::Exec: {
        auto r = s.kind == Kind::Run
                     ? sys::run_command({"/bin/sh", "-c", s.run}, {.timeout = s.timeout, .netns_fd = container_->netns_fd()})
                     : container_->exec(s.exec, s.timeout);
        if (!r) return failed(at + r.error().message);
        StepOutcome o;
        o.output = r->output;
        if (r->timed_out) return failed(at + fmt::format("timed out after {:.1f} s", s.timeout.count() / 1000.0));
        if (r->exit_code != s.expect)
          return failed(at + fmt::format("exit {} (expected {}){}", r->exit_code, s.expect,
                                         r->last_line().empty() ? "" : ": " + r->last_line()));
        if (!container_->running()) return failed(at + "the container exited (" + last_line(log()) + ")");
        return o;
      }
      case Kind::Signal: {
        if (auto st = container_->signal(s.signal); !st) return failed(at + st.error().message);
        std::this_thread::sleep_for(milliseconds(200));  // let the handler run before the snapshot
        if (!container_->running()) return failed(at + "the container exited on the signal (" + last_line(log()) + ")");
        return {};
      }
      case Kind::Restart: {
        auto stopped = container_->stop(spec_.stop.signal, spec_.stop.timeout);
        if (!stopped) return failed(at + stopped.error().message);
        container_.reset();
        return start_container();
      }
      case Kind::Sleep:
        std::this_thread::sleep_for(s.sleep);
        return {};
    }
    return failed(at + "unknown step kind");
  }

  StepOutcome stop_container() {
    auto stopped = container_->stop(spec_.stop.signal, spec_.stop.timeout);
    if (!stopped) return failed(stopped.error().message);
    if (!*stopped)
      return StepOutcome{.ok = true,
                         .failure = fmt::format("did not stop within {:.1f} s of signal {}; killed",
                                                spec_.stop.timeout.count() / 1000.0, spec_.stop.signal)};
    return {};
  }

  std::string log() const { return container_ ? container_->logs() : ""; }

  trace::Trace make_trace(const trace::Counts& counts, const std::string& image_hash, const MineResult& result) {
    trace::Trace t;
    t.backend = "ebpf";
    t.target.kind = "container";
    t.target.engine = options_.engine;
    t.target.image = image_hash;
    t.target.command = spec_.command;
    t.target.duration_ms = result.mining_seconds * 1000;
    t.syscalls = trace::entries_from(counts.armed, start_ns_);
    for (auto& e : t.syscalls) {
      auto it = first_step_.find({e.arch, e.nr});
      e.first_step = it == first_step_.end() ? "stop" : it->second;
    }
    t.unarmed = trace::entries_from(counts.unarmed, start_ns_);
    t.steps = steps_;
    if (result.failed) {
      t.partial = true;
      t.partial_reason = sys::interrupt_signal() ? "interrupted" : "a step failed: " + result.failure;
    }
    return t;
  }

  const spec::Spec& spec_;
  const MineOptions& options_;
  std::unique_ptr<trace::EbpfRecorder> recorder_;
  trace::Target* target_ = nullptr;
  sys::UniqueFd kill_fd_;
  std::unique_ptr<engine::Engine> engine_;
  engine::ContainerSpec container_spec_;
  std::unique_ptr<engine::Container> container_;
  Clock::time_point start_;
  std::uint64_t start_ns_ = 0;
  std::size_t step_index_ = 0, total_steps_ = 0;
  std::set<trace::SyscallKey> seen_;
  std::map<trace::SyscallKey, std::string> first_step_;
  std::vector<trace::StepRecord> steps_;
};

}  // namespace

Result<MineResult> mine(const spec::Spec& spec, const MineOptions& options) {
  Run run(spec, options);
  auto result = run.go();
  sys::arm_interrupt_kill(-1);
  return result;
}

}  // namespace sandmine::explore
