#pragma once
// Container engines in tests: what is there, images and bundles from busybox.

#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "spec/spec.h"
#include "support/run.h"

namespace sandmine::test {

inline constexpr const char* kDocker = "/usr/bin/docker";  // Debian's docker.io client, matching its daemon
inline constexpr const char* kRunc = "/usr/sbin/runc";
inline constexpr const char* kPodman = "/usr/bin/podman";

/// Tests that need root, runc, a Docker daemon and Podman. TearDown checks
/// that nothing was left: cgroups, BPF programs, containers of any engine.
class AllEngines : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
};

/// Tests that need root and runc. TearDown checks that no cgroup, BPF
/// program or runc container was left. A fixture that adds to SetUp calls
/// RuncTest::SetUp() first and returns when it skipped or failed.
class RuncTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  /// Whether SetUp stopped the test (skipped, or failed in CI).
  static bool stopped() { return IsSkipped() || HasFatalFailure(); }
};

/// The busybox-httpd example (examples/busybox-httpd.yaml): its command is the
/// one tests run under mined profiles.
spec::Spec httpd_example();

/// The busybox root file system a `sandmine mine` left in cache_dir ("" if none).
std::string cached_busybox_rootfs(const std::string& cache_dir);

/// GETs url from inside a network namespace until it answers, for up to
/// timeout_ms; the body, or "" when it never answered.
std::string fetch_in_netns(int netns_fd, const std::string& url, int timeout_ms = 5000);

/// Whether a Docker daemon answers.
bool docker_running();

/// A root file system with /bin/busybox (busybox-static) at dir/rootfs; returns its path.
std::string busybox_rootfs(const std::string& dir);

/// `docker import`s rootfs as name:<tag> and returns the reference, "" on failure.
std::string docker_import(const std::string& rootfs, const std::string& name);

/// Writes dir/config.json for runc (from `runc spec`): args, no terminal, an
/// allow-all seccomp filter, no_new_privs off (as Docker runs containers) and
/// cgroups_path.
void write_runc_config(const std::string& dir, const std::vector<std::string>& args,
                       const std::string& cgroups_path);

}  // namespace sandmine::test
