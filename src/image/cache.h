#pragma once
// The image cache's machinery, shared by built images (image.cpp) and
// fetched ones (fetch.cpp): entries named by the hash of a recipe, made whole
// under a lock or not at all, and the helpers both run.

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "image/image.h"
#include "sys/command.h"
#include "util/result.h"

namespace sandmine::image::detail {

/// Runs a helper that should succeed; on failure the error is "argv[0]
/// failed: " and the last line it printed.
Result<sys::CommandResult> run_ok(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                                  const std::string& input = {});

/// 64 hex digits of SHA-256 (coreutils' sha256sum) of a file's bytes or of text.
Result<std::string> sha256_of_file(const std::string& path);
Result<std::string> sha256_of_text(const std::string& text);

/// A complete cache entry: <cache>/<hash>/ with recipe.json in it.
struct CacheEntry {
  std::string dir;
  std::string hash;     ///< sha256 of recipe.dump()
  bool cached = false;  ///< it was there already
};

/// The entry of recipe in options.cache_dir, made by make(partial) when it is
/// not there yet: under <entry>.lock (concurrent makers of one recipe wait for
/// each other), in <entry>.partial (which starts with an empty rootfs/), then
/// recipe.json is written and the directory renamed into place. what is said
/// in the progress line "building image NAME WHAT".
Result<CacheEntry> cache_entry(const nlohmann::json& recipe, const BuildOptions& options,
                               const std::string& what,
                               const std::function<Status(const std::string& partial)>& make);

}  // namespace sandmine::image::detail
