// error.hh: the one error type every library throws and every main() catches.
// Libraries never print or exit; main() reports once as "program: what: why"
// and returns the error's exit code (style.md: only main exits).
#pragma once

#include <cerrno>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/exit_codes.hh"

namespace bencher {

// The codes every program shares, from the one table (exit_codes.hh).
enum ExitCode : int {
	kExitOk = exit_codes::kOk,
	kExitFailure = exit_codes::kFailure,
	kExitUsage = exit_codes::kUsage,
};

class Error : public std::runtime_error {
public:
	explicit Error(const std::string& message, int exit_code = kExitFailure)
	    : std::runtime_error(message), exit_code_(exit_code) {}
	int exit_code() const { return exit_code_; }

private:
	int exit_code_;
};

// Thrown by option parsing for --help/--version: not an error, just "exit now".
struct ExitRequest {
	int code;
};

// "what: strerror(err)".
std::string errno_message(std::string_view what, int err);

[[noreturn]] void fail(const std::string& message, int exit_code = kExitFailure);
[[noreturn]] void fail_errno(std::string_view what, int err = errno, int exit_code = kExitFailure);
[[noreturn]] void fail_usage(const std::string& message);

// printf into a std::string.
std::string strprintf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// The name used as the "program:" prefix of every message.
const std::string& program_name();
void set_program_name(std::string_view name);

// Runs body, the whole of a program's main(), reporting any escaping Error
// once on stderr; returns the exit status for main() to return.
int run_main(std::string_view program, const std::function<int()>& body);

}  // namespace bencher
