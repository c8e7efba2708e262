#include "support/engines.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "support/run.h"
#include "support/trace_run.h"
#include "sys/command.h"

namespace sandmine::test {

namespace fs = std::filesystem;

void RuncTest::SetUp() {
  if (!is_root()) SKIP_OR_FAIL_IN_CI("needs root (CI runs as root)");
  if (!fs::exists(kRunc)) SKIP_OR_FAIL_IN_CI("runc is not installed");
}

void RuncTest::TearDown() {
  if (!is_root()) return;
  EXPECT_EQ(leftovers(), std::vector<std::string>{});
  EXPECT_EQ(runc_leftovers(), std::vector<std::string>{});
}

void AllEngines::SetUp() {
  if (!is_root()) SKIP_OR_FAIL_IN_CI("needs root (CI runs as root)");
  if (!fs::exists(kRunc)) SKIP_OR_FAIL_IN_CI("runc is not installed");
  if (!docker_running()) SKIP_OR_FAIL_IN_CI("no Docker daemon (start dockerd; scripts/test.sh does)");
  if (!fs::exists(kPodman)) SKIP_OR_FAIL_IN_CI("podman is not installed");
}

void AllEngines::TearDown() {
  if (!is_root()) return;
  EXPECT_EQ(leftovers(), std::vector<std::string>{});
  EXPECT_EQ(runc_leftovers(), std::vector<std::string>{});
  EXPECT_EQ(run({kDocker, "ps", "-aq", "--filter", "label=sandmine"}).out, "");
  EXPECT_EQ(run({kPodman, "ps", "-aq", "--filter", "label=sandmine"}).out, "");
}

spec::Spec httpd_example() {
  auto spec = spec::read_spec(std::string(EXAMPLES_DIR) + "/busybox-httpd.yaml");
  if (!spec) throw std::runtime_error(spec.error().message);
  return *spec;
}

std::string cached_busybox_rootfs(const std::string& cache_dir) {
  for (const auto& entry : fs::directory_iterator(cache_dir))
    if (fs::exists(entry.path() / "rootfs/bin/busybox")) return (entry.path() / "rootfs").string();
  return "";
}

std::string fetch_in_netns(int netns_fd, const std::string& url, int timeout_ms) {
  std::string body;
  wait_until(
      [&] {
        auto got = sys::run_command({"curl", "-sf", url}, {.netns_fd = netns_fd});
        if (got && got->exit_code == 0) body = got->output;
        return got && got->exit_code == 0;
      },
      timeout_ms);
  return body;
}

bool docker_running() { return fs::exists(kDocker) && run({kDocker, "info"}).exit_code == 0; }

std::string busybox_rootfs(const std::string& dir) {
  std::string rootfs = dir + "/rootfs";
  fs::create_directories(rootfs + "/bin");
  fs::copy_file("/bin/busybox", rootfs + "/bin/busybox");
  return rootfs;
}

std::string docker_import(const std::string& rootfs, const std::string& name) {
  std::string tar = rootfs + ".tar";
  if (run({"/bin/tar", "-C", rootfs, "-cf", tar, "."}).exit_code != 0) return "";
  std::string ref = name + ":" + std::to_string(getpid());
  Outcome r = run({kDocker, "import", "-c", "LABEL sandmine=test", tar, ref});
  return r.exit_code == 0 ? ref : "";
}

void write_runc_config(const std::string& dir, const std::vector<std::string>& args,
                       const std::string& cgroups_path) {
  Outcome spec = run({kRunc, "spec", "--bundle", dir});
  ASSERT_EQ(spec.exit_code, 0) << spec.err;
  auto config = read_json(dir + "/config.json");
  config["process"]["terminal"] = false;
  config["process"]["args"] = args;
  config["process"]["noNewPrivileges"] = false;
  config["root"]["readonly"] = true;
  config["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"}};
  config["linux"]["cgroupsPath"] = cgroups_path;
  write_text(dir + "/config.json", config.dump(2));
}

}  // namespace sandmine::test
