#include "util/result.h"

#include <cstring>

namespace sandmine {

Error errno_error(std::string context, int errnum) {
  return Error{std::move(context) + ": " + std::strerror(errnum), errnum};
}

}  // namespace sandmine
