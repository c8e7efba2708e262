#pragma once
// Errors are values: library functions return Result<T>, which holds either a
// value or an Error that a user can read (what failed, with what, and errno).

#include <cerrno>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace sandmine {

/// A failure: a one-line message for the user and the errno behind it, if any.
struct Error {
  std::string message;
  int errnum = 0;
};

/// An error from a failed call that set errno: "<context>: <strerror>".
Error errno_error(std::string context, int errnum = errno);

/// s on one line, whatever input it quotes: newlines, tabs and other control
/// characters are written as escapes (\n, \t, \x1b), so a message stays one line.
std::string one_line(std::string_view s);

/// Holds a T or an Error. Access to the wrong alternative is a programming error.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }
  /// The value, or fallback when this holds an error.
  T value_or(T fallback) const& { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace sandmine
