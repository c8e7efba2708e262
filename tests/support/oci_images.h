#pragma once
// Images with a config, made here without a registry: an OCI image layout
// built with umoci (two layers, whiteouts, a StopSignal), and the checks that
// a container of such an image runs as its config says, under any engine.

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/engine.h"
#include "explore/driver.h"
#include "spec/spec.h"
#include "support/run.h"
#include "sys/cgroup.h"
#include "sys/files.h"

namespace sandmine::test {

/// The main process of the test images: reports HUP and USR1, ignores TERM
/// and INT, and exits 0 on QUIT, saying so; so only a QUIT stops it quickly.
/// busybox httpd serves /www on 8080 beside it.
inline const std::string kRunScript =
    "trap 'echo got HUP' HUP\n"
    "trap 'echo got USR1' USR1\n"
    "trap '' TERM INT\n"
    "trap 'echo got QUIT; exit 0' QUIT\n"
    "/bin/busybox httpd -p 8080 -h /www\n"
    "while :; do /bin/busybox sleep 1 & wait $!; done\n";

inline const std::string kPasswd = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n";
inline const std::string kGroup = "root:x:0:\nstaff:x:50:app\napp:x:1000:\n";

/// Writes a busybox root file system at dir: /bin/busybox and its sh link,
/// the passwd and group above, /app/run.sh, /www/index.html, /srv and
/// /home/app, and /data with a, gone, dir/x and keep.
inline void write_image_tree(const std::string& dir) {
  namespace fs = std::filesystem;
  for (const char* d : {"bin", "etc", "app", "www", "srv", "home/app", "tmp", "data/dir"})
    fs::create_directories(fs::path(dir) / d);
  fs::copy_file("/bin/busybox", dir + "/bin/busybox");
  fs::create_symlink("busybox", dir + "/bin/sh");
  write_text(dir + "/etc/passwd", kPasswd);
  write_text(dir + "/etc/group", kGroup);
  write_text(dir + "/app/run.sh", kRunScript);
  write_text(dir + "/www/index.html", "hello from the image\n");
  for (const char* f : {"a", "gone", "dir/x", "keep"}) write_text(dir + "/data/" + f, std::string(f) + "\n");
  ::chmod((dir + "/tmp").c_str(), 01777);
  ::chown((dir + "/home/app").c_str(), 1000, 1000);
  ::chown((dir + "/srv").c_str(), 1000, 1000);
}

/// Runs argv and fails the test (returning false) unless it exits 0.
inline bool run_succeeds(const std::vector<std::string>& argv) {
  Outcome r = run(argv);
  EXPECT_EQ(r.exit_code, 0) << argv[0] << " " << (argv.size() > 1 ? argv[1] : "") << ": " << r.err << r.out;
  return r.exit_code == 0;
}

/// An OCI image layout at dir/layout with one image tagged "t": the tree of
/// write_image_tree as its first layer; a second layer that deletes
/// /data/gone (a whiteout), hides /data/dir's content (an opaque whiteout),
/// adds /data/dir/y and /data/c; and a config with every field umoci sets:
/// Entrypoint /bin/sh, Cmd /app/run.sh, User app, WorkingDir /srv, Env,
/// StopSignal SIGQUIT, ExposedPorts 8080/tcp. Returns the layout's path.
inline std::string make_oci_layout(const std::string& dir) {
  const std::string layout = dir + "/layout";
  const std::string one = dir + "/layer1", two = dir + "/layer2";
  write_image_tree(one);
  std::filesystem::create_directories(two + "/data/dir");
  write_text(two + "/data/.wh.gone", "");
  write_text(two + "/data/dir/.wh..wh..opq", "");
  write_text(two + "/data/dir/y", "y\n");
  write_text(two + "/data/c", "c\n");
  bool ok =
      run_succeeds({"/usr/bin/umoci", "init", "--layout", layout}) &&
      run_succeeds({"/usr/bin/umoci", "new", "--image", layout + ":t"}) &&
      run_succeeds({"/bin/tar", "--numeric-owner", "-C", one, "-cf", dir + "/layer1.tar", "."}) &&
      run_succeeds({"/bin/tar", "--numeric-owner", "-C", two, "-cf", dir + "/layer2.tar", "."}) &&
      run_succeeds({"/usr/bin/umoci", "raw", "add-layer", "--image", layout + ":t", dir + "/layer1.tar"}) &&
      run_succeeds({"/usr/bin/umoci", "raw", "add-layer", "--image", layout + ":t", dir + "/layer2.tar"}) &&
      run_succeeds({"/usr/bin/umoci",
                    "config",
                    "--image",
                    layout + ":t",
                    "--config.entrypoint",
                    "/bin/sh",
                    "--config.cmd",
                    "/app/run.sh",
                    "--config.user",
                    "app",
                    "--config.workingdir",
                    "/srv",
                    "--config.env",
                    "PATH=/bin",
                    "--config.env",
                    "GREETING=from the image",
                    "--config.stopsignal",
                    "SIGQUIT",
                    "--config.exposedports",
                    "8080/tcp"});
  return ok ? layout : "";
}

/// What the main process of a container of the test image sees (read from
/// inside: pid 1 is the main process under every engine).
struct MainProcess {
  std::string uid, gid, groups;  ///< "Uid:"/"Gid:" lines' first field, "Groups:" as listed
  std::string cwd;
  std::map<std::string, std::string> env;
};

inline std::string proc_status_field(const std::string& status, const std::string& name) {
  std::istringstream lines(status);
  for (std::string line; std::getline(lines, line);)
    if (line.starts_with(name + ":")) {
      std::string v = line.substr(name.size() + 1);
      v.erase(0, v.find_first_not_of(" \t"));
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.pop_back();
      return v;
    }
  return "";
}

inline MainProcess main_process_of(engine::Container& c) {
  MainProcess m;
  auto exec = [&](const std::vector<std::string>& argv) {
    auto r = c.exec(argv, std::chrono::seconds(10));
    EXPECT_TRUE(r.ok() && r->exit_code == 0) << (r ? r->output : r.error().message);
    return r ? r->output : "";
  };
  std::string status = exec({"/bin/busybox", "cat", "/proc/1/status"});
  m.uid = proc_status_field(status, "Uid").substr(0, proc_status_field(status, "Uid").find('\t'));
  m.gid = proc_status_field(status, "Gid").substr(0, proc_status_field(status, "Gid").find('\t'));
  m.groups = proc_status_field(status, "Groups");
  m.cwd = exec({"/bin/busybox", "readlink", "/proc/1/cwd"});
  if (!m.cwd.empty() && m.cwd.back() == '\n') m.cwd.pop_back();
  std::string environ = exec({"/bin/busybox", "cat", "/proc/1/environ"});
  std::istringstream vars(environ);
  for (std::string kv; std::getline(vars, kv, '\0');) {
    size_t eq = kv.find('=');
    if (eq != std::string::npos) m.env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return m;
}

/// A listing of the image's own files in a container of the test image
/// (path, mode, owner, size), to compare the root file systems engines give.
inline std::string image_files_in(engine::Container& c) {
  auto r =
      c.exec({"/bin/sh", "-c",
              "cd / && /bin/busybox find data app www etc/passwd etc/group bin/busybox | /bin/busybox sort | "
              "while read f; do /bin/busybox stat -c '%n %f %u:%g %s' \"$f\"; done"},
             std::chrono::seconds(10));
  EXPECT_TRUE(r.ok() && r->exit_code == 0) << (r ? r->output : r.error().message);
  return r ? r->output : "";
}

/// Starts spec's container (the image's config applied, as mining does)
/// under engine_name, unconfined, in a cgroup of its own; checks what its
/// main process sees against the test image's config (user app with group
/// staff and its own group 1000, cwd /srv, its Env and the HOME of its passwd
/// entry; any engine's own HOSTNAME, and Podman's container=podman and
/// TERM=xterm, aside), that the stop
/// signal is the image's QUIT (the process ignores TERM, so only QUIT stops
/// it in time, and it says "got QUIT"), and returns the listing of its files.
inline std::string expect_config_effects(const spec::Spec& given, const std::string& engine_name,
                                         const std::string& cache_dir, const std::string& work_dir) {
  auto spec = explore::resolve_spec(given, engine_name, cache_dir, {});
  EXPECT_TRUE(spec.ok()) << spec.error().message;
  if (!spec) return "";
  EXPECT_EQ(spec->stop.signal, SIGQUIT);
  EXPECT_EQ(spec->user, "1000:1000");
  EXPECT_EQ(spec->additional_gids, (std::vector<unsigned>{50, 1000}));
  auto engine = engine::make_engine(engine_name);
  EXPECT_TRUE(engine.ok()) << engine.error().message;
  if (!engine) return "";
  auto image = explore::prepare_image(*spec, **engine, cache_dir, {});
  EXPECT_TRUE(image.ok()) << image.error().message;
  if (!image) return "";
  EXPECT_EQ(image->id, spec->image_digest);
  auto group = sys::Cgroup::create(*sys::cgroup2_mount(), "sandmine-test-" + std::to_string(::getpid()));
  EXPECT_TRUE(group.ok()) << group.error().message;
  if (!group) return "";
  auto cs = explore::container_for(*spec, *image,
                                   "sandmine-config-" + engine_name + "-" + std::to_string(::getpid()));
  cs.seccomp = engine::ContainerSpec::Seccomp::Unconfined;
  cs.cgroup_parent = group->relative_path();
  cs.log_file = work_dir + "/" + engine_name + ".log";
  cs.work_dir = work_dir;
  std::string files;
  {
    auto c = (*engine)->start(cs);
    EXPECT_TRUE(c.ok()) << c.error().message;
    if (!c) return "";
    MainProcess m = main_process_of(**c);
    EXPECT_EQ(m.uid, "1000");
    EXPECT_EQ(m.gid, "1000");
    EXPECT_EQ(m.groups, "50 1000");
    EXPECT_EQ(m.cwd, "/srv");
    EXPECT_FALSE(m.env["HOSTNAME"].empty());
    m.env.erase("HOSTNAME");
    // Podman's own, even without a terminal.
    if (engine_name == "podman") {
      EXPECT_EQ(m.env["container"], "podman");
      EXPECT_EQ(m.env["TERM"], "xterm");
      m.env.erase("container");
      m.env.erase("TERM");
    }
    EXPECT_EQ(m.env, (std::map<std::string, std::string>{
                         {"PATH", "/bin"}, {"GREETING", "from the image"}, {"HOME", "/home/app"}}));
    files = image_files_in(**c);
    auto stopped = (*c)->stop(spec->stop.signal, std::chrono::seconds(4));
    EXPECT_TRUE(stopped.ok() && *stopped) << "the main process did not stop on the image's stop signal";
    EXPECT_NE((*c)->logs().find("got QUIT"), std::string::npos) << (*c)->logs();
  }
  EXPECT_TRUE(group->remove().ok());
  return files;
}

}  // namespace sandmine::test
