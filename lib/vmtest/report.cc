// report.cc: the status lines and the TAP and JUnit summaries (report.hh).
// TAP is version 13 as prove reads it; JUnit is the Ant/Jenkins shape
// (testsuites > testsuite > testcase > failure) every CI server parses.
#include "vmtest/report.hh"

#include "common/error.hh"

namespace bencher::vmtest {

namespace {

// TAP ends a test line at the newline and reads '#' as a directive.
std::string tap_description(std::string_view name) {
	std::string out;
	for (char c : name) {
		if (c == '\n' || c == '\r') out += ' ';
		else if (c == '#') out += "\\#";
		else out += c;
	}
	return out;
}

std::string tap(const std::vector<TargetResult>& results) {
	std::string out = "TAP version 13\n" + strprintf("1..%zu\n", results.size());
	for (size_t i = 0; i < results.size(); i++) {
		const TargetResult& r = results[i];
		out += strprintf("%s %zu - ", r.passed ? "ok" : "not ok", i + 1) + tap_description(r.name) + "\n";
		if (!r.passed) out += "# " + tap_description(r.message) + "\n";
	}
	return out;
}

std::string junit(const std::vector<TargetResult>& results) {
	size_t failures = 0;
	uint64_t total_ms = 0;
	for (const TargetResult& r : results) {
		failures += r.passed ? 0 : 1;
		total_ms += r.duration_ms;
	}
	auto secs = [](uint64_t ms) { return strprintf("%llu.%03llu", static_cast<unsigned long long>(ms / 1000),
						       static_cast<unsigned long long>(ms % 1000)); };
	std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
	out += strprintf("<testsuites tests=\"%zu\" failures=\"%zu\" time=\"", results.size(), failures) +
	       secs(total_ms) + "\">\n";
	out += strprintf("  <testsuite name=\"bencher-vmtest\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\" time=\"",
			 results.size(), failures) + secs(total_ms) + "\">\n";
	for (const TargetResult& r : results) {
		out += "    <testcase classname=\"bencher-vmtest\" name=\"" + xml_escape(r.name) + "\" time=\"" +
		       secs(r.duration_ms) + "\"";
		if (r.passed) {
			out += "/>\n";
			continue;
		}
		out += ">\n      <failure type=\"" + xml_escape(r.outcome) + "\" message=\"" + xml_escape(r.message) +
		       "\"/>\n    </testcase>\n";
	}
	out += "  </testsuite>\n</testsuites>\n";
	return out;
}

// The length of the UTF-8 sequence at s[i] if it encodes a character XML
// 1.0 allows (no overlong form, surrogate, U+FFFE/U+FFFF or beyond
// U+10FFFF), else 0. Control characters are the caller's to judge.
size_t xml_char_length(std::string_view s, size_t i) {
	unsigned char c = static_cast<unsigned char>(s[i]);
	size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
	if (n <= 1 || i + n > s.size()) return n == 1 ? 1 : 0;
	uint32_t cp = c & (0x7f >> n);
	for (size_t k = 1; k < n; k++) {
		unsigned char b = static_cast<unsigned char>(s[i + k]);
		if ((b & 0xc0) != 0x80) return 0;
		cp = (cp << 6) | (b & 0x3f);
	}
	static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
	if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff) return 0;
	return n;
}

}  // namespace

Format parse_format(std::string_view s) {
	if (s == "text") return Format::text;
	if (s == "tap") return Format::tap;
	if (s == "junit") return Format::junit;
	fail_usage("--format: expected text, tap or junit, got '" + std::string(s) + "'");
}

std::string status_line(const TargetResult& r) {
	if (r.passed) return "PASS " + r.name;
	return "FAIL " + r.name + ": " + r.message;
}

std::string render(Format f, const std::vector<TargetResult>& results) {
	switch (f) {
	case Format::tap: return tap(results);
	case Format::junit: return junit(results);
	case Format::text: break;
	}
	return "";
}

std::string xml_escape(std::string_view s) {
	std::string out;
	for (size_t i = 0; i < s.size();) {
		char c = s[i];
		size_t n = xml_char_length(s, i);
		unsigned char u = static_cast<unsigned char>(c);
		if (n == 0 || (u < 0x20 && c != '\t' && c != '\n' && c != '\r')) {
			out += "\xef\xbf\xbd";
			i += n == 0 ? 1 : n;
			continue;
		}
		switch (c) {
		case '&': out += "&amp;"; break;
		case '<': out += "&lt;"; break;
		case '>': out += "&gt;"; break;
		case '"': out += "&quot;"; break;
		case '\'': out += "&apos;"; break;
		case '\n': out += "&#10;"; break;
		case '\r': out += "&#13;"; break;
		case '\t': out += "&#9;"; break;
		default: out.append(s.substr(i, n));
		}
		i += n;
	}
	return out;
}

}  // namespace bencher::vmtest
