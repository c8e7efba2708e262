#pragma once
// A private directory for a run's container logs and engine files.

#include <string>

#include "command.h"
#include "sys/files.h"

namespace sandmine::cli {

/// A fresh directory <tmp>/<prefix>XXXXXX, removed with everything in it at the end.
class WorkDir {
 public:
  explicit WorkDir(const std::string& prefix) : dir_(must(sys::TempDir::create(prefix))) {}
  const std::string& path() const { return dir_.path(); }

 private:
  sys::TempDir dir_;
};

}  // namespace sandmine::cli
