#include "image/fetch.h"

#include <fmt/format.h>

#include <string.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "image/cache.h"
#include "sys/command.h"
#include "sys/files.h"
#include "sys/interrupt.h"
#include "sys/spawn.h"

namespace sandmine::image {

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

// Part of every fetched image's recipe: bump it when the way an entry is
// made changes.
constexpr int kFetchFormat = 1;

constexpr const char* kDockerCli = "/usr/bin/docker";
constexpr const char* kPodmanCli = "/usr/bin/podman";

// Where an image comes from, as skopeo names it, and its config digest.
struct Origin {
  std::string store;            // "docker", "podman" or "" (a file)
  std::string source;           // what the store calls it (a reference), or skopeo's transport:path
  std::string digest;           // sha256:<hex>
  bool docker_archive = false;  // an archive: docker-archive (else oci-archive)
};

bool is_digest(const std::string& d) {
  return d.size() == 71 && d.starts_with("sha256:") &&
         d.find_first_not_of("0123456789abcdef", 7) == std::string::npos;
}

std::string short_digest(const std::string& digest) { return digest.substr(7, 12); }

// The image ID a store gives ref ("" when it does not have it, or is not there).
std::string id_in_store(const std::string& cli, const std::string& ref) {
  std::error_code ec;
  if (!fs::exists(cli, ec)) return "";
  auto r = sys::run_command({cli, "image", "inspect", "--format", "{{.Id}}", ref}, {.timeout = 60s});
  if (!r || r->timed_out || r->exit_code != 0) return "";
  std::string id = r->last_line();
  if (!id.starts_with("sha256:")) id = "sha256:" + id;
  return is_digest(id) ? id : "";
}

// A member of a tar archive (as written, or with a leading "./").
Result<std::string> tar_member(const std::string& archive, const std::string& member) {
  for (const std::string& name : {member, "./" + member}) {
    auto r = sys::run_command({"tar", "-xOf", archive, name}, {.timeout = 10min});
    if (!r) return r.error();
    if (!r->timed_out && r->exit_code == 0) return r->output;
  }
  return Error{archive + " has no " + member, ENOENT};
}

// Runs one of the long copies (save, skopeo, umoci) in our process group, so
// that a Ctrl-C reaches it too: the partial entry is then removed.
Status run_copy(const std::vector<std::string>& argv) {
  auto r = sys::run_command(argv, {.timeout = 30min, .own_process_group = false});
  if (!r) return r.error();
  if (int sig = sys::interrupt_signal())
    return Error{fmt::format("interrupted by SIG{}; nothing was cached", sigabbrev_np(sig)), EINTR};
  if (r->timed_out) return Error{argv[0] + " did not finish within 30 minutes", ETIMEDOUT};
  if (r->exit_code != 0) return Error{argv[0] + " failed: " + r->last_line()};
  return {};
}

Result<std::string> digest_of_text(const std::string& text) {
  auto hex = detail::sha256_of_text(text);
  if (!hex) return hex.error();
  return "sha256:" + *hex;
}

// The blob a descriptor names in an OCI layout or archive: blobs/sha256/<hex>.
Result<std::string> blob_path(const json& descriptor) {
  std::string d = descriptor.is_object() ? descriptor.value("digest", "") : "";
  if (!is_digest(d)) return Error{"a descriptor has no sha256 digest", EINVAL};
  return "blobs/sha256/" + d.substr(7);
}

// The manifest descriptor of tag (or the only one) in an OCI index.json.
Result<json> pick_manifest(const std::string& index_text, const std::string& tag, const std::string& where) {
  json index = json::parse(index_text, nullptr, false);
  if (index.is_discarded() || !index.contains("manifests") || !index["manifests"].is_array())
    return Error{where + ": index.json is not an OCI image index", EINVAL};
  std::vector<json> found;
  std::vector<std::string> tags;
  for (const auto& m : index["manifests"]) {
    std::string name;
    if (m.contains("annotations") && m["annotations"].is_object())
      name = m["annotations"].value("org.opencontainers.image.ref.name", "");
    if (!name.empty()) tags.push_back(name);
    if (tag.empty() || name == tag) found.push_back(m);
  }
  std::string known;
  for (const auto& t : tags) known += (known.empty() ? "" : ", ") + t;
  if (found.empty())
    return Error{where + " has no image tagged " + tag + (known.empty() ? "" : " (it has " + known + ")"),
                 ENOENT};
  if (found.size() > 1)
    return Error{fmt::format("{} holds {} images; say which with a tag{}", where, found.size(),
                             known.empty() ? "" : " (" + known + ")"),
                 EINVAL};
  std::string media = found[0].value("mediaType", "");
  if (media.find("index") != std::string::npos || media.find("manifest.list") != std::string::npos)
    return Error{where +
                     ": the image is a multi-platform index; copy the platform you want into a layout of "
                     "its own (skopeo copy --override-arch ...)",
                 EINVAL};
  return found[0];
}

// The config digest of an OCI layout's image: index.json, the manifest, its config descriptor.
Result<std::string> layout_digest(const spec::OciImage& oci) {
  std::string where = "OCI layout " + oci.dir;
  auto index = sys::read_file(oci.dir + "/index.json");
  if (!index)
    return Error{where + " has no index.json (is it an OCI image layout? skopeo copy ... oci:DIR makes one)",
                 ENOENT};
  auto desc = pick_manifest(*index, oci.tag, where);
  if (!desc) return desc.error();
  auto path = blob_path(*desc);
  if (!path) return Error{where + ": " + path.error().message, EINVAL};
  auto manifest_text = sys::read_file(oci.dir + "/" + *path);
  if (!manifest_text) return Error{where + " has no blob " + *path, ENOENT};
  json manifest = json::parse(*manifest_text, nullptr, false);
  if (manifest.is_discarded() || !manifest.contains("config"))
    return Error{where + ": " + *path + " is not an image manifest", EINVAL};
  std::string digest = manifest["config"].value("digest", "");
  if (!is_digest(digest)) return Error{where + ": the manifest's config has no sha256 digest", EINVAL};
  return digest;
}

// The config blob of a docker-archive (docker save's manifest.json, one image).
Result<std::string> docker_archive_config(const std::string& file) {
  auto manifest_text = tar_member(file, "manifest.json");
  if (!manifest_text) return manifest_text.error();
  json manifest = json::parse(*manifest_text, nullptr, false);
  if (manifest.is_discarded() || !manifest.is_array() || manifest.empty())
    return Error{file + ": manifest.json lists no image", EINVAL};
  if (manifest.size() > 1)
    return Error{fmt::format("{} holds {} images; save one image per tarball", file, manifest.size()),
                 EINVAL};
  std::string config = manifest[0].value("Config", "");
  if (config.empty()) return Error{file + ": manifest.json names no Config", EINVAL};
  return tar_member(file, config);
}

// The config digest of an archive, and which kind it is.
Result<Origin> archive_origin(const spec::ArchiveImage& a) {
  std::error_code ec;
  if (!fs::is_regular_file(a.path, ec))
    return Error{"image archive " + a.path + " does not exist or is not a file", ENOENT};
  if (auto config = docker_archive_config(a.path)) {
    auto digest = digest_of_text(*config);
    if (!digest) return digest.error();
    return Origin{"", "docker-archive:" + a.path, *digest, true};
  } else if (config.error().errnum != ENOENT) {
    return config.error();
  }
  auto index = tar_member(a.path, "index.json");
  if (!index)
    return Error{a.path +
                     " is neither a docker-archive (manifest.json) nor an oci-archive (index.json): "
                     "make it with docker save or podman save",
                 EINVAL};
  auto desc = pick_manifest(*index, "", a.path);
  if (!desc) return desc.error();
  auto path = blob_path(*desc);
  if (!path) return Error{a.path + ": " + path.error().message, EINVAL};
  auto manifest_text = tar_member(a.path, *path);
  if (!manifest_text) return manifest_text.error();
  json manifest = json::parse(*manifest_text, nullptr, false);
  std::string digest =
      manifest.is_object() && manifest.contains("config") ? manifest["config"].value("digest", "") : "";
  if (!is_digest(digest)) return Error{a.path + ": the manifest's config has no sha256 digest", EINVAL};
  return Origin{"", "oci-archive:" + a.path, digest, false};
}

Result<Origin> origin_of(const spec::Image& image, const std::string& engine) {
  if (const auto* r = std::get_if<spec::RefImage>(&image)) {
    std::vector<std::string> stores = engine == "podman" ? std::vector<std::string>{"podman", "docker"}
                                                         : std::vector<std::string>{"docker", "podman"};
    for (const auto& store : stores) {
      std::string id = id_in_store(store == "docker" ? kDockerCli : kPodmanCli, r->ref);
      if (!id.empty()) return Origin{store, r->ref, id};
    }
    return Error{"image " + r->ref + " is in neither Docker's nor Podman's store (docker pull " + r->ref +
                     ", or podman pull, or docker load / podman load it first)",
                 ENOENT};
  }
  if (const auto* o = std::get_if<spec::OciImage>(&image)) {
    auto digest = layout_digest(*o);
    if (!digest) return digest.error();
    return Origin{"", "oci:" + o->dir + (o->tag.empty() ? "" : ":" + o->tag), *digest};
  }
  if (const auto* a = std::get_if<spec::ArchiveImage>(&image)) return archive_origin(*a);
  return Error{"this image kind has no config to fetch; it is built (image::build)", EINVAL};
}

// Copies the image from where it is into archive as a docker-archive, config unchanged.
Status save_as_docker_archive(const Origin& origin, const std::string& archive) {
  std::vector<std::string> argv;
  if (origin.store == "docker")
    argv = {kDockerCli, "save", "-o", archive, origin.digest};
  else if (origin.store == "podman")
    argv = {kPodmanCli, "save", "--quiet", "--format", "docker-archive", "-o", archive, origin.digest};
  else if (origin.docker_archive) {
    std::error_code ec;
    fs::copy_file(origin.source.substr(std::string("docker-archive:").size()), archive, ec);
    if (ec) return Error{"cannot copy " + origin.source + ": " + ec.message(), ec.value()};
    return {};
  } else {
    // OCI to Docker's manifest: skopeo keeps the config blob as it is.
    argv = {"skopeo", "copy", "--quiet", origin.source, "docker-archive:" + archive};
  }
  return run_copy(argv);
}

Status unpack_layers(const std::string& partial) {
  // umoci reads OCI layouts only; the conversion writes a new manifest and
  // config beside the same layers, which is all umoci needs.
  std::string layout = partial + "/layout";
  if (Status st = run_copy({"skopeo", "copy", "--quiet", "docker-archive:" + partial + "/image.tar",
                            "oci:" + layout + ":unpack"});
      !st)
    return st;
  std::error_code ec;
  fs::remove(partial + "/rootfs", ec);  // umoci makes it
  if (Status st = run_copy({"umoci", "raw", "unpack", "--image", layout + ":unpack", partial + "/rootfs"});
      !st)
    return st;
  fs::remove_all(layout, ec);
  if (ec) return Error{"cannot remove " + layout + ": " + ec.message(), ec.value()};
  return {};
}

Status check_tool(const char* tool) {
  if (sys::find_executable(tool)) return {};
  return Error{std::string(tool) + " is not installed (apt-get install " + tool + ")", ENOENT};
}

}  // namespace

Result<FetchedImage> fetch(const spec::Image& image, const FetchOptions& options) {
  auto fail = [&](const Error& e) {
    return Error{"cannot get image " + options.name + " (" + describe_fetched(image) + "): " + e.message,
                 e.errnum};
  };
  auto origin = origin_of(image, options.engine);
  if (!origin) return fail(origin.error());
  const json recipe = {{"format", kFetchFormat}, {"kind", "image"}, {"digest", origin->digest}};
  auto entry = detail::cache_entry(
      recipe, {.name = options.name, .cache_dir = options.cache_dir, .progress = options.progress},
      "(" + describe_fetched(image) + ", " + short_digest(origin->digest) + ") with skopeo and umoci...",
      [&](const std::string& partial) -> Status {
        for (const char* tool : {"skopeo", "umoci"})
          if (Status st = check_tool(tool); !st) return st;
        const std::string archive = partial + "/image.tar";
        if (Status st = save_as_docker_archive(*origin, archive); !st) return st;
        auto config = docker_archive_config(archive);
        if (!config) return config.error();
        auto digest = digest_of_text(*config);
        if (!digest) return digest.error();
        if (*digest != origin->digest)
          return Error{"the copy's config digest is " + *digest + ", not the source's " + origin->digest +
                           " (the image changed while it was copied?)",
                       EIO};
        std::ofstream out(partial + "/config.json", std::ios::binary);
        out << *config;
        out.close();
        if (!out) return Error{"cannot write " + partial + "/config.json", EIO};
        return unpack_layers(partial);
      });
  if (!entry) return fail(entry.error());
  auto config = sys::read_file(entry->dir + "/config.json");
  if (!config) return fail(Error{"cannot read " + entry->dir + "/config.json: " + config.error().message});
  return FetchedImage{entry->dir,     entry->dir + "/rootfs", entry->dir + "/image.tar",
                      origin->digest, std::move(*config),     entry->cached};
}

Result<std::string> load_into(const std::string& engine_cli, const FetchedImage& image,
                              const std::string& name, const Progress& progress) {
  const std::string engine = fs::path(engine_cli).filename().string();
  if (id_in_store(engine_cli, image.digest) == image.digest) return image.digest;
  if (progress) progress("loading image " + short_digest(image.digest) + " into " + engine + "...");
  auto loaded = sys::run_command({engine_cli, "load", "-q", "-i", image.archive}, {.timeout = 30min});
  if (!loaded) return Error{"cannot run " + engine + ": " + loaded.error().message, loaded.error().errnum};
  if (loaded->timed_out || loaded->exit_code != 0)
    return Error{"cannot load image " + image.archive + " into " + engine + ": " +
                 (loaded->timed_out ? "timed out" : loaded->last_line())};
  std::string id = id_in_store(engine_cli, image.digest);
  if (id != image.digest)
    return Error{"loading " + image.archive + " into " + engine + " did not give image " + image.digest};
  // A name, so that the image is not an untagged one that `image prune` removes.
  auto tagged = sys::run_command({engine_cli, "tag", image.digest, image_ref(name, image.digest.substr(7))},
                                 {.timeout = 60s});
  if (!tagged || tagged->exit_code != 0)
    return Error{"cannot tag image " + image.digest + " in " + engine + ": " +
                 (tagged ? tagged->last_line() : tagged.error().message)};
  return image.digest;
}

Result<std::string> read_image_file(const std::string& root, const std::string& path) {
  // Components still to walk, and the real path inside root so far.
  std::vector<std::string> todo;
  auto push_path = [&](const std::string& p) {
    std::vector<std::string> parts;
    for (const auto& part : fs::path(p)) {
      std::string s = part.string();
      if (!s.empty() && s != "/" && s != ".") parts.push_back(s);
    }
    todo.insert(todo.end(), parts.rbegin(), parts.rend());
  };
  push_path(path);
  std::vector<std::string> done;
  int links = 0;
  while (!todo.empty()) {
    std::string part = todo.back();
    todo.pop_back();
    if (part == "..") {
      if (!done.empty()) done.pop_back();
      continue;
    }
    std::string here = root;
    for (const auto& d : done) here += "/" + d;
    here += "/" + part;
    std::error_code ec;
    if (fs::is_symlink(fs::symlink_status(here, ec))) {
      if (++links > 40) return Error{path + " in the image: too many levels of symbolic links", ELOOP};
      std::string target = fs::read_symlink(here, ec).string();
      if (ec) return Error{"cannot read link " + here + ": " + ec.message(), ec.value()};
      if (target.starts_with('/')) done.clear();
      push_path(target);
      continue;
    }
    done.push_back(part);
  }
  std::string real = root;
  for (const auto& d : done) real += "/" + d;
  std::error_code ec;
  if (!fs::is_regular_file(real, ec)) return Error{path + " is not a file in the image", ENOENT};
  return sys::read_file(real);
}

Result<spec::Image> image_from_argument(const std::string& arg) {
  auto absolute = [](const std::string& p) -> Result<std::string> {
    if (p.empty()) return Error{"no path after the image kind", EINVAL};
    std::error_code ec;
    auto abs = fs::absolute(p, ec);
    if (ec) return Error{"cannot resolve " + p + ": " + ec.message(), ec.value()};
    return abs.lexically_normal().string();
  };
  if (arg.starts_with("oci:")) {
    std::string rest = arg.substr(4);
    // As skopeo's oci: transport: the path ends at the first colon.
    size_t colon = rest.find(':');
    auto dir = absolute(rest.substr(0, colon));
    if (!dir) return Error{"image " + arg + ": " + dir.error().message, EINVAL};
    std::string tag = colon == std::string::npos ? "" : rest.substr(colon + 1);
    if (colon != std::string::npos && tag.empty())
      return Error{"image " + arg + ": empty tag after the colon", EINVAL};
    return spec::Image{spec::OciImage{*dir, tag}};
  }
  for (const char* prefix : {"docker-archive:", "oci-archive:", "archive:"}) {
    if (!arg.starts_with(prefix)) continue;
    auto path = absolute(arg.substr(std::string(prefix).size()));
    if (!path) return Error{"image " + arg + ": " + path.error().message, EINVAL};
    return spec::Image{spec::ArchiveImage{*path}};
  }
  if (arg.empty() || arg.find_first_of(" \t\n") != std::string::npos)
    return Error{
        "'" + arg + "' is not an image reference (expected NAME[:TAG], oci:DIR[:TAG] or docker-archive:FILE)",
        EINVAL};
  return spec::Image{spec::RefImage{arg}};
}

std::string describe_fetched(const spec::Image& image) {
  if (const auto* r = std::get_if<spec::RefImage>(&image)) return "ref " + r->ref;
  if (const auto* o = std::get_if<spec::OciImage>(&image))
    return "oci " + o->dir + (o->tag.empty() ? "" : ":" + o->tag);
  if (const auto* a = std::get_if<spec::ArchiveImage>(&image)) return "archive " + a->path;
  return "built image";
}

}  // namespace sandmine::image
