// serial.hh: the serial-console fallback of the results channel. Without
// vsock, bencher-init writes each piece of what it would have sent as a
// one-line record on the console, between kernel messages:
//   @@BR1:<type>:<seq>:<base64 payload>:<crc32 hex>@@
// types: B begin ("v1"), O stdout, E stderr, X exit record, F files stream,
// Z end. seq counts records from 0; the CRC-32 covers "<type>:<seq>:<base64>".
// collect-results parses COMMAND's stdout (the VMM console) with SerialParser.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace bencher::results {

constexpr size_t kSerialChunk = 512;        // payload bytes per record
constexpr size_t kSerialMaxLine = 4096;     // longer console lines are noise

class SerialWriter {
public:
	explicit SerialWriter(std::function<void(std::string_view)> out) : out_(std::move(out)) {}
	// Writes payload as one or more records of `type` (an empty payload
	// still writes one record).
	void record(char type, std::string_view payload);

private:
	std::function<void(std::string_view)> out_;
	uint64_t seq_ = 0;
};

// Formats one record line (with its trailing newline).
std::string serial_record(char type, uint64_t seq, std::string_view payload);

class SerialParser {
public:
	struct Sink {
		std::function<void(char type, std::string_view payload)> record;
		std::function<void(std::string_view text)> noise;  // console text outside records
	};
	explicit SerialParser(Sink sink) : sink_(std::move(sink)) {}
	void feed(std::string_view data);
	// At EOF: passes on a last unterminated line as noise.
	void finish();

	bool begun() const { return begun_; }
	bool ended() const { return ended_; }
	uint64_t damaged() const { return damaged_; }  // malformed or CRC-failing records
	uint64_t lost() const { return lost_; }        // records missing by sequence

private:
	void line(std::string_view l);

	Sink sink_;
	std::string buf_;
	bool overlong_ = false;
	bool begun_ = false;
	bool ended_ = false;
	uint64_t next_seq_ = 0;
	uint64_t damaged_ = 0;
	uint64_t lost_ = 0;
};

}  // namespace bencher::results
