// Images with a config under runc: an OCI image layout built here with umoci
// is fetched into the cache by config digest (layers in order, whiteouts
// applied), its config is the default for what the spec leaves out, and
// `sandmine init` writes a spec of it that mines as it is.
#include "image/fetch.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>

#include "explore/driver.h"
#include "support/engines.h"
#include "support/oci_images.h"
#include "support/run.h"
#include "sys/files.h"

namespace sandmine::test {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

class OciImage : public RuncTest {
 protected:
  void SetUp() override {
    RuncTest::SetUp();
    if (stopped()) return;
    for (const char* tool : {"/usr/bin/skopeo", "/usr/bin/umoci"})
      if (!fs::exists(tool))
        SKIP_OR_FAIL_IN_CI(std::string(tool) + " is not installed (scripts/install-deps.sh)");
    if (IsSkipped() || HasFatalFailure()) return;
    layout_ = make_oci_layout(dir_.path());
    ASSERT_FALSE(layout_.empty());
  }

  spec::Spec spec_of(const std::string& image_yaml, const std::string& more = "") {
    auto s =
        spec::parse_spec("name: oci-test\nimage: " + image_yaml + "\n" + more + "explore: [{sleep: 1s}]\n",
                         dir_.file("spec.yaml"));
    EXPECT_TRUE(s.ok()) << s.error().message;
    return s.value_or({});
  }

  TempDir dir_, cache_;
  std::string layout_;
};

static std::vector<std::string> tree(const std::string& root) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root))
    out.push_back(fs::relative(e.path(), root).string() + (e.is_directory() ? "/" : ""));
  std::sort(out.begin(), out.end());
  return out;
}

TEST_F(OciImage, LayersUnpackInOrderWithWhiteoutsCachedByDigest) {
  auto t0 = Clock::now();
  auto fetched = image::fetch(spec::OciImage{layout_, "t"}, {.name = "oci-test", .cache_dir = cache_.path()});
  double first = std::chrono::duration<double>(Clock::now() - t0).count();
  ASSERT_TRUE(fetched.ok()) << fetched.error().message;
  EXPECT_FALSE(fetched->cached);
  // /data/gone is whited out, /data/dir's first-layer content is hidden by the opaque whiteout.
  EXPECT_EQ(tree(fetched->rootfs + "/data"), (std::vector<std::string>{"a", "c", "dir/", "dir/y", "keep"}));
  EXPECT_EQ(*sys::read_file(fetched->rootfs + "/data/dir/y"), "y\n");
  EXPECT_EQ(*sys::read_file(fetched->rootfs + "/www/index.html"), "hello from the image\n");
  struct stat st {};
  ASSERT_EQ(::stat((fetched->rootfs + "/home/app").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1000u);  // owners by number, as the layer says
  // The digest is the config blob's, as the layout's manifest names it.
  auto digest = run({"/bin/sh", "-c", "sha256sum < " + fetched->dir + "/config.json"});
  EXPECT_EQ("sha256:" + digest.out.substr(0, 64), fetched->digest);
  EXPECT_TRUE(fs::exists(fetched->archive));

  // Found again by digest: nothing copied or unpacked, from the same layout
  // and from a copy of it elsewhere.
  t0 = Clock::now();
  auto again = image::fetch(spec::OciImage{layout_, "t"}, {.name = "oci-test", .cache_dir = cache_.path()});
  double cached = std::chrono::duration<double>(Clock::now() - t0).count();
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(again->cached);
  EXPECT_EQ(again->dir, fetched->dir);
  fs::copy(layout_, dir_.file("copy"), fs::copy_options::recursive);
  auto copy =
      image::fetch(spec::OciImage{dir_.file("copy"), ""}, {.name = "other", .cache_dir = cache_.path()});
  ASSERT_TRUE(copy.ok()) << copy.error().message;
  EXPECT_TRUE(copy->cached);
  EXPECT_EQ(copy->digest, fetched->digest);
  std::cerr << "[ timing ] OCI layout fetched and unpacked in " << first << " s, found in the cache in "
            << cached << " s\n";
}

TEST_F(OciImage, BadLayoutsSayWhatIsWrong) {
  auto missing_tag = image::fetch(spec::OciImage{layout_, "nope"}, {.cache_dir = cache_.path()});
  ASSERT_FALSE(missing_tag.ok());
  EXPECT_EQ(missing_tag.error().message, "cannot get image image (oci " + layout_ + ":nope): OCI layout " +
                                             layout_ + " has no image tagged nope (it has t)");
  auto not_layout = image::fetch(spec::OciImage{dir_.path(), ""}, {.cache_dir = cache_.path()});
  ASSERT_FALSE(not_layout.ok());
  EXPECT_NE(not_layout.error().message.find("has no index.json"), std::string::npos)
      << not_layout.error().message;
  auto not_archive = image::fetch(spec::ArchiveImage{dir_.file("layer1.tar")}, {.cache_dir = cache_.path()});
  ASSERT_FALSE(not_archive.ok());
  EXPECT_NE(
      not_archive.error().message.find("is neither a docker-archive (manifest.json) nor an oci-archive"),
      std::string::npos)
      << not_archive.error().message;
  EXPECT_TRUE(fs::is_empty(cache_.path()));
}

TEST_F(OciImage, TheConfigIsTheDefaultUnderRunc) {
  TempDir work;
  std::string files = expect_config_effects(spec_of("{oci: {path: " + layout_ + ", tag: t}}"), "runc",
                                            cache_.path(), work.path());
  EXPECT_NE(files.find("data/c 81a4 0:0 2\n"), std::string::npos) << files;
  EXPECT_EQ(files.find("data/gone"), std::string::npos) << files;
}

TEST_F(OciImage, UnknownUserNamesTheSpecLine) {
  auto r =
      explore::resolve_spec(spec_of("{oci: " + layout_ + "}", "user: ghost\n"), "runc", cache_.path(), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            "spec " + dir_.file("spec.yaml") + ":3: user: no user \"ghost\" in the image's /etc/passwd");
}

TEST_F(OciImage, InitWritesASpecThatMinesAsItIs) {
  Outcome init = sandmine(
      {"init", "oci:" + layout_ + ":t", "-o", dir_.file("specs/start.yaml"), "--cache", cache_.path()});
  ASSERT_EQ(init.exit_code, 2) << "no such folder yet: " << init.err;
  fs::create_directories(dir_.file("specs"));
  init = sandmine(
      {"init", "oci:" + layout_ + ":t", "-o", dir_.file("specs/start.yaml"), "--cache", cache_.path()});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  std::string yaml = *sys::read_file(dir_.file("specs/start.yaml"));
  // Relative to the spec's folder; the handled signals but the stop signal
  // (QUIT) and the ignored TERM and INT; busybox sh catches CHLD too.
  EXPECT_NE(yaml.find("  oci: {path: \"../layout\", tag: \"t\"}\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("  tcp: 8080  # the image's lowest exposed TCP port\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("    signal: HUP"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("    signal: USR1"), std::string::npos) << yaml;
  EXPECT_EQ(yaml.find("    signal: QUIT"), std::string::npos) << yaml;
  EXPECT_EQ(yaml.find("    signal: TERM"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("  # signal QUIT is the stop signal: the stop sends it\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("stop:\n  signal: QUIT  # the image's StopSignal\n"), std::string::npos) << yaml;

  Outcome mined =
      sandmine({"mine", dir_.file("specs/start.yaml"), "-o", dir_.file("out"), "--cache", cache_.path()});
  ASSERT_EQ(mined.exit_code, 0) << mined.err;
  for (const char* line : {"explore signal HUP: ok", "explore signal USR1: ok", "explore restart: ok",
                           "explore auto/tcp:8080/probe: ok", "stop stop: ok"})
    EXPECT_NE(mined.err.find(line), std::string::npos) << line << "\n" << mined.err;
  auto trace = read_json(dir_.file("out/trace.json"));
  ASSERT_EQ(trace["generated"].size(), 1u);
  EXPECT_EQ(trace["generated"][0]["budget_s"], 120);
  EXPECT_EQ(trace["target"]["command"], (nlohmann::json{"/bin/sh", "/app/run.sh"}));
  EXPECT_EQ(trace["target"]["image"].get<std::string>().substr(0, 7), "sha256:");
  // The stop was QUIT: the process ignores TERM, so TERM would have timed out and killed it.
  EXPECT_NE(sys::read_file(dir_.file("out/container.log")).value_or("").find("got QUIT"), std::string::npos);
  EXPECT_EQ(mined.err.find("killed"), std::string::npos) << mined.err;
}

TEST_F(OciImage, MineImageIsInitsSpecPlusTheGivenSteps) {
  Outcome r = sandmine({"mine", "--image", "oci:" + layout_ + ":t", "--explore",
                        "curl -sf http://127.0.0.1:8080/index.html | grep -q 'from the image'", "-o",
                        dir_.file("out"), "--cache", cache_.path()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto trace = read_json(dir_.file("out/trace.json"));
  std::vector<std::string> steps, generated;
  for (const auto& s : trace["steps"]) {
    std::string name = s["name"];
    (name.starts_with("auto/") ? generated : steps).push_back(name);
  }
  // init's steps, then what its auto step generated, then the stop.
  EXPECT_EQ(steps, (std::vector<std::string>{"start", "command 1", "signal HUP", "signal USR1", "signal CHLD",
                                             "restart", "stop"}));
  ASSERT_EQ(trace["generated"].size(), 1u);
  EXPECT_EQ(trace["generated"][0]["steps"].get<std::size_t>(), generated.size());
  EXPECT_EQ(trace["steps"][6]["name"], generated.at(0));
  EXPECT_EQ(trace["generated"][0]["captured"], 1);  // command 1's connection
  expect_one_line_error(sandmine({"mine", "--image", "oci:" + layout_ + ":nope", "--cache", cache_.path()}),
                        "has no image tagged nope");
  expect_one_line_error(sandmine({"mine", "--explore", "true", dir_.file("spec.yaml")}), "--image");
}

}  // namespace sandmine::test
