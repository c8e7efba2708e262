// The runc engine under the recorder: the container is recorded from inside
// the target, its runtime set-up is unarmed and its work armed, test traffic
// reaches it on its own loopback, and nothing is left behind.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <thread>

#include "engine/runc.h"
#include "support/engines.h"
#include "support/trace_run.h"
#include "sys/files.h"
#include "syscalls/syscalls.h"
#include "trace/ebpf_recorder.h"

namespace sandmine::test {

namespace fs = std::filesystem;

std::set<std::string> names_of(const trace::Tallies& t) {
  std::set<std::string> out;
  for (const auto& [k, v] : t) out.insert(syscalls::name_of(k.arch, k.nr).value_or("?"));
  return out;
}

class RuncEngine : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!is_root()) SKIP_OR_FAIL_IN_CI("needs root (CI runs as root)");
    if (!fs::exists(kRunc)) SKIP_OR_FAIL_IN_CI("runc is not installed");
  }
};

TEST_F(RuncEngine, RecordsTheContainerArmedAndItsSetupUnarmed) {
  TempDir dir;
  std::string rootfs = busybox_rootfs(dir.file("image"));
  fs::create_directories(rootfs + "/www");
  write_text(rootfs + "/www/index.html", "hello from the container\n");
  fs::create_symlink("busybox", rootfs + "/bin/sh");

  auto rec = trace::EbpfRecorder::open();
  ASSERT_TRUE(rec.ok()) << rec.error().message;
  auto target = (*rec)->add_target("httpd");
  ASSERT_TRUE(target.ok()) << target.error().message;
  auto runc = engine::Runc::create(dir.file("state"));
  ASSERT_TRUE(runc.ok()) << runc.error().message;

  std::string name = "sandmine-test-" + std::to_string(getpid());
  {
    auto c = (*runc)->start({.name = name,
                             // PID 1 ignores signals it has no handler for: a shell
                             // that traps TERM stops gracefully, as real servers do.
                             .command = {"/bin/sh", "-c",
                                         "trap 'kill $pid; exit 0' TERM; "
                                         "/bin/busybox httpd -f -p 8080 -h /www & pid=$!; wait"},
                             .rootfs = rootfs,
                             .cgroup_parent = (*target)->cgroup.relative_path(),
                             .log_file = dir.file("container.log")});
    ASSERT_TRUE(c.ok()) << c.error().message;
    auto& container = **c;
    EXPECT_TRUE(container.running());

    // Host traffic on the container's own loopback.
    ASSERT_EQ(fetch_in_netns(container.netns_fd(), "http://127.0.0.1:8080/"), "hello from the container\n");
    // Not reachable from the host's own network namespace.
    auto outside = sys::run_command({"curl", "-sf", "--max-time", "2", "http://127.0.0.1:8080/"});
    ASSERT_TRUE(outside.ok());
    EXPECT_NE(outside->exit_code, 0);

    auto exec = container.exec({"/bin/busybox", "echo", "from exec"}, std::chrono::seconds(10));
    ASSERT_TRUE(exec.ok()) << exec.error().message;
    EXPECT_EQ(exec->exit_code, 0);
    EXPECT_EQ(exec->output, "from exec\n");

    // /etc/hosts and /etc/hostname as Docker gives them: lookups take the same paths.
    auto hosts =
        container.exec({"/bin/busybox", "cat", "/etc/hosts", "/etc/hostname"}, std::chrono::seconds(10));
    ASSERT_TRUE(hosts.ok());
    EXPECT_EQ(hosts->output,
              "127.0.0.1\tlocalhost " + name + "\n::1\tlocalhost ip6-localhost ip6-loopback\n" + name + "\n");

    auto stopped = container.stop(SIGTERM, std::chrono::seconds(5));
    ASSERT_TRUE(stopped.ok()) << stopped.error().message;
    EXPECT_TRUE(*stopped) << "httpd did not stop on SIGTERM";
  }

  auto counts = (*rec)->snapshot(**target);
  ASSERT_TRUE(counts.ok()) << counts.error().message;
  auto armed = names_of(counts->armed), unarmed = names_of(counts->unarmed);
  // The container's own work, after runc installed the (allow-all) filter.
  for (const char* s : {"execve", "accept", "read", "write"})
    EXPECT_TRUE(armed.count(s)) << s << " not armed; armed: " << describe_names(armed);
  // runc's set-up before the filter: recorded, but not for the profile.
  for (const char* s : {"pivot_root", "sethostname", "mount"}) {
    EXPECT_TRUE(unarmed.count(s)) << s << " not seen unarmed";
    EXPECT_FALSE(armed.count(s)) << s << " armed: runc set-up would end up in the profile";
  }
  EXPECT_TRUE((*rec)->health().ok());
  EXPECT_TRUE((*rec)->remove_target(*target).ok());

  // Nothing left: no container, no mount, no bundle, no cgroup.
  auto list = run({kRunc, "--root", dir.file("state") + "/runc", "list", "-q"});
  EXPECT_EQ(list.out, "");
  EXPECT_EQ(sys::read_file("/proc/self/mountinfo")->find(dir.file("state")), std::string::npos);
  EXPECT_FALSE(fs::exists(dir.file("state") + "/" + name));
}

}  // namespace sandmine::test
