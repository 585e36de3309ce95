// serial.cc: record framing for the serial fallback (see serial.hh).
#include "results/serial.hh"

#include <charconv>

#include "common/error.hh"
#include "results/codec.hh"

namespace bencher::results {

namespace {
constexpr std::string_view kOpen = "@@BR1:";
constexpr std::string_view kClose = "@@";

bool known_type(char t) {
	return t == 'B' || t == 'O' || t == 'E' || t == 'X' || t == 'F' || t == 'Z';
}
}  // namespace

std::string serial_record(char type, uint64_t seq, std::string_view payload) {
	std::string body = strprintf("%c:%llu:", type, static_cast<unsigned long long>(seq)) + base64_encode(payload);
	return std::string(kOpen) + body + strprintf(":%08x", crc32(body)) + std::string(kClose) + "\n";
}

void SerialWriter::record(char type, std::string_view payload) {
	do {
		std::string_view chunk = payload.substr(0, kSerialChunk);
		payload.remove_prefix(chunk.size());
		out_(serial_record(type, seq_++, chunk));
	} while (!payload.empty());
}

void SerialParser::feed(std::string_view data) {
	while (!data.empty()) {
		size_t nl = data.find('\n');
		std::string_view part = data.substr(0, nl == std::string_view::npos ? data.size() : nl + 1);
		data.remove_prefix(part.size());
		if (overlong_) {
			// The rest of an overlong line: noise, up to its newline.
			if (sink_.noise) sink_.noise(part);
			if (part.back() == '\n') overlong_ = false;
			continue;
		}
		if (buf_.size() + part.size() > kSerialMaxLine) {
			if (sink_.noise) {
				sink_.noise(buf_);
				sink_.noise(part);
			}
			buf_.clear();
			overlong_ = part.back() != '\n';
			continue;
		}
		buf_.append(part);
		if (buf_.back() == '\n') {
			std::string l = std::move(buf_);
			buf_.clear();
			line(l);
		}
	}
}

void SerialParser::finish() {
	if (!buf_.empty()) {
		std::string l = std::move(buf_);
		buf_.clear();
		line(l);
	}
}

void SerialParser::line(std::string_view l) {
	size_t at = l.find(kOpen);
	if (at == std::string_view::npos) {
		if (sink_.noise) sink_.noise(l);
		return;
	}
	if (at > 0 && sink_.noise) {
		std::string text(l.substr(0, at));
		text += '\n';
		sink_.noise(text);
	}
	std::string_view rec = l.substr(at + kOpen.size());
	while (!rec.empty() && (rec.back() == '\n' || rec.back() == '\r')) rec.remove_suffix(1);
	auto bad = [&] { damaged_++; };
	if (rec.size() < kClose.size() || rec.substr(rec.size() - kClose.size()) != kClose) return bad();
	rec.remove_suffix(kClose.size());
	size_t last = rec.rfind(':');
	if (last == std::string_view::npos || rec.size() - last - 1 != 8) return bad();
	std::string_view body = rec.substr(0, last);
	uint32_t crc = 0;
	std::string_view crc_text = rec.substr(last + 1);
	auto [p, ec] = std::from_chars(crc_text.data(), crc_text.data() + crc_text.size(), crc, 16);
	if (ec != std::errc() || p != crc_text.data() + crc_text.size()) return bad();
	if (crc32(body) != crc) return bad();
	// body: T:seq:b64
	if (body.size() < 4 || body[1] != ':' || !known_type(body[0])) return bad();
	char type = body[0];
	std::string_view rest = body.substr(2);
	size_t colon = rest.find(':');
	if (colon == std::string_view::npos || colon == 0 || colon > 20) return bad();
	uint64_t seq = 0;
	auto [q, ec2] = std::from_chars(rest.data(), rest.data() + colon, seq);
	if (ec2 != std::errc() || q != rest.data() + colon) return bad();
	std::string payload;
	if (!base64_decode_into(rest.substr(colon + 1), payload) || payload.size() > kSerialChunk) return bad();
	if (ended_) return;  // anything after the end record is ignored
	if (!begun_) {
		// Only a begin record with sequence 0 starts a stream; a stray
		// record before it (an earlier boot, a forgery in the kernel log)
		// is not ours.
		if (type != 'B' || seq != 0 || payload != "v1") return bad();
		begun_ = true;
		next_seq_ = 1;
		return;
	}
	if (seq < next_seq_) return bad();  // replayed or duplicated
	if (seq > next_seq_) lost_ += seq - next_seq_;
	next_seq_ = seq + 1;
	if (type == 'B') return bad();
	if (type == 'Z') {
		ended_ = true;
		return;
	}
	if (sink_.record) sink_.record(type, payload);
}

}  // namespace bencher::results
