#pragma once
// Images with a config of their own (image.ref, image.oci, image.archive):
// taken from Docker's or Podman's store, an OCI image layout or a `docker
// save` / `podman save` tarball, kept in the image cache by config digest as
// the image itself (a docker-archive with the config unchanged, what Docker
// and Podman load) and its layers unpacked in order by umoci (whiteouts
// applied), which is what runc runs. The config digest is Docker's and
// Podman's image ID, so the same digest runs under all three engines.

#include <string>

#include "image/image.h"
#include "spec/spec.h"
#include "util/result.h"

namespace sandmine::image {

/// One image with a config in the cache: <cache>/<hash>/{rootfs/, image.tar,
/// config.json, recipe.json}, hash the recipe hash of {"kind": "image",
/// "digest": digest}.
struct FetchedImage {
  std::string dir;      ///< the cache entry
  std::string rootfs;   ///< dir/rootfs: the layers unpacked in order (runc's root file system)
  std::string archive;  ///< dir/image.tar: the image as a docker-archive, config unchanged
  std::string digest;   ///< "sha256:<64 hex>" of the config blob: Docker's and Podman's image ID
  std::string config;   ///< the config blob (JSON)
  bool cached = false;  ///< the entry was there already: nothing was copied or unpacked
};

/// How fetch() works.
struct FetchOptions {
  std::string name = "image";                ///< the spec's name, for messages and tags
  std::string cache_dir = kDefaultCacheDir;  ///< created if missing
  /// The engine that will run it: an image.ref is looked up in its store first
  /// (runc: Docker's, then Podman's).
  std::string engine = "runc";
  Progress progress = {};
};

/// Finds the image's config digest (from the store, the layout's index or
/// the tarball's manifest), and unless the cache has that digest already,
/// copies the image into the cache with the engines' own save or skopeo and
/// unpacks it with skopeo and umoci. The copy's config digest is checked
/// against the source's. Errors say what is missing and how to get it.
Result<FetchedImage> fetch(const spec::Image& image, const FetchOptions& options);

/// Makes the image available in Docker's or Podman's store (engine_cli:
/// /usr/bin/docker or /usr/bin/podman): nothing when the store has its
/// digest already, else `load` of its archive, tagged
/// image_ref(name, digest hex). Returns what to run: the digest, which names
/// exactly this image in either store.
Result<std::string> load_into(const std::string& engine_cli, const FetchedImage& image,
                              const std::string& name, const Progress& progress = {});

/// The content of a file of a root file system, path absolute inside it:
/// symbolic links are followed inside root (an absolute target is taken from
/// root, never from the host; ".." stops at root). ENOENT when it is not there.
Result<std::string> read_image_file(const std::string& root, const std::string& path);

/// An image named on a command line: oci:DIR[:TAG] (an OCI image layout),
/// docker-archive:FILE, oci-archive:FILE or archive:FILE (a `docker save` or
/// `podman save` tarball), or else a reference in Docker's or Podman's store.
/// Paths are made absolute.
Result<spec::Image> image_from_argument(const std::string& arg);

/// The image as a person would name it: "ref nginx:1.25", "oci DIR:TAG", "archive FILE".
std::string describe_fetched(const spec::Image& image);

}  // namespace sandmine::image
