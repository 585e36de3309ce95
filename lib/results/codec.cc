// codec.cc: little-endian framing, base64 and CRC-32 for the results protocol.
#include "results/codec.hh"

#include <array>

#include "common/error.hh"

namespace bencher::results {

void Writer::u16(uint16_t v) {
	for (int i = 0; i < 2; i++) u8(static_cast<uint8_t>(v >> (8 * i)));
}
void Writer::u32(uint32_t v) {
	for (int i = 0; i < 4; i++) u8(static_cast<uint8_t>(v >> (8 * i)));
}
void Writer::u64(uint64_t v) {
	for (int i = 0; i < 8; i++) u8(static_cast<uint8_t>(v >> (8 * i)));
}

std::string_view Reader::bytes(size_t n) {
	if (n > remaining()) fail(strprintf("%s: truncated (need %zu bytes, %zu left)", what_.c_str(), n, remaining()));
	std::string_view s = data_.substr(pos_, n);
	pos_ += n;
	return s;
}

static uint64_t le(std::string_view b) {
	uint64_t v = 0;
	for (size_t i = 0; i < b.size(); i++) v |= static_cast<uint64_t>(static_cast<uint8_t>(b[i])) << (8 * i);
	return v;
}

uint8_t Reader::u8() { return static_cast<uint8_t>(le(bytes(1))); }
uint16_t Reader::u16() { return static_cast<uint16_t>(le(bytes(2))); }
uint32_t Reader::u32() { return static_cast<uint32_t>(le(bytes(4))); }
uint64_t Reader::u64() { return le(bytes(8)); }

static const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(std::string_view data) {
	std::string out;
	out.reserve((data.size() + 2) / 3 * 4);
	size_t i = 0;
	auto byte = [&](size_t k) { return static_cast<uint32_t>(static_cast<uint8_t>(data[k])); };
	for (; i + 3 <= data.size(); i += 3) {
		uint32_t v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
		out += kB64[v >> 18 & 63];
		out += kB64[v >> 12 & 63];
		out += kB64[v >> 6 & 63];
		out += kB64[v & 63];
	}
	if (data.size() - i == 1) {
		uint32_t v = byte(i) << 16;
		out += kB64[v >> 18 & 63];
		out += kB64[v >> 12 & 63];
		out += "==";
	} else if (data.size() - i == 2) {
		uint32_t v = byte(i) << 16 | byte(i + 1) << 8;
		out += kB64[v >> 18 & 63];
		out += kB64[v >> 12 & 63];
		out += kB64[v >> 6 & 63];
		out += '=';
	}
	return out;
}

static int b64_value(char c) {
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

bool base64_decode_into(std::string_view text, std::string& out) {
	out.clear();
	if (text.size() % 4 != 0) return false;
	out.reserve(text.size() / 4 * 3);
	for (size_t i = 0; i < text.size(); i += 4) {
		bool last = i + 4 == text.size();
		int v[4];
		int pad = 0;
		for (int k = 0; k < 4; k++) {
			char c = text[i + k];
			if (c == '=' && last && k >= 2) {
				pad++;
				v[k] = 0;
				continue;
			}
			if (pad > 0) return false;  // data after padding
			v[k] = b64_value(c);
			if (v[k] < 0) return false;
		}
		uint32_t w = static_cast<uint32_t>(v[0]) << 18 | static_cast<uint32_t>(v[1]) << 12 |
		             static_cast<uint32_t>(v[2]) << 6 | static_cast<uint32_t>(v[3]);
		// Canonical form: the bits under the padding must be zero.
		if (pad == 2 && (w & 0xffff) != 0) return false;
		if (pad == 1 && (w & 0xff) != 0) return false;
		out += static_cast<char>(w >> 16 & 0xff);
		if (pad < 2) out += static_cast<char>(w >> 8 & 0xff);
		if (pad < 1) out += static_cast<char>(w & 0xff);
	}
	return true;
}

std::string base64_decode(std::string_view text) {
	std::string out;
	if (!base64_decode_into(text, out)) fail("base64: malformed input");
	return out;
}

uint32_t crc32(std::string_view data, uint32_t crc) {
	static const std::array<uint32_t, 256> table = [] {
		std::array<uint32_t, 256> t{};
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
			t[i] = c;
		}
		return t;
	}();
	crc = ~crc;
	for (char ch : data) crc = table[(crc ^ static_cast<uint8_t>(ch)) & 0xff] ^ (crc >> 8);
	return ~crc;
}

}  // namespace bencher::results
