// size.cc: size and integer parsing with overflow checks.
#include "common/size.hh"

#include <cctype>

#include "common/error.hh"

namespace bencher {

namespace {

[[noreturn]] void bad(std::string_view what, std::string_view text, const char* why) {
	fail(std::string(what) + ": '" + std::string(text) + "': " + why);
}

int unit_shift(char c) {
	switch (std::toupper(static_cast<unsigned char>(c))) {
	case 'B': return 0;
	case 'K': return 10;
	case 'M': return 20;
	case 'G': return 30;
	case 'T': return 40;
	case 'P': return 50;
	case 'E': return 60;
	default: return -1;
	}
}

}  // namespace

uint64_t parse_uint(std::string_view text, std::string_view what, uint64_t min, uint64_t max) {
	if (text.empty()) bad(what, text, "empty number");
	uint64_t v = 0;
	for (char c : text) {
		if (c < '0' || c > '9') bad(what, text, "not a non-negative integer");
		unsigned d = static_cast<unsigned>(c - '0');
		if (v > (UINT64_MAX - d) / 10) bad(what, text, "too large");
		v = v * 10 + d;
	}
	if (v < min || v > max)
		fail(strprintf("%.*s: %llu out of range [%llu, %llu]", static_cast<int>(what.size()), what.data(),
			       static_cast<unsigned long long>(v), static_cast<unsigned long long>(min),
			       static_cast<unsigned long long>(max)));
	return v;
}

uint64_t parse_size(std::string_view text, std::string_view what, uint64_t default_unit) {
	if (text.empty()) bad(what, text, "empty size");
	size_t i = 0;
	uint64_t whole = 0;
	size_t digits = 0;
	while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
		unsigned d = static_cast<unsigned>(text[i] - '0');
		if (whole > (UINT64_MAX - d) / 10) bad(what, text, "too large");
		whole = whole * 10 + d;
		i++;
		digits++;
	}
	if (digits == 0) bad(what, text, "not a size (expected e.g. 512M, 1G)");
	// Up to 9 fraction digits, kept as frac / 10^frac_digits.
	uint64_t frac = 0, frac_scale = 1;
	if (i < text.size() && text[i] == '.') {
		i++;
		size_t fdigits = 0;
		while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
			if (fdigits < 9) {
				frac = frac * 10 + static_cast<unsigned>(text[i] - '0');
				frac_scale *= 10;
			}
			fdigits++;
			i++;
		}
		if (fdigits == 0) bad(what, text, "no digits after '.'");
	}

	uint64_t unit = default_unit;
	if (i < text.size()) {
		int shift = unit_shift(text[i]);
		if (shift < 0) bad(what, text, "unknown unit (use K, M, G or T)");
		unit = uint64_t{1} << shift;
		i++;
		std::string_view rest = text.substr(i);
		if (shift > 0 && !(rest.empty() || rest == "B" || rest == "b" || rest == "iB" || rest == "ib"))
			bad(what, text, "trailing characters after unit");
		if (shift == 0 && !rest.empty()) bad(what, text, "trailing characters after unit");
	}
	if (whole != 0 && unit > UINT64_MAX / whole) bad(what, text, "too large");
	uint64_t bytes = whole * unit;
	if (frac != 0) {
		// frac < frac_scale <= 10^9, so neither product overflows, and
		// add < unit.
		uint64_t add = (unit / frac_scale) * frac + (unit % frac_scale) * frac / frac_scale;
		if (bytes > UINT64_MAX - add) bad(what, text, "too large");
		bytes += add;
	}
	return bytes;
}

std::string format_size(uint64_t bytes) {
	static const char units[] = "KMGTPE";
	if (bytes == 0) return "0";
	int u = -1;
	while (u < 5 && bytes % 1024 == 0) {
		bytes /= 1024;
		u++;
	}
	std::string s = std::to_string(bytes);
	if (u >= 0) s += units[u];
	return s;
}

}  // namespace bencher
