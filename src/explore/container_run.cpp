#include "explore/container_run.h"

#include <unistd.h>

#include <fmt/format.h>

#include <thread>

#include "explore/mined_from.h"
#include "sys/cgroup.h"
#include "sys/files.h"
#include "sys/interrupt.h"
#include "trace/binaries.h"
#include "trace/ebpf_recorder.h"

namespace sandmine::explore {

namespace {

using Clock = std::chrono::steady_clock;

// Every call the recorder counted for the watched cgroup, armed or not.
std::uint64_t total_calls(const trace::Counts& counts) {
  std::uint64_t n = 0;
  for (const auto& [key, tally] : counts.armed) n += tally.count;
  for (const auto& [key, tally] : counts.unarmed) n += tally.count;
  return n;
}

}  // namespace

// Members are destroyed in reverse order: the container (driver) first, then
// the engine, the interrupt's kill file, the cgroup or recorder target, and
// the recorder last.
struct ContainerRun::Impl {
  RunOptions options;
  std::shared_ptr<trace::EbpfRecorder> recorder;
  trace::Target* target = nullptr;
  std::optional<sys::Cgroup> group;  // Watching::Nothing
  std::optional<trace::BinaryLog> binaries;
  sys::KillSwitch kill_switch;
  std::unique_ptr<engine::Engine> engine;
  std::unique_ptr<Driver> driver;
  profile::MinedFrom started_from;  // set by the first start
  bool start_read = false;

  const sys::Cgroup& cgroup() const { return target ? target->cgroup : *group; }

  Status need_recorder(const char* what) const {
    if (!recorder) return Error{std::string("this run records nothing, so it has no ") + what};
    return {};
  }

  ~Impl() {
    driver.reset();
    kill_switch.disarm();
    if (recorder && target) (void)recorder->remove_target(target);
    if (group) (void)group->remove();
  }
};

ContainerRun::ContainerRun(const spec::Spec& spec, std::unique_ptr<Impl> impl)
    : spec_(spec), impl_(std::move(impl)) {}

ContainerRun::~ContainerRun() = default;

Result<std::unique_ptr<ContainerRun>> ContainerRun::open(const spec::Spec& spec, const RunOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  auto engine = engine::make_engine(options.engine, options.engine_options);
  if (!engine) return engine.error();
  impl->engine = std::move(*engine);

  auto t_image = Clock::now();
  auto image = prepare_image(spec, *impl->engine, options.cache_dir, options.progress);
  if (!image) return image.error();
  double image_seconds = std::chrono::duration<double>(Clock::now() - t_image).count();

  std::string name = spec.name + "-" + options.purpose;
  if (options.watching == Watching::Nothing) {
    // Its own group, so nothing else shares it and Ctrl-C kills exactly it.
    auto mount = sys::cgroup2_mount();
    if (!mount) return mount.error();
    (void)sys::remove_stale_groups(*mount, "sandmine-" + options.purpose + "-");
    auto group =
        sys::Cgroup::create(*mount, "sandmine-" + options.purpose + "-" + std::to_string(::getpid()));
    if (!group) return group.error();
    impl->group.emplace(std::move(*group));
  } else {
    if (options.recorder) {
      impl->recorder = options.recorder;
    } else {
      auto rec = trace::EbpfRecorder::open({.violations = options.watching == Watching::Violations});
      if (!rec) return rec.error();
      impl->recorder = std::move(*rec);
    }
    auto target = impl->recorder->add_target(name);
    if (!target) return target.error();
    impl->target = *target;
    // Mapped paths are taken inside the image's root file system.
    impl->binaries.emplace(image->rootfs);
  }
  auto armed = sys::KillSwitch::arm(impl->cgroup().path());
  if (!armed) return armed.error();
  impl->kill_switch = std::move(*armed);

  auto run = std::unique_ptr<ContainerRun>(new ContainerRun(spec, std::move(impl)));
  run->image_ = std::move(*image);
  run->image_seconds_ = image_seconds;
  return run;
}

StepOutcome ContainerRun::start(const ContainerOptions& c) {
  if (impl_->driver && impl_->driver->started())
    return StepOutcome{.ok = false, .failure = "a container of this run is still there"};
  std::string name = fmt::format("sandmine-{}-{}{}-{}", spec_.name, impl_->options.purpose,
                                 c.suffix.empty() ? "" : "-" + c.suffix, ::getpid());
  auto container = container_for(spec_, image_, name);
  container.profile = c.profile;
  container.seccomp = c.seccomp;
  container.cgroup_parent = impl_->cgroup().relative_path();
  container.log_file = impl_->options.work_dir + "/" + c.log_name;
  container.work_dir = impl_->options.work_dir;
  const bool first = !impl_->start_read;
  if (first) {
    impl_->started_from = {.name = spec_.name,
                           .engine = impl_->options.engine,
                           .image = image_.id,
                           .command = container.command,
                           .env = env_digests(container.env),
                           .config_files_note = "no recorder watched the container's start"};
    // What the container opens from its creation until it is ready.
    if (impl_->recorder)
      if (auto st = impl_->recorder->capture_opens(*impl_->target, true); !st)
        impl_->started_from.config_files_note =
            "the files it opened could not be noted: " + st.error().message;
  }
  impl_->driver = std::make_unique<Driver>(spec_, *impl_->engine, std::move(container));
  // A signal step ends once the signal was handled and the container is
  // quiet again, so what the handler did is counted in that step.
  impl_->driver->on_progress(impl_->options.progress);
  impl_->driver->on_signal(
      [this] { (void)wait_quiet(std::chrono::milliseconds(50), std::chrono::seconds(5)); });
  auto outcome = impl_->driver->start();
  if (first && impl_->recorder) {
    impl_->start_read = true;
    (void)impl_->recorder->capture_opens(*impl_->target, false);
    auto& from = impl_->started_from;
    auto opened = impl_->recorder->opened(*impl_->target);
    if (!opened)
      from.config_files_note = opened.error().message;
    else if (!started())
      from.config_files_note = "the container did not start";
    else {
      from.config_files_note.clear();
      from.config_files = config_files(*opened, impl_->driver->main_pid(), from.config_files_note);
    }
  }
  return outcome;
}

profile::MinedFrom ContainerRun::mined_from() const { return impl_->started_from; }

StepOutcome ContainerRun::run(const spec::Step& step) {
  if (!started())
    return StepOutcome{.ok = false, .failure = "step " + step.name + ": no container is running"};
  return impl_->driver->run(step);
}

StepOutcome ContainerRun::stop() {
  if (!impl_->driver) return {};
  return impl_->driver->stop();
}

Status ContainerRun::restart() {
  if (!started()) return Error{"no container is running to restart"};
  auto o = impl_->driver->run(spec::Step{.kind = spec::Step::Kind::Restart, .name = "restart"});
  if (!o.ok) return Error{o.failure};
  return {};
}

bool ContainerRun::started() const { return impl_->driver && impl_->driver->started(); }

void ContainerRun::remove() {
  if (impl_->driver) impl_->driver->remove();
}

engine::Container* ContainerRun::container() { return impl_->driver ? impl_->driver->container() : nullptr; }

Result<trace::Counts> ContainerRun::snapshot() {
  if (auto st = impl_->need_recorder("counts"); !st) return st.error();
  return impl_->recorder->snapshot(*impl_->target);
}

Status ContainerRun::watch(const trace::Watch& watch) {
  if (auto st = impl_->need_recorder("violations"); !st) return st.error();
  return impl_->recorder->watch(*impl_->target, watch);
}

Result<trace::Violations> ContainerRun::violations() {
  if (auto st = impl_->need_recorder("violations"); !st) return st.error();
  return impl_->recorder->violations(*impl_->target);
}

Status ContainerRun::health() const {
  if (!impl_->recorder) return {};
  return impl_->recorder->health();
}

void ContainerRun::sample_binaries() {
  if (impl_->binaries) impl_->binaries->sample(*impl_->target);
}

Result<std::vector<trace::BinaryRecord>> ContainerRun::binaries(std::uint64_t start_ns) {
  if (auto st = impl_->need_recorder("binaries"); !st) return st.error();
  return impl_->binaries->finish(*impl_->recorder, *impl_->target, start_ns);
}

Result<std::uint64_t> ContainerRun::cpu_usage_usec() const { return impl_->cgroup().cpu_usage_usec(); }

std::string ContainerRun::cgroup_dir() const { return impl_->cgroup().path(); }

std::optional<std::uint64_t> ContainerRun::calls_so_far() {
  if (!impl_->recorder) return std::nullopt;
  auto counts = snapshot();
  return counts ? std::optional(total_calls(*counts)) : std::nullopt;
}

bool ContainerRun::wait_quiet(std::chrono::milliseconds window, std::chrono::milliseconds limit) {
  // The recorder's count of calls, or else the CPU time: the container is
  // quiet once it stayed the same for a whole window.
  auto activity = [&]() -> std::optional<std::uint64_t> {
    if (impl_->recorder) return calls_so_far();
    auto usage = cpu_usage_usec();
    // Without a recorder, a millisecond of CPU per window is noise (timers).
    return usage ? std::optional(*usage / 1000) : std::nullopt;
  };
  const auto deadline = Clock::now() + limit;
  auto last = activity();
  auto since = Clock::now();
  while (Clock::now() < deadline && !sys::interrupt_signal()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto now = activity();
    if (!now || !last || *now != *last) {
      last = now;
      since = Clock::now();
      continue;
    }
    if (Clock::now() - since >= window) return true;
  }
  return false;
}

}  // namespace sandmine::explore
