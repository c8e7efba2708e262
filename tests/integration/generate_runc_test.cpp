// A generator over a runc container through ContainerTarget, as the mining
// run will drive it: runc pause and resume, the run's restart, and the
// writable layer (a tmpfs of its own) made full for exactly one step.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/vfs.h>

#include <linux/magic.h>

#include <algorithm>
#include <thread>

#include "engine/runc.h"
#include "explore/generate/container_target.h"
#include "explore/generate/generator.h"
#include "support/engines.h"
#include "support/run.h"
#include "trace/ebpf_recorder.h"

namespace sandmine::test {
namespace {

using std::chrono::milliseconds;

class GenerateRunc : public RuncTest {};

TEST_F(GenerateRunc, PauseRestartAndAFullWritableLayerOverRunc) {
  TempDir dir;
  std::string rootfs = busybox_rootfs(dir.file("image"));
  std::filesystem::create_directories(rootfs + "/tmp");
  for (const char* tool : {"sh", "touch", "mkfifo", "test", "rm"})
    std::filesystem::create_symlink("busybox", rootfs + "/bin/" + tool);
  auto rec = trace::EbpfRecorder::open();
  ASSERT_TRUE(rec.ok()) << rec.error().message;
  auto target = (*rec)->add_target("generate");
  ASSERT_TRUE(target.ok()) << target.error().message;
  auto runc = engine::Runc::create(dir.file("state"));
  ASSERT_TRUE(runc.ok()) << runc.error().message;
  {
    // A new file in the writable layer every 50 ms (a read that times out on
    // a fifo nobody writes keeps the time without forking); a write that
    // fails leaves a mark on /dev/shm, a file system of its own.
    auto c = (*runc)->start(
        {.name = "sandmine-generate-" + std::to_string(getpid()),
         .command =
             {"/bin/sh", "-c",
              "trap 'exit 0' TERM; mkfifo /tmp/tick; i=0; while :; do i=$((i+1)); "
              "echo x > /tmp/f$i 2>/dev/null || touch /dev/shm/failed; read -t 0.05 x <> /tmp/tick; done"},
         .rootfs = rootfs,
         .cgroup_parent = (*target)->cgroup.relative_path(),
         .log_file = dir.file("container.log")});
    ASSERT_TRUE(c.ok()) << c.error().message;
    auto& container = **c;
    std::string layer = container.writable_layer();
    ASSERT_FALSE(layer.empty());
    struct statfs st {};
    ASSERT_EQ(statfs(layer.c_str(), &st), 0);
    EXPECT_EQ(st.f_type, TMPFS_MAGIC);

    int restarts = 0;
    // The generator reads the signals the shell catches when it starts: wait
    // until the shell runs its loop (its traps are set by then), as mining
    // waits for a ready probe.
    bool looping = false;
    for (int i = 0; i < 100 && !looping; ++i) {
      auto r = container.exec({"/bin/test", "-e", "/tmp/f1"}, std::chrono::seconds(10));
      ASSERT_TRUE(r.ok());
      looping = r->exit_code == 0;
      if (!looping) std::this_thread::sleep_for(milliseconds(50));
    }
    ASSERT_TRUE(looping) << "the shell never wrote /tmp/f1";
    explore::generate::ContainerTarget t(container, {.restart = [&]() -> Status {
                                                       ++restarts;
                                                       return container.restart(SIGTERM,
                                                                                std::chrono::seconds(5));
                                                     },
                                                     .syscalls = [&]() -> std::optional<std::uint64_t> {
                                                       auto counts = (*rec)->snapshot(**target);
                                                       if (!counts) return std::nullopt;
                                                       return explore::generate::total_syscalls(*counts);
                                                     },
                                                     .cgroup_dir = (*target)->cgroup.path()});
    explore::generate::GenerateOptions options;
    options.http = options.tcp = false;
    options.quiet = 0;
    auto source = explore::generate::make_generator(t, options);
    std::vector<std::string> names;
    std::string log;  // for failure messages
    while (auto step = source->next()) {
      names.push_back(step->name);
      // Writes work before the layer is made full. The nofile edge before
      // may have left a mark (its open-file limit fails the redirect); the
      // mark is cleared here, so one found after the step is this step's.
      if (step->name == "auto/edge/enospc") {
        auto cleared = container.exec({"/bin/rm", "-f", "/dev/shm/failed"}, std::chrono::seconds(10));
        ASSERT_TRUE(cleared.ok());
        EXPECT_EQ(cleared->exit_code, 0) << cleared->output;
        auto before = container.exec({"/bin/sh", "-c", "echo y > /tmp/before"}, std::chrono::seconds(10));
        ASSERT_TRUE(before.ok());
        EXPECT_EQ(before->exit_code, 0) << "a write failed before the layer was full: " << before->output;
      }
      auto o = step->body(t);
      EXPECT_TRUE(o.ok) << step->name << ": " << o.failure;
      log += step->name + ": " + o.output;
      source->feedback({});
      if (step->name == "auto/edge/enospc") {
        // The full layer made writes fail; it has its size back, so they work again.
        auto failed = container.exec({"/bin/test", "-e", "/dev/shm/failed"}, std::chrono::seconds(10));
        ASSERT_TRUE(failed.ok());
        EXPECT_EQ(failed->exit_code, 0) << "no write failed while the layer was full";
        auto write = container.exec({"/bin/sh", "-c", "echo y > /tmp/after"}, std::chrono::seconds(10));
        ASSERT_TRUE(write.ok());
        EXPECT_EQ(write->exit_code, 0) << write->output;
        EXPECT_FALSE(std::filesystem::exists(layer + "/.sandmine-full"));
      }
    }
    EXPECT_EQ(source->stop_reason(), explore::generate::StopReason::Exhausted) << source->stop_detail();
    for (const char* want : {"auto/pause", "auto/restart", "auto/edge/nofile", "auto/edge/enospc"})
      EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
    // The parts take turns: lifecycle, then edges.
    ASSERT_GE(names.size(), 4u);
    EXPECT_TRUE(names[0].starts_with("auto/signal/")) << names[0];
    EXPECT_EQ(names[1], "auto/edge/nofile");
    EXPECT_TRUE(names[2].starts_with("auto/signal/")) << names[2];
    EXPECT_EQ(names[3], "auto/edge/enospc");
    // The warm restart, and one more for each signal that ended the shell.
    std::size_t exits = 0;
    for (std::size_t at = 0; (at = log.find("the container exited; restarted", at)) != std::string::npos;
         ++at)
      ++exits;
    EXPECT_EQ(restarts, 1 + static_cast<int>(exits)) << log;

    auto stopped = container.stop(SIGTERM, std::chrono::seconds(5));
    ASSERT_TRUE(stopped.ok()) << stopped.error().message;
  }
  EXPECT_TRUE((*rec)->remove_target(*target).ok());
}

}  // namespace
}  // namespace sandmine::test
