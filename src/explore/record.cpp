#include "explore/record.h"

#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "engine/client_engine.h"
#include "explore/coverage.h"
#include "explore/ledger.h"
#include "explore/mined_from.h"
#include "profile/docker_json.h"
#include "profile/timing.h"
#include "sys/command.h"
#include "sys/files.h"
#include "sys/interrupt.h"
#include "sys/process.h"
#include "sys/spawn.h"
#include "trace/ebpf_recorder.h"

namespace sandmine::explore {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// How long the workflow gets to end after a forwarded signal or the
// timeout's SIGTERM before its process group is killed.
constexpr auto kGrace = std::chrono::seconds(30);

// The client with its global arguments, as sandmine's engines run it.
struct EngineClient {
  engine::ClientFlavor flavor;
  Result<sys::CommandResult> run(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{flavor.client};
    argv.insert(argv.end(), flavor.global_args.begin(), flavor.global_args.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return sys::run_command(argv, {.timeout = std::chrono::seconds(30)});
  }
  // The inspect document of a container; an Error when it is gone.
  Result<nlohmann::json> inspect(const std::string& id) const {
    auto r = run({"inspect", "--type", "container", id});
    if (!r) return r.error();
    auto doc = nlohmann::json::parse(r->output, nullptr, false);
    if (r->exit_code != 0 || !doc.is_array() || doc.empty() || !doc[0].is_object())
      return Error{flavor.name + " inspect " + id + ": " + r->last_line(), ENOENT};
    return doc[0];
  }
};

std::string json_text(const nlohmann::json& doc, const nlohmann::json::json_pointer& at) {
  return doc.contains(at) && doc[at].is_string() ? doc[at].get<std::string>() : "";
}

// The container id a cgroup directory below the parent names: Docker's is
// the id, Podman's (cgroupfs manager) libpod-<id>; a systemd scope ends in .scope.
std::string id_of_cgroup(std::string name) {
  for (const char* prefix : {"libpod-", "docker-"})
    if (name.starts_with(prefix)) name = name.substr(std::string(prefix).size());
  if (name.ends_with(".scope")) name.resize(name.size() - 6);
  return name;
}

// A folder name from a container's or service's name.
std::string folder_name(const std::string& name) {
  std::string out;
  for (char c : name)
    out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
  if (out.empty() || out == "." || out == "..") out = "container";
  return out;
}

std::string trim_slashes(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  while (!s.empty() && s.front() == '/') s.erase(0, 1);
  return s;
}

// Creates path with text in it.
Status write_new_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.close();
  if (!out) return Error{"cannot write " + path};
  return {};
}

// Sets (or unsets) environment variables until destruction.
class EnvOverride {
 public:
  void set(const std::string& name, const std::string& value) {
    const char* old = std::getenv(name.c_str());
    saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
    ::setenv(name.c_str(), value.c_str(), 1);
  }
  ~EnvOverride() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second)
        ::setenv(it->first.c_str(), it->second->c_str(), 1);
      else
        ::unsetenv(it->first.c_str());
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// A container seen below the watched parent.
struct SeenContainer {
  trace::Child child;
  std::string id;
  nlohmann::json inspect;  // null when it could not be inspected
  std::string problem;     // why its recording would be wrong; empty when right
  // The configuration files among what it opened, read through its main
  // process's root at each poll while it runs (a workflow has no "ready"
  // moment): the last reading is kept.
  pid_t pid = 0;                 // its main process once the engine says it runs; -1: it never did
  std::size_t opened_count = 0;  // paths opened at the last reading
  std::map<std::string, std::string> config_files;
  std::string files_note = "it ended before the files it read could be taken";
};

// Unix time with nanoseconds, as `docker events --since/--until` take it.
std::string unix_time(std::chrono::system_clock::time_point t) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  return fmt::format("{}.{:09d}", ns / 1000000000, ns % 1000000000);
}

class WorkflowRecording {
 public:
  WorkflowRecording(const RecordOptions& options, EngineClient client)
      : options_(options), client_(std::move(client)) {}

  Result<RecordResult> go() {
    auto recorder = trace::EbpfRecorder::open();
    if (!recorder) return recorder.error();
    recorder_ = std::move(*recorder);
    auto target = recorder_->add_target("record");
    if (!target) return target.error();
    target_ = *target;
    // Removed whatever happens below: the target (its cgroup, with anything
    // left in it, and its children's slots), then the recorder.
    struct Cleanup {
      WorkflowRecording& r;
      ~Cleanup() {
        if (r.target_) (void)r.recorder_->remove_target(r.target_);
        r.target_ = nullptr;
      }
    } cleanup{*this};
    if (auto st = recorder_->split(*target_); !st) return st.error();
    parent_ = target_->cgroup.relative_path();
    run_id_ = fmt::format("{}-{}", ::getpid(), trace::monotonic_ns());

    auto temp = sys::TempDir::create("sandmine-record-");
    if (!temp) return temp.error();
    const std::string seccomp = temp->path() + "/recording-seccomp.json";
    auto recording = profile::Profile::allow_all();
    recording.recording = run_id_;
    if (auto st = write_new_file(seccomp, profile::to_docker_json(recording).dump(2) + "\n"); !st)
      return st.error();

    // The workflow's environment, set in ours only until it is started.
    auto env = std::make_unique<EnvOverride>();
    env->set(kCgroupParentVar, parent_);
    env->set(kSeccompVar, seccomp);
    if (options_.docker_run) {
      const std::string bin = temp->path() + "/bin";
      std::error_code ec;
      fs::create_directories(bin, ec);
      const std::string shim = bin + "/" + fs::path(client_.flavor.client).filename().string();
      if (auto st = write_new_file(shim, client_shim(client_.flavor.client)); !st) return st.error();
      fs::permissions(shim, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec, ec);
      if (ec) return Error{"cannot make " + shim + " executable: " + ec.message()};
      const char* path = std::getenv("PATH");
      env->set("PATH", bin + ":" + (path ? path : "/usr/local/bin:/usr/bin:/bin"));
    }
    auto executable = sys::find_executable(options_.command.at(0));
    if (!executable)
      return Error{"cannot run " + options_.command[0] + ": " + executable.error().message, ENOENT};

    // What each container opens, for the configuration files of its minedFrom.
    if (auto st = recorder_->capture_opens(*target_, true); !st)
      opens_note_ = "the files it opened could not be noted: " + st.error().message;

    RecordResult result;
    const auto wall_start = std::chrono::system_clock::now();
    const auto start = Clock::now();
    auto child = sys::spawn({.argv = options_.command, .executable = *executable, .new_process_group = true});
    env.reset();
    if (!child) return child.error();
    const pid_t pid = child->pid();
    if (auto st = child->exec_status(true); !st) {
      (void)sys::reap_child(pid, 5000);
      return Error{"cannot run " + options_.command[0] + ": " + st.error().message, st.error().errnum};
    }
    say(fmt::format("running {} (process group {}); containers get {}={} and {}={}", options_.command[0], pid,
                    kCgroupParentVar, parent_, kSeccompVar, seccomp));

    // Until the workflow ends: new containers below the parent are looked
    // at once (while they exist), Ctrl-C is forwarded, the timeout applies.
    std::optional<int> status;
    std::optional<Clock::time_point> kill_at;
    bool forwarded = false, killed = false;
    while (true) {
      auto polled = sys::poll_child(pid);
      if (!polled) return polled.error();
      if (*polled) {
        status = **polled;
        break;
      }
      const auto now = Clock::now();
      if (int sig = sys::interrupt_signal(); sig && !forwarded) {
        forwarded = true;
        result.interrupted_by = sig;
        say(fmt::format("signal {}: forwarded to {}'s process group; waiting for it to end", sig,
                        options_.command[0]));
        (void)sys::send_signal(-pid, sig);
        kill_at = now + kGrace;
      }
      if (options_.timeout.count() > 0 && now - start > options_.timeout && !result.timed_out) {
        result.timed_out = true;
        say(fmt::format("{} still runs after --timeout {} s: SIGTERM to its process group",
                        options_.command[0], options_.timeout.count() / 1000));
        (void)sys::send_signal(-pid, SIGTERM);
        if (!kill_at) kill_at = now + kGrace;
      }
      if (kill_at && now > *kill_at && !killed) {
        killed = true;
        say(fmt::format("{} did not end {} s after the signal: SIGKILL to its process group",
                        options_.command[0], kGrace.count()));
        (void)sys::send_signal(-pid, SIGKILL);
      }
      discover();
      take_config_files();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    result.exit = trace::ExitStatus::from_wait(*status);
    result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    discover();
    take_config_files();
    const std::uint64_t end_ns = trace::monotonic_ns();
    const auto wall_end = std::chrono::system_clock::now();

    // Containers that started while the workflow ran, below the parent or not.
    std::set<std::string> below;
    for (const auto& s : seen_) below.insert(s.id);
    for (const auto& [id, name] : started_between(wall_start, wall_end))
      if (!below.count(id))
        result.refused.push_back(
            {name,
             fmt::format(
                 "container {} ({}) ran outside the watched cgroup parent {} (give it {}: --cgroup-parent or "
                 "Compose's cgroup_parent)",
                 name, id.substr(0, 12), parent_, kCgroupParentVar)});

    std::set<std::string> dirs;
    for (const auto& s : seen_) {
      const std::string name =
          s.inspect.is_null() ? s.id.substr(0, 12) : trim_slashes(json_text(s.inspect, "/Name"_json_pointer));
      if (!s.problem.empty()) {
        result.refused.push_back(
            {name, fmt::format("container {} ({}) {}", name, s.id.substr(0, 12), s.problem)});
        continue;
      }
      auto rec = recorded(s, name, end_ns);
      if (!rec) return rec.error();
      std::string dir = folder_name(rec->service.empty() ? rec->name : rec->service);
      for (int n = 2; !dirs.insert(dir).second; ++n)
        dir = folder_name(rec->service.empty() ? rec->name : rec->service) + "-" + std::to_string(n);
      rec->dir = dir;
      rec->trace.target.name = dir;
      result.containers.push_back(std::move(*rec));
    }
    if (auto st = recorder_->health(); !st) return st.error();
    return result;
  }

 private:
  void say(const std::string& line) const {
    if (options_.progress) options_.progress(line);
  }

  // Looks at the containers that appeared below the parent since last time.
  void discover() {
    auto kids = recorder_->children(*target_);
    if (!kids) return;
    for (const auto& kid : *kids) {
      if (known_.count(kid.cgroup_id)) continue;
      known_.insert(kid.cgroup_id);
      // Podman's cgroupfs manager puts conmon in <parent>/conmon: not a container.
      if (kid.name == "conmon") continue;
      SeenContainer s{.child = kid, .id = id_of_cgroup(kid.name)};
      auto doc = client_.inspect(s.id);
      if (!doc) {
        s.problem =
            "was gone before sandmine could inspect it, so whether it ran under the recording profile "
            "is unknown (" +
            doc.error().message + ")";
      } else {
        s.inspect = std::move(*doc);
        s.id = json_text(s.inspect, "/Id"_json_pointer).empty() ? s.id
                                                                : json_text(s.inspect, "/Id"_json_pointer);
        s.problem = configuration_problem(s.inspect, parent_, run_id_);
      }
      say(fmt::format(
          "container {} started below the watched parent{}",
          s.inspect.is_null() ? s.id.substr(0, 12) : trim_slashes(json_text(s.inspect, "/Name"_json_pointer)),
          s.problem.empty() ? ", under the recording profile" : ": " + s.problem));
      seen_.push_back(std::move(s));
    }
  }

  // Reads the configuration files of the running containers again when they
  // opened something new since the last reading.
  void take_config_files() {
    for (auto& s : seen_) {
      if (!s.problem.empty()) continue;
      if (!opens_note_.empty()) {
        s.files_note = opens_note_;
        continue;
      }
      if (s.pid < 0) continue;  // it ended before it was seen running
      if (s.pid == 0) {
        auto doc = client_.inspect(s.id);
        if (doc && doc->contains("/State/Running"_json_pointer) &&
            (*doc)["/State/Running"_json_pointer] == true && doc->contains("/State/Pid"_json_pointer) &&
            (*doc)["/State/Pid"_json_pointer].is_number())
          s.pid = (*doc)["/State/Pid"_json_pointer].get<pid_t>();
        else if (!doc || json_text(*doc, "/State/Status"_json_pointer) != "created")
          s.pid = -1;  // gone, or no longer starting: ask no more
        if (s.pid <= 0) continue;
      }
      if (!engine::process_running(s.pid)) continue;
      auto opened = recorder_->opened(s.child);
      if (!opened) {
        s.files_note = opened.error().message;
        continue;
      }
      if (opened->size() == s.opened_count) continue;
      std::string note;
      auto files = config_files(*opened, s.pid, note);
      if (!engine::process_running(s.pid)) continue;  // read after it ended: maybe not its root any more
      // A reading that failed (the process was ending) does not replace a good one.
      if (!note.empty() && s.opened_count > 0) continue;
      s.opened_count = opened->size();
      s.config_files = std::move(files);
      s.files_note =
          note.empty() ? "the files it read until sandmine last saw it running (sandmine record)" : note;
    }
  }

  // id -> name of each container the engine started between from and to,
  // but sandmine's own (label sandmine), which other sandmine runs start.
  std::vector<std::pair<std::string, std::string>> started_between(std::chrono::system_clock::time_point from,
                                                                   std::chrono::system_clock::time_point to) {
    std::vector<std::pair<std::string, std::string>> out;
    auto r = client_.run({"events", "--since", unix_time(from), "--until", unix_time(to), "--filter",
                          "type=container", "--filter", "event=start", "--format", "{{json .}}"});
    if (!r || r->exit_code != 0) {
      say("warning: cannot list the containers started meanwhile (" +
          (r ? r->last_line() : r.error().message) +
          "): containers that ran outside the parent are not named");
      return out;
    }
    std::set<std::string> ids;
    std::size_t at = 0;
    while (at < r->output.size()) {
      auto nl = r->output.find('\n', at);
      if (nl == std::string::npos) nl = r->output.size();
      auto ev = nlohmann::json::parse(r->output.substr(at, nl - at), nullptr, false);
      at = nl + 1;
      if (!ev.is_object()) continue;
      // Docker: id, Actor.Attributes; Podman: ID, Name, Attributes.
      std::string id = json_text(ev, "/id"_json_pointer);
      if (id.empty()) id = json_text(ev, "/ID"_json_pointer);
      const nlohmann::json attrs = ev.contains("/Actor/Attributes"_json_pointer)
                                       ? ev["/Actor/Attributes"_json_pointer]
                                       : ev.value("Attributes", nlohmann::json::object());
      std::string name = attrs.is_object() ? attrs.value("name", "") : "";
      if (name.empty()) name = json_text(ev, "/Name"_json_pointer);
      // sandmine's own containers (engine::ClientEngine's label sandmine=1, and
      // the test suite's images, sandmine=test) are other runs', not the command's.
      const bool own = attrs.is_object() && attrs.contains("sandmine");
      if (id.empty() || own || !ids.insert(id).second) continue;
      out.emplace_back(id, name.empty() ? id.substr(0, 12) : name);
    }
    return out;
  }

  Result<RecordedContainer> recorded(const SeenContainer& s, const std::string& name, std::uint64_t end_ns) {
    RecordedContainer c{.id = s.id, .name = name};
    const auto& doc = s.inspect;
    c.service = json_text(doc, "/Config/Labels/com.docker.compose.service"_json_pointer);
    auto counts = recorder_->snapshot(s.child);
    if (!counts) return counts.error();
    auto execs = recorder_->execs(s.child);
    if (!execs) return execs.error();
    auto now = client_.inspect(s.id);
    c.still_running =
        now && now->contains("/State/Running"_json_pointer) && (*now)["/State/Running"_json_pointer] == true;

    std::vector<std::string> command;
    if (auto path = json_text(doc, "/Path"_json_pointer); !path.empty()) command.push_back(path);
    if (doc.contains("Args") && doc["Args"].is_array())
      for (const auto& a : doc["Args"])
        if (a.is_string()) command.push_back(a.get<std::string>());
    std::map<std::string, std::string> env;
    if (doc.contains("/Config/Env"_json_pointer) && doc["/Config/Env"_json_pointer].is_array())
      for (const auto& e : doc["/Config/Env"_json_pointer])
        if (e.is_string()) {
          auto kv = e.get<std::string>();
          auto eq = kv.find('=');
          env[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
        }
    const std::string image = json_text(doc, "/Image"_json_pointer);
    const double duration_ms = static_cast<double>(end_ns - std::min(end_ns, s.child.first_ns)) / 1e6;

    // One step spanning its life, from its first syscall.
    StepLedger ledger;
    ledger.record("record", "record", 0, duration_ms, counts->armed);
    trace::Trace& t = c.trace;
    t.backend = "ebpf";
    t.target.kind = "container";
    t.target.name = name;
    t.target.engine = client_.flavor.name;
    t.target.image = image;
    t.target.command = command;
    t.target.duration_ms = duration_ms;
    t.syscalls = trace::entries_from(counts->armed, s.child.first_ns);
    for (auto& e : t.syscalls) e.first_step = ledger.first_step({e.arch, e.nr}).value_or("record");
    trace::set_value_steps(t.syscalls, ledger.first_values(), "record");
    t.unarmed = trace::entries_from(counts->unarmed, s.child.first_ns);
    t.steps = ledger.steps();
    t.coverage = estimate_coverage(t.steps);
    for (const auto& e : *execs)
      t.binaries.push_back(
          trace::BinaryRecord{e.path,
                              e.count,
                              static_cast<double>(e.first_ns - std::min(e.first_ns, s.child.first_ns)) / 1e6,
                              {}});
    c.mined_from = {.name = name,
                    .engine = client_.flavor.name,
                    .image = image,
                    .command = command,
                    .env = env_digests(env),
                    .config_files = s.config_files,
                    .config_files_note = s.files_note};
    return c;
  }

  const RecordOptions& options_;
  EngineClient client_;
  std::unique_ptr<trace::EbpfRecorder> recorder_;
  trace::Target* target_ = nullptr;
  std::string parent_;
  std::string run_id_;
  std::string opens_note_;  // why opened files cannot be noted; empty when they can
  std::set<std::uint64_t> known_;
  std::vector<SeenContainer> seen_;
};

}  // namespace

std::string client_shim(const std::string& client) {
  return fmt::format(
      R"(#!/bin/sh
# sandmine record --docker-run: `run` and `create` get the watched cgroup
# parent and the recording profile; everything else passes through.
# The subcommand is the first word that is neither an option nor the value of
# one of the client's global options that take a value.
sub= skip= added=
for a do
  shift
  if [ -z "$added" ] && [ -n "$skip" ]; then
    skip=
  elif [ -z "$added" ]; then
    case "$a" in
      -H|--host|-c|--context|--config|-l|--log-level|--tlscacert|--tlscert|--tlskey|--url|--connection|--root|--runroot|--runtime|--cgroup-manager|--storage-driver|--remote) skip=1 ;;
      -*) ;;
      container) [ -z "$sub" ] && sub=container ;;
      run|create)
        set -- "$@" "$a" --cgroup-parent "${cgroup_var}" --security-opt "seccomp=${seccomp_var}"
        added=1
        continue ;;
      *) added=1 ;;
    esac
  fi
  set -- "$@" "$a"
done
exec {client} "$@"
)",
      fmt::arg("cgroup_var", kCgroupParentVar), fmt::arg("seccomp_var", kSeccompVar),
      fmt::arg("client", client));
}

std::string configuration_problem(const nlohmann::json& inspect, const std::string& parent,
                                  const std::string& run) {
  const std::string given = json_text(inspect, "/HostConfig/CgroupParent"_json_pointer);
  if (trim_slashes(given) != trim_slashes(parent))
    return "ran outside the watched cgroup parent " + parent +
           " (its cgroup parent: " + (given.empty() ? "the engine's default" : given) + ")";
  std::optional<std::string> seccomp;
  if (inspect.contains("/HostConfig/SecurityOpt"_json_pointer) &&
      inspect["/HostConfig/SecurityOpt"_json_pointer].is_array())
    for (const auto& o : inspect["/HostConfig/SecurityOpt"_json_pointer]) {
      if (!o.is_string()) continue;
      auto text = o.get<std::string>();
      if (text.starts_with("seccomp=") || text.starts_with("seccomp:")) seccomp = text.substr(8);
    }
  if (!seccomp) return "ran without the recording profile (no seccomp security option: the engine's default)";
  if (*seccomp == "unconfined") return "ran without the recording profile (seccomp=unconfined)";
  // Docker keeps the profile's content; Podman the file it was given.
  nlohmann::json doc = nlohmann::json::parse(*seccomp, nullptr, false);
  if (doc.is_discarded()) {
    auto text = sys::read_file(*seccomp);
    doc = text ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json();
  }
  auto profile = doc.is_object() ? profile::parse_profile(doc, "its seccomp profile")
                                 : Result<profile::Profile>(Error{"not JSON", EINVAL});
  if (!profile || profile->recording != run)
    return "ran under another seccomp profile than the recording profile (give it seccomp=$" +
           std::string(kSeccompVar) + ")";
  return "";
}

profile::Profile profile_of(const RecordedContainer& container, profile::ArgsMode args,
                            std::vector<std::string>& warnings) {
  auto p = profile::from_traces({container.trace}, warnings, {.args = args});
  p.source = container.dir + "/profile.json";
  p.mined_from = container.mined_from;
  (void)profile::add_timing_dependent(p, true, args);
  return p;
}

Result<RecordResult> record_workflow(const RecordOptions& options) {
  if (options.command.empty()) return Error{"no command to run", EINVAL};
  if (options.engine != "docker" && options.engine != "podman")
    return Error{"sandmine record drives docker or podman, not " + options.engine, EINVAL};
  EngineClient client{options.engine == "docker" ? engine::docker_flavor() : engine::podman_flavor()};
  // The client must be there (and Docker's daemon answer).
  if (auto engine = engine::ClientEngine::create(client.flavor); !engine) return engine.error();
  return WorkflowRecording(options, std::move(client)).go();
}

}  // namespace sandmine::explore
