#pragma once
// What every engine must do, checked the same way for runc (integration) and
// Docker and Podman (e2e): a restart keeps the container (its files, name and
// cgroup) with a new main process, recorded; --ulimit reaches the container.

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "engine/engine.h"
#include "explore/driver.h"
#include "spec/spec.h"
#include "support/engines.h"
#include "support/run.h"
#include "sys/fd.h"
#include "sys/files.h"
#include "syscalls/syscalls.h"
#include "trace/counts.h"
#include "trace/ebpf_recorder.h"

namespace sandmine::test {

/// A container that shows its restarts: its main process calls sync(2) only
/// when /tmp/keep is there (the `write` step makes it before the restart), and
/// is ready a second after it starts (/dev is a new tmpfs at every start, so
/// /dev/ready says this start is ready, not the one before).
inline const std::string kRestartSpec = R"(name: restart
image:
  busybox: {}
command: [/bin/sh, -c, "trap 'kill $p; exit 0' TERM; [ -e /tmp/keep ] && /bin/busybox sync; /bin/busybox sleep 1; /bin/busybox touch /dev/ready; /bin/busybox sleep 1000 & p=$!; wait"]
ready: {exec: [/bin/busybox, test, -e, /dev/ready], timeout: 10s}
explore:
  - name: write
    exec: [/bin/sh, -c, "echo x > /tmp/keep"]
  - name: restart
    restart: true
  - name: ready-again
    exec: [/bin/busybox, test, -e, /dev/ready]
  - name: kept
    exec: [/bin/sh, -c, "cat /tmp/keep && test \"$(cat /tmp/keep)\" = x"]
stop: {signal: TERM, timeout: 5s}
)";

/// The cgroup v2 path of pid ("0::" in /proc/PID/cgroup), "" if gone.
inline std::string cgroup_v2_of(pid_t pid) {
  auto text = sys::read_file("/proc/" + std::to_string(pid) + "/cgroup");
  if (!text) return "";
  auto at = text->find("0::");
  if (at == std::string::npos) return "";
  return text->substr(at + 3, text->find('\n', at) - at - 3);
}

/// The inode of a namespace given as an open descriptor.
inline ino_t inode_of(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? st.st_ino : 0;
}

/// The count of one syscall (x86_64) in tallies.
inline std::uint64_t count_of(const trace::Tallies& tallies, const std::string& name) {
  for (const auto& [key, tally] : tallies)
    if (key.arch == "x86_64" && syscalls::name_of(key.arch, key.nr).value_or("") == name) return tally.count;
  return 0;
}

/// The count of one syscall (x86_64) in a trace.json list ("syscalls" or "unarmed").
inline std::uint64_t count_in(const nlohmann::json& entries, const std::string& name) {
  for (const auto& e : entries)
    if (e["arch"] == "x86_64" && e["name"] == name) return e["count"];
  return 0;
}

/// The restart spec's container under engine_name, in a recorder target:
/// after restart() the main process is a new one (new pid, new network
/// namespace) in the same cgroup, the file written before is there, the
/// container is the same (exec by name, same hostname), and the target
/// recorded both starts: runc's set-up twice, the restarted process's sync.
inline void expect_engine_restarts_the_same_container(const std::string& engine_name,
                                                      const std::string& cache_dir) {
  auto spec = spec::parse_spec(kRestartSpec, "restart.yaml");
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  auto engine = engine::make_engine(engine_name);
  ASSERT_TRUE(engine.ok()) << engine.error().message;
  auto image = explore::prepare_image(*spec, **engine, cache_dir, {});
  ASSERT_TRUE(image.ok()) << image.error().message;
  auto rec = trace::EbpfRecorder::open();
  ASSERT_TRUE(rec.ok()) << rec.error().message;
  auto target = (*rec)->add_target("restart");
  ASSERT_TRUE(target.ok()) << target.error().message;
  TempDir dir;
  auto cs = explore::container_for(*spec, *image, "sandmine-restart-" + std::to_string(getpid()));
  cs.cgroup_parent = (*target)->cgroup.relative_path();
  cs.log_file = dir.file("container.log");
  cs.work_dir = dir.path();
  {
    auto c = (*engine)->start(cs);
    ASSERT_TRUE(c.ok()) << c.error().message;
    auto& container = **c;
    auto ready = [&] {
      return wait_until([&] {
        auto r = container.exec({"/bin/busybox", "test", "-e", "/dev/ready"}, std::chrono::seconds(10));
        return r && r->exit_code == 0;
      });
    };
    ASSERT_TRUE(ready()) << container.logs();
    auto write = container.exec({"/bin/sh", "-c", "echo x > /tmp/keep"}, std::chrono::seconds(10));
    ASSERT_TRUE(write.ok() && write->exit_code == 0);
    auto hostname = container.exec({"/bin/busybox", "hostname"}, std::chrono::seconds(10));
    ASSERT_TRUE(hostname.ok() && hostname->exit_code == 0);
    pid_t pid_before = container.main_pid();
    // Held open: a freed namespace's inode number can be given to the next one.
    sys::UniqueFd old_netns(::open(("/proc/" + std::to_string(pid_before) + "/ns/net").c_str(), O_RDONLY));
    ASSERT_TRUE(old_netns.valid());
    ino_t netns_before = inode_of(old_netns.get());
    ASSERT_EQ(inode_of(container.netns_fd()), netns_before);
    std::string cgroup_before = cgroup_v2_of(pid_before);
    EXPECT_EQ(cgroup_before.rfind(cs.cgroup_parent + "/", 0), 0u) << cgroup_before;

    auto restarted = container.restart(SIGTERM, std::chrono::seconds(5));
    ASSERT_TRUE(restarted.ok()) << restarted.error().message;
    EXPECT_TRUE(container.running());
    EXPECT_NE(container.main_pid(), pid_before);
    EXPECT_FALSE(engine::process_running(pid_before));
    EXPECT_EQ(cgroup_v2_of(container.main_pid()), cgroup_before);
    struct stat ns {};
    ASSERT_EQ(::stat(("/proc/" + std::to_string(container.main_pid()) + "/ns/net").c_str(), &ns), 0);
    EXPECT_EQ(inode_of(container.netns_fd()), ns.st_ino) << "netns_fd is not the new main process's";
    EXPECT_NE(inode_of(container.netns_fd()), netns_before);

    ASSERT_TRUE(ready()) << container.logs();
    auto kept = container.exec({"/bin/busybox", "cat", "/tmp/keep"}, std::chrono::seconds(10));
    ASSERT_TRUE(kept.ok());
    EXPECT_EQ(kept->exit_code, 0);
    EXPECT_EQ(kept->output, "x\n");
    auto hostname_after = container.exec({"/bin/busybox", "hostname"}, std::chrono::seconds(10));
    ASSERT_TRUE(hostname_after.ok());
    EXPECT_EQ(hostname_after->output, hostname->output);

    auto stopped = container.stop(SIGTERM, std::chrono::seconds(5));
    ASSERT_TRUE(stopped.ok()) << stopped.error().message;
    EXPECT_TRUE(*stopped);
  }
  auto counts = (*rec)->snapshot(**target);
  ASSERT_TRUE(counts.ok()) << counts.error().message;
  // Only the restarted main process saw /tmp/keep at its start.
  EXPECT_EQ(count_of(counts->armed, "sync"), 1u);
  // runc's set-up of the container, once per start (exec does not pivot_root).
  EXPECT_EQ(count_of(counts->unarmed, "pivot_root"), 2u);
  EXPECT_EQ(count_of(counts->unarmed, "sethostname"), 2u);
  EXPECT_TRUE((*rec)->health().ok());
  EXPECT_TRUE((*rec)->remove_target(*target).ok());
}

/// `sandmine mine --engine engine_name` of the restart spec: every step
/// passes (the file written before the restart is read after it), and the
/// trace holds the restart's syscalls: sync first seen in the restart step,
/// runc's set-up twice.
inline void expect_mining_with_a_restart(const std::string& engine_name, const std::string& cache_dir) {
  TempDir dir;
  write_text(dir.file("restart.yaml"), kRestartSpec);
  Outcome r = sandmine({"mine", dir.file("restart.yaml"), "--engine", engine_name, "-o", dir.file("out"),
                        "--cache", cache_dir});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* line : {"explore write: ok", "explore restart: ok", "explore ready-again: ok",
                           "explore kept: ok", "stop stop: ok"})
    EXPECT_NE(r.err.find(line), std::string::npos) << line << "\n" << r.err;

  auto trace = read_json(dir.file("out/trace.json"));
  EXPECT_EQ(trace["partial"], false);
  EXPECT_EQ(trace["target"]["engine"], engine_name);
  std::vector<std::string> steps;
  nlohmann::json restart_step;
  for (const auto& s : trace["steps"]) {
    steps.push_back(s["name"]);
    if (s["name"] == "restart") restart_step = s;
  }
  EXPECT_EQ(steps, (std::vector<std::string>{"start", "write", "restart", "ready-again", "kept", "stop"}));
  EXPECT_EQ(count_in(trace["syscalls"], "sync"), 1u);
  std::string sync_first;
  for (const auto& e : trace["syscalls"])
    if (e["name"] == "sync") sync_first = e["first_step"];
  EXPECT_EQ(sync_first, "restart");
  auto news = restart_step["new_syscalls"].get<std::vector<std::string>>();
  EXPECT_NE(std::find(news.begin(), news.end(), "x86_64:sync"), news.end()) << restart_step.dump();
  EXPECT_EQ(count_in(trace["unarmed"], "pivot_root"), 2u);
  EXPECT_EQ(count_in(trace["unarmed"], "sethostname"), 2u);
  EXPECT_NE(sys::read_file(dir.file("out/mine.log"))->find("--- output of explore kept\nx\n"),
            std::string::npos);
  auto profile = read_json(dir.file("out/profile.json"));
  auto names = profile["syscalls"][0]["names"].get<std::vector<std::string>>();
  EXPECT_NE(std::find(names.begin(), names.end(), "sync"), names.end());
}

/// A container that keeps one CPU busy with a shell loop that makes no
/// syscall: whether it is frozen shows in its cgroup's CPU time.
inline const std::string kBusySpec = R"(name: pause
image:
  busybox: {}
command: [/bin/sh, -c, "trap 'exit 0' TERM; while :; do :; done"]
explore:
  - sleep: 1ms
stop: {signal: TERM, timeout: 5s}
)";

/// usage_usec of a cgroup v2 directory's cpu.stat (it and its descendants).
inline std::uint64_t cpu_usage_usec(const std::string& dir) {
  auto text = sys::read_file(dir + "/cpu.stat");
  if (!text) return 0;
  auto at = text->find("usage_usec ");
  return at == std::string::npos ? 0 : std::stoull(text->substr(at + 11));
}

/// The busy container under engine_name: pause() stops its CPU time dead
/// (the same microsecond count 300 ms later) while its main process still
/// exists, resume() lets it run again, and it then stops on its signal.
inline void expect_engine_pauses_and_resumes(const std::string& engine_name, const std::string& cache_dir) {
  auto spec = spec::parse_spec(kBusySpec, "pause.yaml");
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  auto engine = engine::make_engine(engine_name);
  ASSERT_TRUE(engine.ok()) << engine.error().message;
  auto image = explore::prepare_image(*spec, **engine, cache_dir, {});
  ASSERT_TRUE(image.ok()) << image.error().message;
  auto rec = trace::EbpfRecorder::open();
  ASSERT_TRUE(rec.ok()) << rec.error().message;
  auto target = (*rec)->add_target("pause");
  ASSERT_TRUE(target.ok()) << target.error().message;
  TempDir dir;
  auto cs = explore::container_for(*spec, *image, "sandmine-pause-" + std::to_string(getpid()));
  cs.cgroup_parent = (*target)->cgroup.relative_path();
  cs.log_file = dir.file("container.log");
  cs.work_dir = dir.path();
  const std::string group = (*target)->cgroup.path();
  {
    auto c = (*engine)->start(cs);
    ASSERT_TRUE(c.ok()) << c.error().message;
    auto& container = **c;
    std::uint64_t started = cpu_usage_usec(group);
    ASSERT_TRUE(wait_until([&] { return cpu_usage_usec(group) > started + 10000; }))
        << "the busy loop never ran";

    auto paused = container.pause();
    ASSERT_TRUE(paused.ok()) << paused.error().message;
    std::uint64_t frozen = cpu_usage_usec(group);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(cpu_usage_usec(group), frozen) << "the container ran while paused";
    EXPECT_TRUE(container.running());

    auto resumed = container.resume();
    ASSERT_TRUE(resumed.ok()) << resumed.error().message;
    EXPECT_TRUE(wait_until([&] { return cpu_usage_usec(group) > frozen + 10000; }, 5000))
        << "the container did not run again after resume";

    auto stopped = container.stop(SIGTERM, std::chrono::seconds(5));
    ASSERT_TRUE(stopped.ok()) << stopped.error().message;
    EXPECT_TRUE(*stopped);
  }
  EXPECT_TRUE((*rec)->remove_target(*target).ok());
}

/// A paused container is removed with everything made for it: destruction
/// thaws it first, so its processes die.
inline void expect_paused_container_is_removed(const std::string& engine_name, const std::string& cache_dir) {
  auto spec = spec::parse_spec(kBusySpec, "pause.yaml");
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  auto engine = engine::make_engine(engine_name);
  ASSERT_TRUE(engine.ok()) << engine.error().message;
  auto image = explore::prepare_image(*spec, **engine, cache_dir, {});
  ASSERT_TRUE(image.ok()) << image.error().message;
  auto rec = trace::EbpfRecorder::open();
  ASSERT_TRUE(rec.ok()) << rec.error().message;
  auto target = (*rec)->add_target("pause");
  ASSERT_TRUE(target.ok()) << target.error().message;
  TempDir dir;
  auto cs = explore::container_for(*spec, *image, "sandmine-pause-" + std::to_string(getpid()));
  cs.cgroup_parent = (*target)->cgroup.relative_path();
  cs.log_file = dir.file("container.log");
  cs.work_dir = dir.path();
  pid_t pid = -1;
  {
    auto c = (*engine)->start(cs);
    ASSERT_TRUE(c.ok()) << c.error().message;
    pid = (*c)->main_pid();
    auto paused = (*c)->pause();
    ASSERT_TRUE(paused.ok()) << paused.error().message;
  }
  EXPECT_FALSE(engine::process_running(pid));
  EXPECT_TRUE((*rec)->remove_target(*target).ok());
}

/// One resource limit a container must run with: its line in /proc/PID/limits
/// and its `ulimit` flag in busybox sh.
struct ExpectedLimit {
  std::string type;       ///< --ulimit TYPE
  std::string proc_name;  ///< "Max open files"
  std::string sh_flag;    ///< "n"
  std::uint64_t soft = 0;
  std::uint64_t hard = 0;
};

/// A spec whose steps pass only when the main process (/proc/1/limits) and a
/// process exec'd in the container both have each of limits.
inline std::string ulimit_spec(const std::vector<ExpectedLimit>& limits) {
  std::string spec =
      "name: ulimits\nimage:\n  busybox: {}\n"
      "command: [/bin/sh, -c, \"trap 'kill $p; exit 0' TERM; /bin/busybox sleep 1000 & p=$!; wait\"]\n"
      "stop: {signal: TERM, timeout: 5s}\nexplore:\n";
  for (const auto& l : limits) {
    std::string soft = std::to_string(l.soft), hard = std::to_string(l.hard);
    // The line is printed first: a failing step shows what the limit was.
    spec += "  - name: main-" + l.type + "\n    exec: [/bin/sh, -c, \"grep '" + l.proc_name +
            "' /proc/1/limits && grep -qE '^" + l.proc_name + " +" + soft + " +" + hard +
            " ' /proc/1/limits\"]\n";
    spec += "  - name: exec-" + l.type + "\n    exec: [/bin/sh, -c, \"ulimit -S" + l.sh_flag + "; ulimit -H" +
            l.sh_flag + "; test $(ulimit -S" + l.sh_flag + ") = " + soft + " && test $(ulimit -H" +
            l.sh_flag + ") = " + hard + "\"]\n";
  }
  return spec;
}

/// `sandmine mine --engine engine_name [flags...]` of ulimit_spec(limits) passes.
inline void expect_container_limits(const std::string& engine_name, const std::vector<std::string>& flags,
                                    const std::vector<ExpectedLimit>& limits, const std::string& cache_dir) {
  TempDir dir;
  write_text(dir.file("ulimits.yaml"), ulimit_spec(limits));
  std::vector<std::string> args{"mine", dir.file("ulimits.yaml"), "--engine", engine_name,
                                "-o",   dir.file("out"),          "--cache",  cache_dir};
  args.insert(args.end(), flags.begin(), flags.end());
  Outcome r = sandmine(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const auto& l : limits) {
    EXPECT_NE(r.err.find("explore main-" + l.type + ": ok"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("explore exec-" + l.type + ": ok"), std::string::npos) << r.err;
  }
}

/// Removes repository (every tag) from Docker's and Podman's stores: the
/// images mining imported.
inline void remove_images(const std::string& repository) {
  for (const char* client : {kDocker, kPodman}) {
    Outcome ids = run({client, "images", "-q", "--filter", "reference=" + repository});
    std::istringstream in(ids.out);
    for (std::string id; in >> id;) run({client, "rmi", "-f", id});
  }
}

}  // namespace sandmine::test
