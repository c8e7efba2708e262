#pragma once
// Each subcommand lives in its own file and registers itself on the app.

#include <CLI/CLI.hpp>
#include <stdexcept>
#include <string>

#include "util/result.h"

namespace sandmine::cli {

/// Exit codes: 0 success, 1 the checked property does not hold, 2 bad input or
/// environment (also a failure nothing foresaw: see main).
constexpr int kExitFailed = 1;
constexpr int kExitBadInput = 2;

/// A fatal user error: main prints "sandmine: <message>" and exits 2.
struct UserError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The value of r, or a UserError carrying its message.
template <class T>
T must(Result<T> r) {
  if (!r) throw UserError(r.error().message);
  return std::move(r).value();
}
inline void must(Status s) {
  if (!s) throw UserError(s.error().message);
}

/// Prints a line to stderr prefixed with "sandmine: " (stdout belongs to the
/// traced command); control characters in it are escaped, so it stays one line.
void say(const std::string& line);

// Registration: each adds a subcommand whose callback stores its exit code.
void add_info(CLI::App& app, int& exit_code);
void add_trace(CLI::App& app, int& exit_code);
void add_profile(CLI::App& app, int& exit_code);
void add_mine(CLI::App& app, int& exit_code);
void add_run(CLI::App& app, int& exit_code);
void add_check(CLI::App& app, int& exit_code);
void add_bench(CLI::App& app, int& exit_code);
void add_explain(CLI::App& app, int& exit_code);
void add_diff(CLI::App& app, int& exit_code);
void add_merge(CLI::App& app, int& exit_code);
void add_export(CLI::App& app, int& exit_code);
void add_report(CLI::App& app, int& exit_code);
void add_reach(CLI::App& app, int& exit_code);
void add_init(CLI::App& app, int& exit_code);
void add_record(CLI::App& app, int& exit_code);

}  // namespace sandmine::cli
