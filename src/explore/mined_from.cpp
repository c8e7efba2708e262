#include "explore/mined_from.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "sys/in_root.h"
#include "util/sha256.h"

namespace sandmine::explore {

namespace {

bool under(const std::string& path, const std::string& dir) {
  return path == dir ||
         (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/');
}

// "sha256:0123456789ab" for messages.
std::string digest_prefix(const std::string& digest) { return digest.substr(0, 19); }

}  // namespace

bool config_candidate(const trace::OpenedFile& file) {
  if (file.path.empty() || file.path[0] != '/') return false;
  for (const char* dir : {"/proc", "/sys", "/dev"})
    if (under(file.path, dir)) return false;
  return file.reads > 0 && file.writes == 0 && file.path != "/etc/ld.so.cache";
}

std::map<std::string, std::string> config_files(const std::vector<trace::OpenedFile>& opened, pid_t pid,
                                                std::string& note) {
  std::map<std::string, std::string> out;
  auto root = sys::RootDir::of_process(pid);
  if (!root) {
    note = "the container's root file system could not be read: " + root.error().message;
    return out;
  }
  for (const auto& file : opened) {
    if (!config_candidate(file)) continue;
    auto content = root->read_regular(file.path, kMaxConfigFile);
    // Not there (any more), or no regular file: nothing to hold the profile to.
    if (!content || !*content) continue;
    if ((*content)->starts_with("\x7f"
                                "ELF"))
      continue;
    out[file.path] = digest_of(**content);
  }
  return out;
}

std::string digest_of(const std::string& value) { return "sha256:" + sha256_hex(value); }

std::map<std::string, std::string> env_digests(const std::map<std::string, std::string>& env) {
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : env) out[name] = digest_of(value);
  return out;
}

std::vector<std::string> differences(const profile::MinedFrom& mined, const profile::MinedFrom& now) {
  std::vector<std::string> out;
  if (mined.image != now.image)
    out.push_back(
        fmt::format("image {} is not the one the profile was mined from ({})", now.image, mined.image));
  if (mined.command != now.command)
    out.push_back(fmt::format("command [{}] is not the one the profile was mined from ([{}])",
                              fmt::join(now.command, ", "), fmt::join(mined.command, ", ")));
  for (const auto& [name, digest] : now.env) {
    auto it = mined.env.find(name);
    if (it == mined.env.end())
      out.push_back(
          fmt::format("environment variable {} is set; it was not when the profile was mined", name));
    else if (it->second != digest)
      out.push_back(
          fmt::format("environment variable {} has another value than when the profile was mined", name));
  }
  for (const auto& [name, digest] : mined.env)
    if (!now.env.contains(name))
      out.push_back(
          fmt::format("environment variable {} is not set; it was when the profile was mined", name));
  for (const auto& [path, digest] : now.config_files) {
    auto it = mined.config_files.find(path);
    if (it == mined.config_files.end())
      out.push_back(fmt::format(
          "configuration file {} was read at start; it was not when the profile was mined", path));
    else if (it->second != digest)
      out.push_back(
          fmt::format("configuration file {} has other content ({}) than when the profile was mined ({})",
                      path, digest_prefix(digest), digest_prefix(it->second)));
  }
  for (const auto& [path, digest] : mined.config_files)
    if (!now.config_files.contains(path))
      out.push_back(fmt::format(
          "configuration file {} was not read at start; it was when the profile was mined", path));
  return out;
}

}  // namespace sandmine::explore
