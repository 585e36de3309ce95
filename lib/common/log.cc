// log.cc: the process-wide log level and the stderr writer.
#include "common/log.hh"

#include <unistd.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/error.hh"

namespace bencher::log {

namespace {
std::atomic<int> g_level{static_cast<int>(Level::warn)};
const char* const kNames[] = {"error", "warning", "info", "debug"};
}  // namespace

void set_level(Level l) { g_level = static_cast<int>(l); }
Level level() { return static_cast<Level>(g_level.load()); }
bool enabled(Level l) { return static_cast<int>(l) <= g_level.load(); }

Level parse_level(std::string_view name) {
	if (name == "error") return Level::error;
	if (name == "warn" || name == "warning") return Level::warn;
	if (name == "info") return Level::info;
	if (name == "debug") return Level::debug;
	fail_usage("--log-level: '" + std::string(name) + "': expected error, warn, info or debug");
}

void init_from_env() {
	const char* v = std::getenv("BENCHER_LOG_LEVEL");
	if (v == nullptr || *v == '\0') return;
	try {
		set_level(parse_level(v));
	} catch (const Error&) {
		message(Level::warn, "BENCHER_LOG_LEVEL=%s: unknown level, ignored", v);
	}
}

void message(Level l, const char* fmt, ...) {
	if (!enabled(l)) return;
	// One write per line so concurrent writers do not interleave mid-line.
	char body[4096];
	va_list ap;
	va_start(ap, fmt);
	std::vsnprintf(body, sizeof body, fmt, ap);
	va_end(ap);
	std::string line = program_name();
	if (l != Level::error) {
		line += ": ";
		line += kNames[static_cast<int>(l)];
	}
	line += ": ";
	line += body;
	line += '\n';
	ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
	(void)ignored;
}

}  // namespace bencher::log
