#include "explore/driver.h"

#include <fmt/format.h>

#include <regex>
#include <thread>

#include "image/fetch.h"
#include "image/image.h"
#include "spec/image_config.h"
#include "sys/command.h"
#include "sys/interrupt.h"
#include "sys/net.h"
#include "sys/proc.h"

namespace sandmine::explore {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string where(const spec::Spec& spec, int line) { return spec.file + ":" + std::to_string(line); }

std::string last_line(const std::string& text) {
  sys::CommandResult r;
  r.output = text;
  return r.last_line();
}

// " (TEXT)", or nothing for no text.
std::string in_brackets(const std::string& text) { return text.empty() ? "" : " (" + text + ")"; }

StepOutcome failed(std::string why) { return StepOutcome{.ok = false, .failure = std::move(why)}; }

// Waits until sig is no longer pending for pid (the kernel delivered it, or
// the process is gone).
Status wait_signal_delivered(pid_t pid, int sig) {
  auto deadline = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < deadline) {
    if (sys::interrupt_signal()) return Error{"interrupted"};
    auto masks = sys::signal_masks(pid);
    if (!masks || !masks->is_pending(sig)) return {};  // gone counts as delivered
    std::this_thread::sleep_for(milliseconds(1));
  }
  return Error{
      fmt::format("signal {} still pending for process {} after 5 s (blocked by the process?)", sig, pid)};
}

}  // namespace

Result<spec::Spec> resolve_spec(const spec::Spec& spec, const std::string& engine,
                                const std::string& cache_dir,
                                const std::function<void(const std::string&)>& progress) {
  if (!spec::has_image_config(spec.image)) {
    if (!spec.args) return spec;
    spec::Spec out = spec;
    out.command.insert(out.command.end(), spec.args->begin(), spec.args->end());
    out.args.reset();
    return out;
  }
  if (!spec.image_digest.empty()) return spec;
  auto fetched =
      image::fetch(spec.image, {.name = spec.name,
                                .cache_dir = cache_dir.empty() ? image::kDefaultCacheDir : cache_dir,
                                .engine = engine,
                                .progress = progress});
  if (!fetched) return fetched.error();
  auto config = spec::parse_image_config(fetched->config);
  if (!config) return spec::spec_error(spec.file, spec.image_line, "image: " + config.error().message);
  spec::ImageFiles files;
  for (auto [path, text] : {std::pair{"/etc/passwd", &files.passwd}, std::pair{"/etc/group", &files.group}}) {
    auto content = image::read_image_file(fetched->rootfs, path);
    if (content)
      *text = std::move(*content);
    else if (content.error().errnum != ENOENT)
      return content.error();
  }
  auto out = spec::apply_image_config(spec, *config, files);
  if (!out) return out.error();
  out->image_digest = fetched->digest;
  return out;
}

Result<PreparedImage> prepare_image(const spec::Spec& spec, const engine::Engine& engine,
                                    const std::string& cache_dir,
                                    const std::function<void(const std::string&)>& progress) {
  std::string client = engine.image_client();
  if (spec::has_image_config(spec.image)) {
    auto fetched =
        image::fetch(spec.image, {.name = spec.name,
                                  .cache_dir = cache_dir.empty() ? image::kDefaultCacheDir : cache_dir,
                                  .engine = std::string(engine.name()),
                                  .progress = progress});
    if (!fetched) return fetched.error();
    if (!spec.image_digest.empty() && fetched->digest != spec.image_digest)
      return Error{"spec " + spec.file + ": the image is now " + fetched->digest + ", not " +
                       spec.image_digest + " as when its config was read; run again",
                   EAGAIN};
    PreparedImage p{fetched->rootfs, "", fetched->digest};
    if (!client.empty()) {
      auto ref = image::load_into(client, *fetched, spec.name, progress);
      if (!ref) return ref.error();
      p.ref = *ref;
    }
    return p;
  }
  auto rootfs =
      image::build(spec.image, {.name = spec.name,
                                .cache_dir = cache_dir.empty() ? image::kDefaultCacheDir : cache_dir,
                                .progress = progress});
  if (!rootfs) return rootfs.error();
  PreparedImage p{rootfs->dir, "", rootfs->hash};
  if (!client.empty()) {
    auto ref = image::import_into(client, *rootfs, spec.name, progress);
    if (!ref) return ref.error();
    p.ref = *ref;
  }
  return p;
}

engine::ContainerSpec container_for(const spec::Spec& spec, const PreparedImage& image,
                                    const std::string& name) {
  return {.name = name,
          .command = spec.command,
          .env = spec.env,
          .user = spec.user,
          .additional_gids = spec.additional_gids,
          .workdir = spec.workdir,
          .rootfs = image.rootfs,
          .image = image.ref};
}

StepOutcome Driver::start() {
  auto c = engine_.start(container_spec_);
  if (!c) return failed(c.error().message);
  container_ = std::move(*c);
  if (spec_.ready) {
    if (progress_)
      progress_(fmt::format("waiting until {} is ready (up to {:.0f} s)", spec_.name,
                            std::chrono::duration<double>(spec_.ready->timeout).count()));
    if (auto st = wait_ready(*spec_.ready); !st) return failed(st.error().message);
  }
  return {};
}

Status Driver::wait_ready(const spec::ReadyProbe& probe) {
  auto deadline = Clock::now() + probe.timeout;
  std::string last = "never checked";
  while (Clock::now() < deadline) {
    if (sys::interrupt_signal()) return Error{"interrupted"};
    if (!container_->running())
      return Error{"the container exited before it was ready (" + last_line(logs()) + ")"};
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
        if (std::regex_search(logs(), std::regex(probe.log))) return {};
        last = "no line matched";
        break;
      }
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  return Error{fmt::format("spec {}: ready: not ready after {:.1f} s ({})", where(spec_, probe.line),
                           probe.timeout.count() / 1000.0, last)};
}

StepOutcome Driver::run(const spec::Step& s) {
  using Kind = spec::Step::Kind;
  std::string at = "spec " + where(spec_, s.line) + ": step " + s.name + ": ";
  switch (s.kind) {
    case Kind::Run:
    case Kind::Exec: {
      auto r = s.kind == Kind::Run
                   ? sys::run_command({"/bin/sh", "-c", s.run},
                                      {.timeout = s.timeout, .netns_fd = container_->netns_fd()})
                   : container_->exec(s.exec, s.timeout);
      if (!r) return failed(at + r.error().message);
      // The output goes to mine.log whether the step passed or not.
      auto with_output = [&](StepOutcome o) {
        o.output = r->output;
        return o;
      };
      if (r->timed_out)
        return with_output(failed(at + fmt::format("timed out after {:.1f} s", s.timeout.count() / 1000.0)));
      if (r->exit_code != s.expect)
        return with_output(failed(at + fmt::format("exit {} (expected {}){}", r->exit_code, s.expect,
                                                   r->last_line().empty() ? "" : ": " + r->last_line())));
      if (!container_->running())
        return with_output(failed(at + "the container exited" + in_brackets(last_line(logs()))));
      return with_output({});
    }
    case Kind::Signal: {
      if (auto st = container_->signal(s.signal); !st) return failed(at + st.error().message);
      // The step is the handler's: it ends once the signal is no longer
      // pending (delivered), and then what the handler set off is done.
      auto delivered = wait_signal_delivered(container_->main_pid(), s.signal);
      if (delivered && settle_) settle_();
      if (!container_->running())
        return failed(
            at + "the container exited on the signal" + in_brackets(last_line(logs())) +
            "; a signal that stops it belongs in stop or in a restart step (restart: {signal: SIG})");
      if (!delivered) return StepOutcome{.ok = true, .failure = at + delivered.error().message};
      return {};
    }
    case Kind::Restart: {
      // The same container, as `docker restart`: what it wrote before stays.
      if (auto st = container_->restart(s.restart_signal ? s.restart_signal : spec_.stop.signal,
                                        spec_.stop.timeout);
          !st)
        return failed(at + st.error().message);
      if (spec_.ready) {
        if (auto st = wait_ready(*spec_.ready); !st)
          return failed(st.error().message + " (after the restart)");
      }
      return {};
    }
    case Kind::Auto:
      return failed(at + "an auto step is run by the mining loop (explore::generate), not by the driver");
    case Kind::Sleep: {
      // In slices: Ctrl-C and a container that dies end it early.
      auto until = Clock::now() + s.sleep;
      while (Clock::now() < until) {
        if (sys::interrupt_signal()) return failed(at + "interrupted");
        if (!container_->running()) return failed(at + "the container exited (" + last_line(logs()) + ")");
        std::this_thread::sleep_for(std::min<Clock::duration>(milliseconds(50), until - Clock::now()));
      }
      return {};
    }
  }
  return failed(at + "unknown step kind");
}

StepOutcome Driver::stop() {
  if (!container_) return {};
  auto stopped = container_->stop(spec_.stop.signal, spec_.stop.timeout);
  if (!stopped) return failed(stopped.error().message);
  if (!*stopped)
    return StepOutcome{.ok = true,
                       .failure = fmt::format("did not stop within {:.1f} s of signal {}; killed",
                                              spec_.stop.timeout.count() / 1000.0, spec_.stop.signal)};
  return {};
}

}  // namespace sandmine::explore
