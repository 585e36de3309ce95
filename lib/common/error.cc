// error.cc: error formatting and the run_main() wrapper.
#include "common/error.hh"

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <new>

namespace bencher {

namespace {
std::string& name_storage() {
	static std::string name = "bencher";
	return name;
}
}  // namespace

const std::string& program_name() { return name_storage(); }
void set_program_name(std::string_view name) { name_storage() = std::string(name); }

std::string errno_message(std::string_view what, int err) {
	std::string msg(what);
	msg += ": ";
	msg += std::strerror(err);
	return msg;
}

void fail(const std::string& message, int exit_code) { throw Error(message, exit_code); }

void fail_errno(std::string_view what, int err, int exit_code) {
	throw Error(errno_message(what, err), exit_code);
}

void fail_usage(const std::string& message) {
	throw Error(message + " (try --help)", kExitUsage);
}

std::string strprintf(const char* fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	va_list ap2;
	va_copy(ap2, ap);
	int n = std::vsnprintf(nullptr, 0, fmt, ap);
	va_end(ap);
	std::string out;
	if (n > 0) {
		out.resize(static_cast<size_t>(n) + 1);
		std::vsnprintf(out.data(), out.size(), fmt, ap2);
		out.resize(static_cast<size_t>(n));
	}
	va_end(ap2);
	return out;
}

int run_main(std::string_view program, const std::function<int()>& body) {
	set_program_name(program);
	try {
		return body();
	} catch (const ExitRequest& e) {
		return e.code;
	} catch (const Error& e) {
		std::fprintf(stderr, "%s: %s\n", program_name().c_str(), e.what());
		return e.exit_code();
	} catch (const std::bad_alloc&) {
		std::fprintf(stderr, "%s: out of memory\n", program_name().c_str());
		return kExitFailure;
	} catch (const std::exception& e) {
		std::fprintf(stderr, "%s: internal error: %s\n", program_name().c_str(), e.what());
		return kExitFailure;
	}
}

}  // namespace bencher
