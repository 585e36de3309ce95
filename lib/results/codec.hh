// codec.hh: the byte-level pieces of the results wire protocol (bencher-init
// <-> collect-results): bounded little-endian readers and writers, strict
// base64 (files in results.json, serial records) and CRC-32 (serial records).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace bencher::results {

// Appends little-endian integers and length-prefixed fields to a string.
class Writer {
public:
	void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
	void u16(uint16_t v);
	void u32(uint32_t v);
	void u64(uint64_t v);
	void bytes(std::string_view s) { out_.append(s); }
	std::string& str() { return out_; }

private:
	std::string out_;
};

// Reads from a buffer it never runs past; every shortfall is an Error naming
// `what` (the structure being decoded).
class Reader {
public:
	Reader(std::string_view data, std::string what) : data_(data), what_(std::move(what)) {}
	uint8_t u8();
	uint16_t u16();
	uint32_t u32();
	uint64_t u64();
	std::string_view bytes(size_t n);
	size_t remaining() const { return data_.size() - pos_; }
	bool done() const { return pos_ == data_.size(); }
	const std::string& what() const { return what_; }

private:
	std::string_view data_;
	std::string what_;
	size_t pos_ = 0;
};

std::string base64_encode(std::string_view data);
// Strict: canonical padding only, no whitespace; throws on anything else.
std::string base64_decode(std::string_view text);
// Whether `text` would decode (without throwing); for parsers of noisy input.
bool base64_decode_into(std::string_view text, std::string& out);

uint32_t crc32(std::string_view data, uint32_t crc = 0);

}  // namespace bencher::results
