// The image stage: busybox, rootfs-tarball and Debian images built into the
// cache and found there again, recipe hashes, and imports into Docker.
#include "image/image.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "support/engines.h"
#include "support/run.h"
#include "sys/files.h"

namespace sandmine::test {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Debian builds take half a minute: they stay cached here between runs.
constexpr const char* kDebianTestCache = "/var/cache/sandmine-test/images";

spec::BusyboxImage web_files() {
  spec::BusyboxImage b;
  b.files["/srv/www/index.html"] = "<h1>hello</h1>\n";
  b.files["/etc/web.conf"] = "port=8080\nroot=/srv/www\n";
  b.files["/usr/local/bin/serve"] = "#!/bin/sh\nexec httpd -f -p 8080 -h /srv/www\n";
  return b;
}

std::string content(const std::string& path) {
  auto text = sys::read_file(path);
  return text ? *text : "<cannot read " + path + ">";
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Everything directly in the cache dir: entries, locks, leftovers.
std::vector<std::string> cache_listing(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

struct Built {
  Result<image::Rootfs> rootfs;
  std::vector<std::string> progress;
  double seconds;
};

Built build(const spec::Image& img, const std::string& cache, const std::string& name = "web") {
  std::vector<std::string> lines;
  auto start = Clock::now();
  auto r = image::build(
      img, {.name = name, .cache_dir = cache, .progress = [&](const std::string& l) { lines.push_back(l); }});
  return {std::move(r), std::move(lines), seconds_since(start)};
}

std::string join(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

TEST(BusyboxImage, HasTheFilesAndARunnableBusybox) {
  TempDir cache;
  auto b = build(web_files(), cache.path());
  ASSERT_TRUE(b.rootfs.ok()) << b.rootfs.error().message;
  const image::Rootfs& r = *b.rootfs;
  std::cout << "busybox image built in " << b.seconds << " s\n";

  EXPECT_FALSE(r.cached);
  EXPECT_EQ(r.hash, *image::recipe_hash(web_files()));
  EXPECT_EQ(r.dir, cache.path() + "/" + r.hash + "/rootfs");
  EXPECT_EQ(r.tarball, cache.path() + "/" + r.hash + "/rootfs.tar");
  EXPECT_EQ(cache_listing(cache.path()), (std::vector<std::string>{r.hash, r.hash + ".lock"}));
  auto recipe = read_json(cache.path() + "/" + r.hash + "/recipe.json");
  EXPECT_EQ(recipe["kind"], "busybox");
  EXPECT_EQ(recipe["files"]["/etc/web.conf"], "port=8080\nroot=/srv/www\n");

  EXPECT_EQ(content(r.dir + "/srv/www/index.html"), "<h1>hello</h1>\n");
  EXPECT_EQ(content(r.dir + "/etc/web.conf"), "port=8080\nroot=/srv/www\n");
  EXPECT_EQ(content(r.dir + "/usr/local/bin/serve"), "#!/bin/sh\nexec httpd -f -p 8080 -h /srv/www\n");
  EXPECT_EQ(fs::status(r.dir + "/usr/local/bin/serve").permissions(), fs::perms(0755));
  EXPECT_EQ(fs::status(r.dir + "/etc/web.conf").permissions(), fs::perms(0644));
  EXPECT_EQ(content(r.dir + "/etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
  EXPECT_EQ(content(r.dir + "/etc/group"), "root:x:0:\nnogroup:x:65534:\n");
  EXPECT_EQ(fs::status(r.dir + "/tmp").permissions(), fs::perms(01777));
  for (const char* empty : {"/proc", "/sys", "/dev"}) EXPECT_TRUE(fs::is_empty(r.dir + empty)) << empty;
  EXPECT_EQ(fs::read_symlink(r.dir + "/bin/sh"), "busybox");
  EXPECT_EQ(content(r.dir + "/bin/busybox"), content("/bin/busybox"));

  Outcome hi = run({r.dir + "/bin/busybox", "echo", "hi"});
  EXPECT_EQ(hi.exit_code, 0) << hi.err;
  EXPECT_EQ(hi.out, "hi\n");

  // The tarball holds the same tree, owned by root.
  Outcome listing = run({"/bin/tar", "--numeric-owner", "-tvf", r.tarball, "./etc/web.conf", "./bin/sh"});
  ASSERT_EQ(listing.exit_code, 0) << listing.err;
  EXPECT_NE(listing.out.find("0/0"), std::string::npos) << listing.out;
  EXPECT_NE(listing.out.find("./bin/sh -> busybox"), std::string::npos) << listing.out;

  ASSERT_EQ(b.progress.size(), 2u) << join(b.progress);
  EXPECT_EQ(b.progress[0], "building image web (busybox with 3 files)...");
  EXPECT_EQ(b.progress[1].rfind("image ready in ", 0), 0u) << b.progress[1];
  EXPECT_NE(b.progress[1].find(" s (cached as " + r.hash.substr(0, 12) + ")"), std::string::npos)
      << b.progress[1];
}

TEST(BusyboxImage, RunsInAChrootAsARootFileSystem) {
  if (!is_root()) SKIP_OR_FAIL_IN_CI("chroot needs root (CI runs as root)");
  TempDir cache;
  auto b = build(web_files(), cache.path());
  ASSERT_TRUE(b.rootfs.ok()) << b.rootfs.error().message;
  Outcome r = run(
      {"/usr/sbin/chroot", b.rootfs->dir, "/bin/sh", "-c", "cat /etc/web.conf; ls /usr/local/bin; id -un"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "port=8080\nroot=/srv/www\nserve\nroot\n");
}

TEST(BusyboxImage, SecondBuildIsFoundInTheCacheAndBuildsNothing) {
  TempDir cache;
  auto first = build(web_files(), cache.path());
  ASSERT_TRUE(first.rootfs.ok()) << first.rootfs.error().message;
  // A rebuild would replace the entry and lose this.
  write_text(first.rootfs->dir + "/marker", "kept");

  auto second = build(web_files(), cache.path());
  ASSERT_TRUE(second.rootfs.ok()) << second.rootfs.error().message;
  std::cout << "busybox image: built in " << first.seconds << " s, found in the cache in " << second.seconds
            << " s\n";
  EXPECT_TRUE(second.rootfs->cached);
  EXPECT_EQ(second.rootfs->dir, first.rootfs->dir);
  EXPECT_EQ(second.rootfs->tarball, first.rootfs->tarball);
  EXPECT_EQ(second.rootfs->hash, first.rootfs->hash);
  EXPECT_EQ(content(second.rootfs->dir + "/marker"), "kept");
  EXPECT_LT(second.seconds, first.seconds);
  EXPECT_EQ(second.progress, std::vector<std::string>{"image web found in the cache (" +
                                                      first.rootfs->hash.substr(0, 12) + ")"});
}

TEST(BusyboxImage, ConcurrentBuildersShareOneEntry) {
  TempDir cache;
  std::vector<Result<image::Rootfs>> results(4, Error{"not run"});
  std::vector<std::thread> threads;
  threads.reserve(results.size());
  for (auto& slot : results)
    threads.emplace_back(
        [&] { slot = image::build(web_files(), {.name = "web", .cache_dir = cache.path()}); });
  for (auto& t : threads) t.join();
  int built = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->dir, results[0]->dir);
    built += r->cached ? 0 : 1;
  }
  EXPECT_EQ(built, 1);
  EXPECT_EQ(cache_listing(cache.path()),
            (std::vector<std::string>{results[0]->hash, results[0]->hash + ".lock"}));
}

TEST(BusyboxImage, InterruptedBuildLeftoversAreReplaced) {
  TempDir cache;
  std::string hash = *image::recipe_hash(web_files());
  fs::create_directories(cache.file(hash + ".partial/rootfs/half"));
  auto b = build(web_files(), cache.path());
  ASSERT_TRUE(b.rootfs.ok()) << b.rootfs.error().message;
  EXPECT_FALSE(fs::exists(b.rootfs->dir + "/half"));
  EXPECT_EQ(cache_listing(cache.path()), (std::vector<std::string>{hash, hash + ".lock"}));
}

TEST(BusyboxImage, LeftoverMountsAreNeverDeletedThrough) {
  if (!is_root()) SKIP_OR_FAIL_IN_CI("mounting needs root (CI runs as root)");
  TempDir cache;
  std::string hash = *image::recipe_hash(web_files());
  std::string proc = cache.file(hash + ".partial/rootfs/proc");
  fs::create_directories(proc);
  Outcome mounted = run({"/bin/mount", "-t", "tmpfs", "leftover", proc});
  ASSERT_EQ(mounted.exit_code, 0) << mounted.err;
  struct Unmount {
    std::string point;
    ~Unmount() {
      if (!point.empty()) run({"/bin/umount", "-l", point});
    }  // before TempDir deletes, even when the test fails
  } unmount{proc};
  write_text(proc + "/precious", "still here");

  auto b = build(web_files(), cache.path());
  ASSERT_FALSE(b.rootfs.ok());
  EXPECT_EQ(b.rootfs.error().message, "cannot build image web: an interrupted build left " + proc +
                                          " mounted; run umount -R " + proc + " and try again");
  EXPECT_EQ(content(proc + "/precious"), "still here");
  ASSERT_EQ(run({"/bin/umount", proc}).exit_code, 0);
  unmount.point = "";
  auto retried = build(web_files(), cache.path());
  EXPECT_TRUE(retried.rootfs.ok()) << retried.rootfs.error().message;
}

TEST(BusyboxImage, APathOutsideTheImageIsAnErrorAndLeavesNoEntry) {
  TempDir cache;
  spec::BusyboxImage b;
  b.files["/etc/../../escape"] = "x";
  auto r = build(b, cache.path());
  ASSERT_FALSE(r.rootfs.ok());
  EXPECT_EQ(r.rootfs.error().message,
            "cannot build image web: busybox file '/etc/../../escape' is not an absolute path in the image "
            "without .. components");
  EXPECT_TRUE(fs::is_empty(cache.path()));
}

TEST(RecipeHash, FollowsFileContentNotMapOrder) {
  spec::BusyboxImage a, b;
  a.files["/a"] = "1";
  a.files["/b"] = "2";
  b.files["/b"] = "2";
  b.files["/a"] = "1";
  auto ha = image::recipe_hash(a), hb = image::recipe_hash(b);
  ASSERT_TRUE(ha.ok()) << ha.error().message;
  ASSERT_TRUE(hb.ok()) << hb.error().message;
  EXPECT_EQ(ha->size(), 64u);
  EXPECT_EQ(ha->find_first_not_of("0123456789abcdef"), std::string::npos) << *ha;
  EXPECT_EQ(*ha, *hb);

  spec::BusyboxImage changed = a;
  changed.files["/b"] = "3";
  EXPECT_NE(*image::recipe_hash(changed), *ha);
  spec::BusyboxImage moved;
  moved.files["/a"] = "1";
  moved.files["/c"] = "2";
  EXPECT_NE(*image::recipe_hash(moved), *ha);
  spec::BusyboxImage binary;
  binary.files["/bin/blob"] = std::string("\xff\xfe\x00\x01", 4);
  spec::BusyboxImage other_binary;
  other_binary.files["/bin/blob"] = std::string("\xff\xfe\x00\x02", 4);
  ASSERT_TRUE(image::recipe_hash(binary).ok()) << image::recipe_hash(binary).error().message;
  EXPECT_NE(*image::recipe_hash(binary), *image::recipe_hash(other_binary));
}

TEST(RecipeHash, DebianFollowsThePackageSetNotItsOrder) {
  spec::DebianImage a{.suite = "bookworm", .packages = {"nginx-light", "curl"}, .variant = "apt"};
  spec::DebianImage b{.suite = "bookworm", .packages = {"curl", "nginx-light", "curl"}, .variant = "apt"};
  EXPECT_EQ(*image::recipe_hash(a), *image::recipe_hash(b));
  spec::DebianImage other_suite = a;
  other_suite.suite = "trixie";
  EXPECT_NE(*image::recipe_hash(other_suite), *image::recipe_hash(a));
  spec::DebianImage other_variant = a;
  other_variant.variant = "minbase";
  EXPECT_NE(*image::recipe_hash(other_variant), *image::recipe_hash(a));
  spec::DebianImage more = a;
  more.packages.push_back("procps");
  EXPECT_NE(*image::recipe_hash(more), *image::recipe_hash(a));
}

TEST(RootfsImage, TarballRoundTrip) {
  TempDir cache, work;
  auto source = build(web_files(), cache.path());
  ASSERT_TRUE(source.rootfs.ok()) << source.rootfs.error().message;
  fs::copy_file(source.rootfs->tarball, work.file("mine.tar"));
  fs::copy_file(source.rootfs->tarball, work.file("same-bytes.tar"));

  spec::RootfsImage img{work.file("mine.tar")};
  TempDir cache2;
  auto b = build(img, cache2.path(), "tarball");
  ASSERT_TRUE(b.rootfs.ok()) << b.rootfs.error().message;
  EXPECT_FALSE(b.rootfs->cached);
  EXPECT_EQ(content(b.rootfs->dir + "/etc/web.conf"), "port=8080\nroot=/srv/www\n");
  EXPECT_EQ(fs::status(b.rootfs->dir + "/tmp").permissions(), fs::perms(01777));
  EXPECT_EQ(content(b.rootfs->tarball), content(work.file("mine.tar")));
  Outcome hi = run({b.rootfs->dir + "/bin/busybox", "echo", "hi"});
  EXPECT_EQ(hi.out, "hi\n");
  EXPECT_EQ(b.progress.at(0), "building image tarball (rootfs " + work.file("mine.tar") + ")...");

  // The hash is the tarball's bytes, not its path.
  EXPECT_EQ(*image::recipe_hash(spec::RootfsImage{work.file("same-bytes.tar")}), b.rootfs->hash);
  auto again = build(spec::RootfsImage{work.file("same-bytes.tar")}, cache2.path());
  ASSERT_TRUE(again.rootfs.ok()) << again.rootfs.error().message;
  EXPECT_TRUE(again.rootfs->cached);
  std::ofstream(work.file("mine.tar"), std::ios::app) << std::string(1024, '\0');
  EXPECT_NE(*image::recipe_hash(img), b.rootfs->hash);
}

TEST(RootfsImage, CompressedTarballGivesAPlainTar) {
  TempDir cache, work;
  auto source = build(web_files(), cache.path());
  ASSERT_TRUE(source.rootfs.ok()) << source.rootfs.error().message;
  Outcome gz = run({"/bin/tar", "-C", source.rootfs->dir, "-czf", work.file("rootfs.tar.gz"), "."});
  ASSERT_EQ(gz.exit_code, 0) << gz.err;

  auto b = build(spec::RootfsImage{work.file("rootfs.tar.gz")}, cache.path());
  ASSERT_TRUE(b.rootfs.ok()) << b.rootfs.error().message;
  EXPECT_EQ(content(b.rootfs->dir + "/srv/www/index.html"), "<h1>hello</h1>\n");
  Outcome listing = run({"/bin/tar", "-tf", b.rootfs->tarball, "./srv/www/index.html"});
  EXPECT_EQ(listing.exit_code, 0) << listing.err;
  EXPECT_EQ(content(b.rootfs->tarball).substr(257, 5), "ustar");
}

TEST(RootfsImage, MissingTarballIsAnError) {
  TempDir cache;
  auto b = build(spec::RootfsImage{cache.file("nope.tar")}, cache.path());
  ASSERT_FALSE(b.rootfs.ok());
  EXPECT_EQ(b.rootfs.error().message, "cannot build image web: rootfs tarball " + cache.file("nope.tar") +
                                          " does not exist or is not a file");
}

TEST(RefImage, IsAnErrorForBuild) {
  TempDir cache;
  auto b = build(spec::RefImage{"nginx:1.25"}, cache.path(), "nginx");
  ASSERT_FALSE(b.rootfs.ok());
  EXPECT_EQ(b.rootfs.error().message,
            "cannot build image nginx: image.ref (nginx:1.25) has no recipe to build: it is fetched by its "
            "digest (image::fetch)");
  EXPECT_TRUE(fs::is_empty(cache.path()));
  EXPECT_TRUE(b.progress.empty());
}

class DebianBuild : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!is_root()) SKIP_OR_FAIL_IN_CI("mmdebstrap --mode=root needs root (CI runs as root)");
    if (!fs::exists("/usr/bin/mmdebstrap"))
      SKIP_OR_FAIL_IN_CI("mmdebstrap is not installed (scripts/install-deps.sh)");
  }
};

// The smallest Debian that is a working system: the Essential set (dash,
// coreutils, dpkg, ...) plus one package.
TEST_F(DebianBuild, BuildsARealDebianAndFindsItInTheCache) {
  spec::DebianImage img{.suite = "bookworm", .packages = {"busybox-static"}, .variant = "essential"};
  auto first = build(img, kDebianTestCache, "tiny");
  ASSERT_TRUE(first.rootfs.ok()) << first.rootfs.error().message;
  const image::Rootfs& r = *first.rootfs;
  std::cout << "debian image " << (r.cached ? "found in the cache" : "built") << " in " << first.seconds
            << " s\n";
  if (!r.cached) {
    EXPECT_EQ(first.progress.front(),
              "building image tiny (debian bookworm, variant essential: busybox-static) "
              "with mmdebstrap...")
        << join(first.progress);
    EXPECT_NE(join(first.progress).find("] running apt-get update..."), std::string::npos)
        << join(first.progress);
  }

  EXPECT_EQ(content(r.dir + "/etc/debian_version").substr(0, 3), "12.");
  Outcome shell = run({"/usr/sbin/chroot", r.dir, "/bin/sh", "-c", "echo $((6 * 7))"});
  EXPECT_EQ(shell.exit_code, 0) << shell.err;
  EXPECT_EQ(shell.out, "42\n");
  Outcome status = run({"/usr/sbin/chroot", r.dir, "dpkg-query", "-W", "-f=${Status}", "busybox-static"});
  EXPECT_EQ(status.out, "install ok installed") << status.err;
  Outcome busybox = run({r.dir + "/bin/busybox", "echo", "hi"});
  EXPECT_EQ(busybox.out, "hi\n");
  EXPECT_GT(fs::file_size(r.tarball), 50u << 20);
  Outcome listing = run({"/bin/tar", "-tf", r.tarball, "./etc/debian_version"});
  EXPECT_EQ(listing.exit_code, 0) << listing.err;

  auto second = build(img, kDebianTestCache, "tiny");
  ASSERT_TRUE(second.rootfs.ok()) << second.rootfs.error().message;
  std::cout << "debian image found in the cache in " << second.seconds << " s\n";
  EXPECT_TRUE(second.rootfs->cached);
  EXPECT_EQ(second.rootfs->dir, r.dir);
  EXPECT_LT(second.seconds, 2.0);
}

TEST_F(DebianBuild, MissingPackageIsOneLineNamingIt) {
  TempDir cache;
  spec::DebianImage img{.suite = "bookworm", .packages = {"busybox-static", "nginx-ligth"}, .variant = "apt"};
  auto start = Clock::now();
  auto b = build(img, cache.path(), "nginx");
  ASSERT_FALSE(b.rootfs.ok());
  EXPECT_EQ(b.rootfs.error().message,
            "cannot build image nginx: package nginx-ligth does not exist in Debian bookworm (mmdebstrap: E: "
            "Unable "
            "to locate package nginx-ligth)");
  EXPECT_LT(seconds_since(start), 15.0) << "the package check should fail before anything is installed";
  // No entry, no partial build: only the lock.
  std::string hash = *image::recipe_hash(img);
  EXPECT_EQ(cache_listing(cache.path()), std::vector<std::string>{hash + ".lock"});
}

TEST_F(DebianBuild, UnknownVariantIsAnError) {
  TempDir cache;
  auto b = build(spec::DebianImage{.suite = "bookworm", .packages = {}, .variant = "tiny"}, cache.path());
  ASSERT_FALSE(b.rootfs.ok());
  EXPECT_EQ(b.rootfs.error().message,
            "cannot build image web: unknown mmdebstrap variant 'tiny' (expected one of extract, custom, "
            "essential, "
            "apt, required, minbase, buildd, important, debootstrap, -, standard)");
}

// Removes an image from Docker's store when the test ends.
struct DockerImage {
  std::string ref;
  ~DockerImage() {
    if (!ref.empty()) run({kDocker, "rmi", "-f", ref});
  }
};

std::string docker_inspect(const std::string& ref, const std::string& format) {
  Outcome r = run({kDocker, "image", "inspect", "--format", format, ref});
  return r.exit_code == 0 ? r.out : "";
}

TEST(ImportInto, DockerImportsOnceAndTheImageRuns) {
  if (!docker_running()) SKIP_OR_FAIL_IN_CI("no Docker daemon");
  TempDir cache;
  spec::BusyboxImage img = web_files();
  img.files["/etc/run-id"] = std::to_string(getpid()) + "\n";  // a fresh image every run
  auto b = build(img, cache.path());
  ASSERT_TRUE(b.rootfs.ok()) << b.rootfs.error().message;
  const std::string name = "image-test";
  DockerImage cleanup{image::image_ref(name, b.rootfs->hash)};
  ASSERT_EQ(docker_inspect(cleanup.ref, "{{.Id}}"), "");

  std::vector<std::string> progress;
  auto ref =
      image::import_into(kDocker, *b.rootfs, name, [&](const std::string& l) { progress.push_back(l); });
  ASSERT_TRUE(ref.ok()) << ref.error().message;
  EXPECT_EQ(*ref, "sandmine/image-test:" + b.rootfs->hash.substr(0, 12));
  EXPECT_EQ(progress, std::vector<std::string>{"importing image " + *ref + " into docker..."});
  std::string id = docker_inspect(*ref, "{{.Id}}");
  EXPECT_NE(id, "");
  EXPECT_EQ(docker_inspect(*ref, "{{index .Config.Labels \"sandmine\"}}"), "1\n");

  progress.clear();
  auto again =
      image::import_into(kDocker, *b.rootfs, name, [&](const std::string& l) { progress.push_back(l); });
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(*again, *ref);
  EXPECT_TRUE(progress.empty());
  EXPECT_EQ(docker_inspect(*ref, "{{.Id}}"), id);

  Outcome run_it =
      run({kDocker, "run", "--rm", "--network", "none", *ref, "/bin/sh", "-c", "cat /etc/web.conf"});
  EXPECT_EQ(run_it.exit_code, 0) << run_it.err;
  EXPECT_EQ(run_it.out, "port=8080\nroot=/srv/www\n");
}

TEST(ImportInto, FailureNamesTheEngineAndWhatItSaid) {
  if (!docker_running()) SKIP_OR_FAIL_IN_CI("no Docker daemon");
  TempDir dir;
  image::Rootfs missing{dir.file("rootfs"), dir.file("rootfs.tar"), std::string(64, 'f'), false};
  DockerImage cleanup{image::image_ref("image-test", missing.hash)};
  auto ref = image::import_into(kDocker, missing, "image-test");
  ASSERT_FALSE(ref.ok());
  const std::string prefix = "cannot import image sandmine/image-test:ffffffffffff into docker: ";
  EXPECT_EQ(ref.error().message.rfind(prefix, 0), 0u) << ref.error().message;
  EXPECT_NE(ref.error().message.find(dir.file("rootfs.tar")), std::string::npos) << ref.error().message;
}

}  // namespace sandmine::test
