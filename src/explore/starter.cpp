#include "explore/starter.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "explore/driver.h"
#include "image/fetch.h"
#include "sys/cgroup.h"
#include "sys/files.h"
#include "sys/interrupt.h"

namespace sandmine::explore {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// A YAML scalar for any string: a JSON string is a YAML double-quoted scalar.
std::string yaml_quoted(const std::string& s) { return nlohmann::json(s).dump(); }

std::string yaml_list(const std::vector<std::string>& list) { return nlohmann::json(list).dump(); }

std::string duration_text(spec::Duration d) {
  auto ms = d.count();
  return ms % 1000 == 0 ? fmt::format("{}s", ms / 1000) : fmt::format("{}ms", ms);
}

std::string signal_text(int sig) {
  const char* name = sig < SIGRTMIN ? sigabbrev_np(sig) : nullptr;
  return name ? name : std::to_string(sig);
}

// The probe as a YAML flow mapping, and what it came from.
std::string probe_lines(const spec::ReadyProbe& p, const std::string& why) {
  std::string probe;
  switch (p.kind) {
    case spec::ReadyProbe::Kind::Tcp:
      probe = fmt::format("  tcp: {}", p.port);
      break;
    case spec::ReadyProbe::Kind::Http:
      probe = fmt::format("  http: {{port: {}, path: {}}}", p.port, yaml_quoted(p.path));
      break;
    case spec::ReadyProbe::Kind::Exec:
      probe = "  exec: " + yaml_list(p.exec);
      break;
    case spec::ReadyProbe::Kind::Log:
      probe = "  log: " + yaml_quoted(p.log);
      break;
  }
  return "ready:\n" + probe + (why.empty() ? "" : "  # " + why) + "\n  timeout: " + duration_text(p.timeout) +
         "\n";
}

std::string image_lines(const spec::Image& image) {
  if (const auto* r = std::get_if<spec::RefImage>(&image))
    return "image:\n  ref: " + yaml_quoted(r->ref) + "\n";
  if (const auto* o = std::get_if<spec::OciImage>(&image)) {
    if (o->tag.empty()) return "image:\n  oci: " + yaml_quoted(o->dir) + "\n";
    return "image:\n  oci: {path: " + yaml_quoted(o->dir) + ", tag: " + yaml_quoted(o->tag) + "}\n";
  }
  const auto& a = std::get<spec::ArchiveImage>(image);
  return "image:\n  archive: " + yaml_quoted(a.path) + "\n";
}

// Signals a starter spec never sends: those that report a fault (a handler
// for them is a crash handler), the real-time ones (the C library keeps some
// for itself), and those that cannot be caught.
bool never_sent(int sig) {
  for (int s : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS, SIGABRT, SIGKILL, SIGSTOP})
    if (sig == s) return true;
  return sig >= 32;
}

// A path as the spec is to hold it: relative to the spec's folder when there is one.
std::string path_for_spec(const std::string& path, const std::string& spec_file) {
  if (spec_file.empty()) return path;
  std::error_code ec;
  fs::path dir = fs::absolute(fs::path(spec_file).parent_path(), ec);
  if (ec) return path;
  fs::path rel = fs::path(path).lexically_relative(dir.lexically_normal());
  return rel.empty() ? path : rel.string();
}

// SigCgt of pid once it stops changing (handlers are installed while the
// program starts): the same for 1 s, or what it is after 5 s.
Result<std::set<int>> settled_handlers(pid_t pid) {
  std::set<int> last;
  auto since = Clock::now(), deadline = Clock::now() + 5s;
  bool first = true;
  while (true) {
    auto status = sys::read_file("/proc/" + std::to_string(pid) + "/status");
    if (!status) return Error{"the main process ended while its signal handlers were read", ESRCH};
    auto now = caught_signals(*status);
    if (first || now != last) {
      last = now;
      since = Clock::now();
      first = false;
    }
    if (Clock::now() - since >= 1s || Clock::now() >= deadline) return last;
    if (sys::interrupt_signal()) return Error{"interrupted", EINTR};
    std::this_thread::sleep_for(100ms);
  }
}

}  // namespace

std::set<int> caught_signals(std::string_view status) {
  std::set<int> out;
  size_t at = status.find("SigCgt:");
  if (at == std::string_view::npos) return out;
  std::string_view hex = status.substr(at + 7);
  hex.remove_prefix(std::min(hex.find_first_not_of(" \t"), hex.size()));
  hex = hex.substr(0, hex.find('\n'));
  // Bit n-1 is signal n; the last hex digit holds signals 1 to 4.
  for (size_t i = 0; i < hex.size(); ++i) {
    char c = hex[hex.size() - 1 - i];
    int v = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : 0;
    for (int b = 0; b < 4; ++b)
      if (v & (1 << b)) out.insert(static_cast<int>(i * 4 + b + 1));
  }
  return out;
}

std::string name_for_image(const spec::Image& image) {
  std::string base;
  if (const auto* r = std::get_if<spec::RefImage>(&image)) {
    std::string ref = r->ref.substr(0, r->ref.find('@'));
    base = ref.substr(ref.find_last_of('/') == std::string::npos ? 0 : ref.find_last_of('/') + 1);
    base = base.substr(0, base.find(':'));
  } else if (const auto* o = std::get_if<spec::OciImage>(&image)) {
    base = fs::path(o->dir).lexically_normal().filename().string();
    if (base.empty()) base = fs::path(o->dir).lexically_normal().parent_path().filename().string();
  } else if (const auto* a = std::get_if<spec::ArchiveImage>(&image)) {
    base = fs::path(a->path).filename().string();
    base = base.substr(0, base.find('.'));
  }
  std::string out;
  for (char c : base) {
    char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool ok = (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9');
    if (ok)
      out += l;
    else if (!out.empty() && out.back() != '-')
      out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  if (out.size() > 63) out.resize(63);
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "image" : out;
}

std::string starter_yaml(const StarterFacts& f) {
  const auto& r = f.resolved;
  const auto& c = f.config;
  std::ostringstream y;
  y << "# Starter spec written by `sandmine init` from the image's config (" << f.digest << ").\n"
    << "# What this spec leaves out comes from that config (docs/spec.md); give a field to override it:\n";
  std::vector<std::string> entry_cmd = c.entrypoint;
  entry_cmd.insert(entry_cmd.end(), c.cmd.begin(), c.cmd.end());
  y << "#   command: " << yaml_list(entry_cmd) << "  (Entrypoint and Cmd)\n";
  std::string groups;
  for (unsigned g : r.additional_gids) groups += (groups.empty() ? ", groups " : ",") + std::to_string(g);
  y << "#   user: " << yaml_quoted(c.user.empty() ? "(none: root)" : c.user) << " = " << r.user << groups
    << "  (User)\n";
  if (!c.workdir.empty()) y << "#   workdir: " << yaml_quoted(c.workdir) << "  (WorkingDir)\n";
  for (const auto& kv : c.env) y << "#   env: " << yaml_quoted(kv) << "  (Env)\n";
  if (!c.stop_signal.empty()) y << "#   stop signal: " << c.stop_signal << "  (StopSignal)\n";
  y << "name: " << f.name << "\n" << image_lines(f.image);

  int port = 0;
  if (f.ready) {
    std::string why;
    if (f.ready->kind == spec::ReadyProbe::Kind::Exec && !c.healthcheck.empty() && f.ready->exec.size() > 0)
      why = "the image's Healthcheck";
    else if (f.ready->kind == spec::ReadyProbe::Kind::Tcp && !c.tcp_ports.empty() &&
             f.ready->port == c.tcp_ports[0])
      why = "the image's lowest exposed TCP port";
    y << probe_lines(*f.ready, why);
    if (f.ready->kind == spec::ReadyProbe::Kind::Tcp || f.ready->kind == spec::ReadyProbe::Kind::Http)
      port = f.ready->port;
  } else {
    y << "# ready: {tcp: PORT}  # the image exposes no TCP port and has no Healthcheck: say when it is "
         "ready\n";
  }

  y << "explore:\n"
    << "  # Your own test commands go here, the more of what the container does in production the\n"
    << "  # better: a run step runs on the host inside the container's network namespace (the\n"
    << "  # container is 127.0.0.1), an exec step runs inside the container. For example:\n";
  if (port)
    y << "  # - name: index\n  #   run: curl -sf http://127.0.0.1:" << port << "/\n";
  else
    y << "  # - name: client\n  #   run: your-client --host 127.0.0.1\n";
  y << "  # - name: inside\n  #   exec: [\"/bin/sh\", \"-c\", \"your-command\"]\n";
  for (size_t i = 0; i < f.explore.size(); ++i)
    y << "  - name: " << yaml_quoted("command " + std::to_string(i + 1))
      << "\n    run: " << yaml_quoted(f.explore[i]) << "\n";
  for (int sig : f.signals)
    y << "  - name: " << yaml_quoted("signal " + signal_text(sig)) << "\n    signal: " << signal_text(sig)
      << "  # the main process handles it (SigCgt)\n";
  for (const auto& s : f.skipped) y << "  # " << s << "\n";
  y << "  - name: restart\n    restart: true\n";
  // Last: the traffic of the steps above seeds its fuzzer (docs/explore-auto.md).
  y << "  # sandmine explores by itself (signals, HTTP crawl and request shapes, mutations of the\n"
    << "  # traffic the steps above sent, resets, a full disk): each generated step is a step of\n"
    << "  # its own; it stops at the budget or after `quiet` steps in a row found nothing new.\n"
    << "  - auto: {budget: 120s, quiet: 40}\n";
  y << "# Held-out steps, not mined: `sandmine check` (and the end of `sandmine mine`) runs them\n"
    << "# under the mined profile and names every call outside it. For example:\n";
  if (port)
    y << "#   - run: curl -sf http://127.0.0.1:" << port << "/\n";
  else
    y << "#   - run: your-client --host 127.0.0.1\n";
  y << "validate: []\n";
  y << "stop:\n  signal: " << signal_text(r.stop.signal)
    << (c.stop_signal.empty() ? "" : "  # the image's StopSignal")
    << "\n  timeout: " << duration_text(r.stop.timeout) << "\n";
  if (!f.stop_note.empty())
    y << "# When init stopped it, the main process " << f.stop_note
      << ": if another signal stops it cleanly, give that signal here.\n";
  return y.str();
}

Result<spec::ReadyProbe> parse_ready_argument(const std::string& arg) {
  auto port_of = [&](std::string_view s) -> std::optional<int> {
    if (s.empty() || s.size() > 5 || s.find_first_not_of("0123456789") != std::string_view::npos)
      return std::nullopt;
    int p = std::stoi(std::string(s));
    if (p < 1 || p > 65535) return std::nullopt;
    return p;
  };
  if (arg.starts_with("tcp:")) {
    if (auto p = port_of(std::string_view(arg).substr(4)))
      return spec::ReadyProbe{.kind = spec::ReadyProbe::Kind::Tcp, .port = *p};
  } else if (arg.starts_with("http:")) {
    std::string_view rest = std::string_view(arg).substr(5);
    size_t slash = rest.find('/');
    if (auto p = port_of(rest.substr(0, slash))) {
      std::string path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
      if (path.find_first_of(" \t\n") == std::string::npos)
        return spec::ReadyProbe{.kind = spec::ReadyProbe::Kind::Http, .port = *p, .path = path};
    }
  }
  return Error{"--ready " + arg + ": expected tcp:PORT or http:PORT[/PATH], PORT 1..65535", EINVAL};
}

Result<Starter> starter_spec(const spec::Image& image, const StarterOptions& o) {
  auto say = [&](const std::string& line) {
    if (o.progress) o.progress(line);
  };
  if (!spec::has_image_config(image))
    return Error{
        "a starter spec needs an image with a config of its own (a reference, oci:DIR or "
        "docker-archive:FILE)",
        EINVAL};
  const std::string label = image::describe_fetched(image);
  spec::Spec base;
  base.file = o.spec_file.empty() ? "(image " + label + ")" : o.spec_file;
  base.name = name_for_image(image);
  base.image = image;
  base.image_line = 1;
  base.explore = {
      spec::Step{.kind = spec::Step::Kind::Sleep, .name = "explore[0]", .sleep = spec::Duration(1000)}};
  auto resolved = resolve_spec(base, o.engine, o.cache_dir, o.progress);
  if (!resolved) return resolved.error();
  auto fetched =
      image::fetch(image, {.name = base.name,
                           .cache_dir = o.cache_dir.empty() ? image::kDefaultCacheDir : o.cache_dir,
                           .engine = o.engine});
  if (!fetched) return fetched.error();
  auto config = spec::parse_image_config(fetched->config);
  if (!config) return config.error();

  spec::Spec brief = *resolved;
  if (o.ready) brief.ready = o.ready;

  // The container, briefly: unconfined and in a group of its own, not recorded.
  auto engine = engine::make_engine(o.engine, o.engine_options);
  if (!engine) return engine.error();
  auto prepared = prepare_image(brief, **engine, o.cache_dir, o.progress);
  if (!prepared) return prepared.error();
  auto mount = sys::cgroup2_mount();
  if (!mount) return mount.error();
  auto group = sys::Cgroup::create(*mount, "sandmine-init-" + std::to_string(::getpid()));
  if (!group) return group.error();
  auto cs = container_for(brief, *prepared, "sandmine-init-" + brief.name + "-" + std::to_string(::getpid()));
  cs.seccomp = engine::ContainerSpec::Seccomp::Unconfined;
  cs.cgroup_parent = group->relative_path();
  cs.log_file = o.work_dir + "/init-container.log";
  cs.work_dir = o.work_dir;

  StarterFacts facts{.name = brief.name,
                     .image = image,
                     .digest = fetched->digest,
                     .config = *config,
                     .resolved = *resolved,
                     .ready = brief.ready,
                     .explore = o.explore};
  if (auto* oci = std::get_if<spec::OciImage>(&facts.image)) oci->dir = path_for_spec(oci->dir, o.spec_file);
  if (auto* a = std::get_if<spec::ArchiveImage>(&facts.image)) a->path = path_for_spec(a->path, o.spec_file);
  {
    Driver driver(brief, **engine, cs);
    say("starting the image briefly to read which signals its main process handles...");
    auto started = driver.start();
    if (!started.ok)
      return Error{"the container did not start and get ready: " + started.failure +
                   (o.ready ? "" : " (--ready tcp:PORT or http:PORT/PATH says when it is)")};
    auto handlers = settled_handlers(driver.main_pid());
    if (!handlers) return handlers.error();
    for (int sig : *handlers) {
      if (sig == brief.stop.signal) {
        facts.skipped.push_back("signal " + signal_text(sig) + " is the stop signal: the stop sends it");
        continue;
      }
      if (never_sent(sig)) continue;
      auto sent = driver.run(spec::Step{.kind = spec::Step::Kind::Signal, .name = "signal", .signal = sig});
      if (sent.ok) {
        facts.signals.push_back(sig);
        continue;
      }
      facts.skipped.push_back("signal " + signal_text(sig) + " is handled, but the main process ends on it");
      driver.remove();
      auto again = driver.start();
      if (!again.ok) return Error{"the container did not start again: " + again.failure};
    }
    if (sys::interrupt_signal()) return Error{"interrupted", EINTR};
    auto stopped = driver.stop();
    if (!stopped.ok || !stopped.failure.empty()) facts.stop_note = stopped.failure;
    driver.remove();
  }
  if (Status st = group->remove(); !st) return st.error();

  Starter out;
  out.yaml = starter_yaml(facts);
  auto parsed = spec::parse_spec(out.yaml, base.file);
  if (!parsed) return Error{"the starter spec does not parse (a bug): " + parsed.error().message, EINVAL};
  out.spec = std::move(*parsed);
  return out;
}

}  // namespace sandmine::explore
