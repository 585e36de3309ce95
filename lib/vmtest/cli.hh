// cli.hh: bencher-vmtest's command line, vmtest's own (-k KERNEL -- COMMAND,
// or -c vmtest.toml -f REGEX), parsed into Options and then into the list of
// Targets to run, so the pipeline sees one shape whichever way it was asked.
#pragma once

#include <string>
#include <vector>

#include "vmtest/config.hh"
#include "vmtest/report.hh"

namespace bencher::vmtest {

struct Options {
	// One-liner.
	std::string kernel;
	std::string kargs;
	std::string rootfs;  // "" = /
	std::vector<std::string> command;
	// Config file.
	std::string config;  // "" = ./vmtest.toml
	std::string filter;  // "" = every target
	// Both.
	std::string modules;  // "" = /lib/modules/RELEASE
	Format format = Format::text;
	std::string check_kernel;
	bool one_liner() const { return !kernel.empty(); }
};

// Throws usage errors (exit 2); --help and --version throw ExitRequest.
Options parse_args(int argc, char** argv);

// The targets Options ask for: the one-liner's (named after the kernel file,
// its command words joined by spaces as vmtest does), or the config file's
// whose names match the filter (a regex searched for in the name). `cwd`
// anchors the one-liner's relative paths.
Config targets_of(const Options& o, const std::string& cwd);

// The exit status of a run: the one-liner's COMMAND's (or 69), a config
// file's number of failed targets (at most 127, below the signal codes).
int exit_status(const Options& o, const std::vector<TargetResult>& results, int cancel_signal);

// The whole program (run.cc): bin/bencher-vmtest's main calls only this.
int vmtest_main(int argc, char** argv);

}  // namespace bencher::vmtest
