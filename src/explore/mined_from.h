#pragma once
// What a profile was mined from (profile::MinedFrom), taken from a running
// container: the configuration files among what it opened at start, its
// environment as digests, and the differences `sandmine check` warns about.
//
// Configuration, here, is every regular file the container's processes
// opened for reading only, by an absolute path, while it started, and never
// opened for writing then: files it writes itself are its state, not its
// configuration. Left out: /proc, /sys and /dev, executables and shared
// objects (ELF files: the image digest covers them), the dynamic loader's
// cache, and files over 4 MiB.

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "profile/profile.h"
#include "trace/ebpf_recorder.h"

namespace sandmine::explore {

/// The largest file taken as configuration.
inline constexpr std::size_t kMaxConfigFile = 4u << 20;

/// Whether an opened path can be configuration by its name and how it was
/// opened (the content decides the rest): absolute, outside /proc, /sys and
/// /dev, read and never written.
bool config_candidate(const trace::OpenedFile& file);

/// The configuration files among opened, read through the root file system
/// of process pid (a process of the container, still running): path ->
/// "sha256:...". Files gone meanwhile are left out; note says why the list
/// may be incomplete (empty when it is not).
std::map<std::string, std::string> config_files(const std::vector<trace::OpenedFile>& opened, pid_t pid,
                                                std::string& note);

/// "sha256:" and the SHA-256 of value.
std::string digest_of(const std::string& value);

/// Each variable's name -> digest_of(its value).
std::map<std::string, std::string> env_digests(const std::map<std::string, std::string>& env);

/// One line per way the container now differs from what the profile was
/// mined from: another image, command, a variable added, removed or with
/// another value, a configuration file with other content, gone, or new.
/// Empty when they agree.
std::vector<std::string> differences(const profile::MinedFrom& mined, const profile::MinedFrom& now);

}  // namespace sandmine::explore
