// Every kind of image with a config under every engine: an image built by
// `docker import --change` and used by reference from Docker's store, the
// same saved with `docker save` (image.archive), copied with skopeo into an
// OCI layout (image.oci), one made by `podman import` (only in Podman's
// store), and an OCI layout built with umoci (two layers with whiteouts, a
// StopSignal). Each runs as its config says under runc, Docker and Podman,
// with the same files for the same digest, and mines the same profile.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "explore/driver.h"
#include "support/engines.h"
#include "support/oci_images.h"
#include "support/run.h"

namespace sandmine::test {

namespace fs = std::filesystem;

// The config the import gives; STOPSIGNAL is not one Docker 20.10's --change takes.
const std::vector<std::string> kChanges = {"ENTRYPOINT [\"/bin/sh\"]",
                                           "CMD [\"/app/run.sh\"]",
                                           "ENV PATH=/bin",
                                           "ENV GREETING=\"from the image\"",
                                           "USER app",
                                           "EXPOSE 8080",
                                           "WORKDIR /srv"};

class ImageKinds : public AllEngines {
 protected:
  void SetUp() override {
    AllEngines::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    for (const char* tool : {"/usr/bin/skopeo", "/usr/bin/umoci"})
      if (!fs::exists(tool))
        SKIP_OR_FAIL_IN_CI(std::string(tool) + " is not installed (scripts/install-deps.sh)");
  }
  void TearDown() override {
    // Every image this test made or loaded, in both stores, by ID.
    for (const auto& id : ids_) {
      run({kDocker, "rmi", "-f", id});
      run({kPodman, "rmi", "-f", id});
    }
    AllEngines::TearDown();
  }

  // `import --change` of the image tree into a store; returns the image ID.
  std::string import_image(const char* cli, const std::string& ref) {
    std::vector<std::string> argv{cli, "import"};
    for (const auto& c : kChanges) argv.insert(argv.end(), {"--change", c});
    argv.insert(argv.end(), {dir_.file("tree.tar"), ref});
    if (!run_succeeds(argv)) return "";
    Outcome id = run({cli, "image", "inspect", "--format", "{{.Id}}", ref});
    std::string out = id.out.substr(0, id.out.find('\n'));
    if (!out.starts_with("sha256:")) out = "sha256:" + out;
    ids_.push_back(out);
    return out;
  }

  TempDir dir_, cache_, work_;
  std::vector<std::string> ids_;
};

TEST_F(ImageKinds, EveryKindRunsAsItsConfigSaysUnderEveryEngineAndMinesTheSameProfile) {
  write_image_tree(dir_.file("tree"));
  ASSERT_TRUE(run_succeeds(
      {"/bin/tar", "--numeric-owner", "-C", dir_.file("tree"), "-cf", dir_.file("tree.tar"), "."}));
  const std::string tag = std::to_string(::getpid());
  const std::string docker_ref = "sandmine-test/kinds:" + tag,
                    podman_ref = "localhost/sandmine-test/podman-only:" + tag;
  ASSERT_FALSE(import_image(kDocker, docker_ref).empty());
  ASSERT_FALSE(import_image(kPodman, podman_ref).empty());
  ASSERT_TRUE(run_succeeds({kDocker, "save", "-o", dir_.file("saved.tar"), docker_ref}));
  ASSERT_TRUE(run_succeeds({"/usr/bin/skopeo", "copy", "--quiet", "docker-daemon:" + docker_ref,
                            "oci:" + dir_.file("skopeo") + ":v1"}));
  const std::string umoci_layout = make_oci_layout(dir_.file("umoci"));
  ASSERT_FALSE(umoci_layout.empty());

  struct Kind {
    std::string name, image, more;
  };
  // The imports have no StopSignal: their specs say QUIT.
  const std::vector<Kind> kinds = {
      {"ref", "{ref: " + docker_ref + "}", "stop: {signal: QUIT, timeout: 4s}\n"},
      {"archive", "{archive: " + dir_.file("saved.tar") + "}", "stop: {signal: QUIT, timeout: 4s}\n"},
      {"oci", "{oci: {path: " + dir_.file("skopeo") + ", tag: v1}}", "stop: {signal: QUIT, timeout: 4s}\n"},
      {"podman-ref", "{ref: " + podman_ref + "}", "stop: {signal: QUIT, timeout: 4s}\n"},
      {"umoci", "{oci: " + umoci_layout + "}", "stop: {timeout: 4s}\n"},
  };
  const std::vector<std::string> engines{"runc", "docker", "podman"};
  for (const auto& kind : kinds) {
    SCOPED_TRACE(kind.name);
    const std::string yaml = "name: kinds-" + kind.name + "\nimage: " + kind.image + "\n" + kind.more +
                             "explore:\n"
                             "  - name: index\n"
                             "    run: curl -sf http://127.0.0.1:8080/index.html | grep -q 'from the image'\n"
                             "  - signal: HUP\n";
    write_text(dir_.file(kind.name + ".yaml"), yaml);
    auto spec = spec::read_spec(dir_.file(kind.name + ".yaml"));
    ASSERT_TRUE(spec.ok()) << spec.error().message;

    // A cache of its own: each kind takes its own way into the cache.
    const std::string cache = cache_.path() + "/" + kind.name;
    std::map<std::string, std::string> files;
    std::map<std::string, nlohmann::json> profiles;
    std::string digest;
    for (const auto& engine : engines) {
      SCOPED_TRACE(engine);
      files[engine] = expect_config_effects(*spec, engine, cache, work_.path());
      auto resolved = explore::resolve_spec(*spec, engine, cache, {});
      ASSERT_TRUE(resolved.ok()) << resolved.error().message;
      if (digest.empty()) digest = resolved->image_digest;
      EXPECT_EQ(resolved->image_digest, digest) << "another image under " << engine;

      const std::string out = dir_.file("out-" + kind.name + "-" + engine);
      Outcome mined =
          sandmine({"mine", dir_.file(kind.name + ".yaml"), "--engine", engine, "-o", out, "--cache", cache});
      ASSERT_EQ(mined.exit_code, 0) << mined.err;
      auto trace = read_json(out + "/trace.json");
      EXPECT_EQ(trace["target"]["image"], digest);
      EXPECT_EQ(trace["target"]["command"], (nlohmann::json{"/bin/sh", "/app/run.sh"}));
      profiles[engine] = read_json(out + "/profile.json")["syscalls"];
    }
    ids_.push_back(digest);
    // The same digest: the same files and the same profile under every engine.
    EXPECT_FALSE(files["runc"].empty());
    EXPECT_EQ(files["docker"], files["runc"]);
    EXPECT_EQ(files["podman"], files["runc"]);
    EXPECT_EQ(profiles["docker"], profiles["runc"]);
    EXPECT_EQ(profiles["podman"], profiles["runc"]);
    if (kind.name == "umoci") {
      EXPECT_EQ(files["runc"].find("data/gone"), std::string::npos) << files["runc"];
      EXPECT_EQ(files["runc"].find("data/dir/x"), std::string::npos) << files["runc"];
      EXPECT_NE(files["runc"].find("data/dir/y "), std::string::npos) << files["runc"];
    }
  }
}

}  // namespace sandmine::test
