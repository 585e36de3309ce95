// test_util.hh: what the oci unit tests share: the exit code an Error
// carries, and libarchive writers that build layers and streams in memory.
#pragma once

#include <archive.h>

#include <functional>
#include <string>

#include "common/error.hh"

namespace bencher::oci::test {

// The exit code of the Error f throws (0 if none), its message in *msg.
inline int exit_code_of(const std::function<void()>& f, std::string* msg = nullptr) {
	try {
		f();
	} catch (const Error& e) {
		if (msg) *msg = e.what();
		return e.exit_code();
	}
	return 0;
}

// Opens `a` (format and filters set) to append what it writes to *out.
inline void open_to_string(archive* a, std::string* out) {
	archive_write_open2(
	    a, out, nullptr,
	    [](archive*, void* ud, const void* buf, size_t n) -> la_ssize_t {
		    static_cast<std::string*>(ud)->append(static_cast<const char*>(buf), n);
		    return static_cast<la_ssize_t>(n);
	    },
	    nullptr, nullptr);
}

}  // namespace bencher::oci::test
