#pragma once
// A private directory for a run's container logs and engine files.

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "command.h"

namespace sandmine::cli {

/// A fresh directory <tmp>/<prefix>XXXXXX, removed with everything in it at the end.
class WorkDir {
 public:
  explicit WorkDir(const std::string& prefix) {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "XXXXXX")).string();
    if (!::mkdtemp(tmpl.data())) throw UserError("cannot create a work directory in " + tmpl);
    path_ = tmpl;
  }
  ~WorkDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace sandmine::cli
