// report.hh: what bencher-vmtest says about its targets once they ran: a
// PASS/FAIL line per target on stderr as each ends, and at the end a summary
// in the chosen format on stdout (text: nothing more; TAP for prove; JUnit
// XML for CI servers).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bencher::vmtest {

enum class Format { text, tap, junit };

// Throws a usage error for anything but text, tap or junit.
Format parse_format(std::string_view s);

struct TargetResult {
	std::string name;
	bool passed = false;
	int exit_code = 0;       // COMMAND's, or the machinery's code
	std::string outcome;     // the results JSON's: passed, failed, guest_panic, ...
	std::string message;     // why it failed, one line ("" when it passed)
	uint64_t duration_ms = 0;
	bool machinery = false;  // the toolchain failed, not COMMAND
};

// "PASS name" or "FAIL name: message".
std::string status_line(const TargetResult& r);

// The whole run's report in `f` ("" for text, whose lines went out as the
// targets ended).
std::string render(Format f, const std::vector<TargetResult>& results);

// Text escaped for XML character data and attribute values; bytes that XML
// 1.0 cannot hold at all (most control characters) become U+FFFD.
std::string xml_escape(std::string_view s);

}  // namespace bencher::vmtest
