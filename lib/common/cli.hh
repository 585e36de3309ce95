// cli.hh: the option parsing every program shares. Each program declares its
// options with a callback each; --help, --version and --log-level come for
// free and behave the same everywhere. Built on getopt_long; parsing stops at
// the first operand or "--", so "prog [options] -- COMMAND..." works, unless
// a program whose operands are never a command asks for options anywhere,
// as GNU tools read them ("oci-unpack IMAGE --config-only").
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace bencher::cli {

struct Program {
	const char* name;   // "oci-unpack"
	const char* help;   // full --help text, starting with "Usage: ..."
};

class Parser {
public:
	explicit Parser(Program program);

	// An option without a value, e.g. --insecure.
	Parser& flag(const char* long_name, char short_name, std::function<void()> fn);
	// An option with a value, e.g. --output FILE or -o FILE.
	Parser& value(const char* long_name, char short_name, std::function<void(const std::string&)> fn);
	// Options after operands are options too ("--" still ends them).
	Parser& options_anywhere() {
		permute_ = true;
		return *this;
	}

	// Parses argv; returns the operands (everything after the options, or
	// after "--"). Throws usage errors; --help/--version throw ExitRequest.
	std::vector<std::string> parse(int argc, char** argv);

private:
	struct Opt {
		std::string long_name;
		char short_name;
		bool has_value;
		std::function<void(const std::string&)> fn;
	};
	Program program_;
	std::vector<Opt> opts_;
	bool permute_ = false;
};

// "NAME (bencher-runner) VERSION".
std::string version_line(std::string_view name);

}  // namespace bencher::cli
