// cli.cc: getopt_long behind a declarative option list.
#include "common/cli.hh"

#include <getopt.h>

#include "config.h"  // PACKAGE_VERSION, from configure

#include <cstdio>

#include "common/error.hh"
#include "common/log.hh"

namespace bencher::cli {

Parser::Parser(Program program) : program_(program) {}

Parser& Parser::flag(const char* long_name, char short_name, std::function<void()> fn) {
	opts_.push_back({long_name, short_name, false, [fn](const std::string&) { fn(); }});
	return *this;
}

Parser& Parser::value(const char* long_name, char short_name, std::function<void(const std::string&)> fn) {
	opts_.push_back({long_name, short_name, true, std::move(fn)});
	return *this;
}

std::string version_line(std::string_view name) {
	return std::string(name) + " (bencher-runner) " PACKAGE_VERSION;
}

std::vector<std::string> Parser::parse(int argc, char** argv) {
	enum { kHelp = 1000, kVersion, kLogLevel, kFirst };
	std::vector<option> longopts;
	// '+': stop at the first operand; ':': report a missing value as such.
	std::string shortopts = permute_ ? ":h" : "+:h";
	for (size_t i = 0; i < opts_.size(); i++) {
		const Opt& o = opts_[i];
		longopts.push_back({o.long_name.c_str(), o.has_value ? required_argument : no_argument, nullptr,
				    static_cast<int>(kFirst + i)});
		if (o.short_name) {
			shortopts += o.short_name;
			if (o.has_value) shortopts += ':';
		}
	}
	longopts.push_back({"help", no_argument, nullptr, kHelp});
	longopts.push_back({"version", no_argument, nullptr, kVersion});
	longopts.push_back({"log-level", required_argument, nullptr, kLogLevel});
	longopts.push_back({nullptr, 0, nullptr, 0});

	log::init_from_env();
	opterr = 0;
	optind = 0;  // full re-initialisation, so parse() may run more than once
	for (;;) {
		int longindex = -1;
		int c = getopt_long(argc, argv, shortopts.c_str(), longopts.data(), &longindex);
		if (c == -1) break;
		const char* shown = argv[optind - 1];
		if (c == '?') {
			if (optopt && optopt < 256)
				fail_usage(strprintf("-%c: unknown option", optopt));
			fail_usage(strprintf("%s: unknown option", shown));
		}
		if (c == ':') {
			if (optopt && optopt < 256 && optopt != kHelp)
				fail_usage(strprintf("-%c: missing value", optopt));
			fail_usage(strprintf("%s: missing value", shown));
		}
		if (c == 'h' || c == kHelp) {
			std::fputs(program_.help, stdout);
			std::fflush(stdout);
			throw ExitRequest{0};
		}
		if (c == kVersion) {
			std::printf("%s\n", version_line(program_.name).c_str());
			std::fflush(stdout);
			throw ExitRequest{0};
		}
		if (c == kLogLevel) {
			log::set_level(log::parse_level(optarg));
			continue;
		}
		const Opt* opt = nullptr;
		if (c >= kFirst) {
			opt = &opts_[static_cast<size_t>(c - kFirst)];
		} else {
			for (const Opt& o : opts_)
				if (o.short_name == c) opt = &o;
		}
		if (opt == nullptr) fail_usage(strprintf("%s: unknown option", shown));
		opt->fn(opt->has_value ? std::string(optarg) : std::string());
	}
	std::vector<std::string> operands;
	for (int i = optind; i < argc; i++) operands.emplace_back(argv[i]);
	return operands;
}

}  // namespace bencher::cli
