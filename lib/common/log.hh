// log.hh: leveled diagnostics on stderr, "program: level: message".
// The level comes from --log-level or BENCHER_LOG_LEVEL (error, warn, info,
// debug); the default is warn, so a tool is silent unless something is off.
#pragma once

#include <string_view>

namespace bencher::log {

enum class Level { error = 0, warn = 1, info = 2, debug = 3 };

void set_level(Level level);
Level level();
bool enabled(Level level);
// Parses a level name; throws a usage error for anything else.
Level parse_level(std::string_view name);
// Applies BENCHER_LOG_LEVEL when set (bad values are reported and ignored).
void init_from_env();

void message(Level level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace bencher::log

#define BLOG_ERROR(...) ::bencher::log::message(::bencher::log::Level::error, __VA_ARGS__)
#define BLOG_WARN(...) ::bencher::log::message(::bencher::log::Level::warn, __VA_ARGS__)
#define BLOG_INFO(...)                                                              \
	do {                                                                        \
		if (::bencher::log::enabled(::bencher::log::Level::info))           \
			::bencher::log::message(::bencher::log::Level::info, __VA_ARGS__); \
	} while (0)
#define BLOG_DEBUG(...)                                                              \
	do {                                                                         \
		if (::bencher::log::enabled(::bencher::log::Level::debug))           \
			::bencher::log::message(::bencher::log::Level::debug, __VA_ARGS__); \
	} while (0)
