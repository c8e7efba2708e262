#pragma once
// Images: the root file system a container runs from. A recipe (Debian
// packages through mmdebstrap, a rootfs tarball, or the host's busybox plus
// files) is built once into a cache entry named by the recipe's content hash;
// engines take the entry's directory (runc) or import its tarball (Docker,
// Podman).

#include <functional>
#include <string>

#include "spec/spec.h"
#include "util/result.h"

namespace sandmine::image {

/// Receives one-line progress messages meant for a person watching a build.
using Progress = std::function<void(const std::string&)>;

/// Where build() keeps its entries unless told otherwise.
inline constexpr const char* kDefaultCacheDir = "/var/cache/sandmine/images";

/// Where the cache entry of an image (by the id trace.json's target.image
/// names) keeps its root file system; the directory exists only once built.
inline std::string rootfs_in_cache(const std::string& cache_dir, const std::string& image) {
  return cache_dir + "/" + image + "/rootfs";
}

/// A root file system ready for an engine: one cache entry,
/// <cache>/<hash>/{rootfs/, rootfs.tar, recipe.json}.
struct Rootfs {
  std::string dir;      ///< the extracted tree; runc uses it as the bundle's rootfs
  std::string tarball;  ///< the same tree as an uncompressed tar; docker/podman import it
  std::string hash;     ///< recipe_hash() of the recipe it was built from
  bool cached = false;  ///< true when the entry already existed and nothing was built
};

/// How build() works: where it caches and whom it tells.
struct BuildOptions {
  std::string name = "image";                ///< the spec's name, for messages only (not hashed)
  std::string cache_dir = kDefaultCacheDir;  ///< created if missing
  Progress progress = {};                    ///< may be empty
};

/// The recipe hash: 64 hex digits of SHA-256 (computed by coreutils'
/// sha256sum) over a canonical JSON of the recipe. It covers what decides the
/// content: the Debian suite, variant and the set of packages (order and
/// duplicates do not matter); the bytes of a rootfs tarball (not its path);
/// the bytes of the host's busybox and every file path and content of a
/// busybox image. A RefImage has no recipe: that is an error.
Result<std::string> recipe_hash(const spec::Image& image);

/// Builds the root file system of a debian, rootfs or busybox image, or finds
/// it in the cache (then cached is true and nothing runs). An entry appears
/// whole or not at all: it is built beside the cache under a lock (concurrent
/// builders of one recipe wait for each other) and renamed into place only on
/// success. Debian images need root and Debian's archive; a cached Debian
/// image keeps the package versions of the day it was built (delete the entry
/// to refresh it). A RefImage is an error: it only works with Docker or Podman,
/// which already have it.
Result<Rootfs> build(const spec::Image& image, const BuildOptions& options);

/// The reference import_into() gives an image: sandmine/<name>:<first 12 hex of hash>.
std::string image_ref(const std::string& name, const std::string& hash);

/// Imports rootfs into Docker's or Podman's image store as image_ref(name,
/// rootfs.hash), labelled sandmine=1, and returns the reference. When the
/// store already has that reference it does nothing. engine_cli is the
/// client's path (/usr/bin/docker, /usr/bin/podman); errors name the engine
/// and the last line the client printed on stderr.
Result<std::string> import_into(const std::string& engine_cli, const Rootfs& rootfs, const std::string& name,
                                const Progress& progress = {});

}  // namespace sandmine::image
