#pragma once
// SHA-256 of bytes in memory (OpenSSL's libcrypto), as sha256sum prints it.

#include <string>
#include <string_view>

namespace sandmine {

/// 64 lowercase hex digits: the SHA-256 of data.
std::string sha256_hex(std::string_view data);

}  // namespace sandmine
