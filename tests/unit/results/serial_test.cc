// Unit tests for lib/results/serial: the console fallback's records amid
// kernel noise, damage, loss and forgery.
#include "results/serial.hh"

#include <gtest/gtest.h>

using namespace bencher::results;

namespace {
struct Got {
	std::string out, err, exit, files, noise;
};

SerialParser parser(Got& g) {
	return SerialParser(SerialParser::Sink{
	    [&g](char t, std::string_view p) {
		    (t == 'O' ? g.out : t == 'E' ? g.err : t == 'X' ? g.exit : g.files).append(p);
	    },
	    [&g](std::string_view n) { g.noise.append(n); },
	});
}

std::string session(const std::string& out) {
	std::string s;
	SerialWriter w([&s](std::string_view r) { s.append(r); });
	w.record('B', "v1");
	w.record('O', out);
	w.record('E', "err");
	w.record('X', "0\n");
	w.record('Z', "");
	return s;
}
}  // namespace

TEST(Serial, RoundTripWithNoiseAndCrLf) {
	std::string out;
	for (int i = 0; i < 3000; i++) out += static_cast<char>(i * 7);
	std::string s = "[    0.1] booting\r\n" + session(out) + "[    1.0] reboot: Restarting\n";
	// The tty turns \n into \r\n.
	std::string crlf;
	for (char c : s) {
		if (c == '\n' && (crlf.empty() || crlf.back() != '\r')) crlf += '\r';
		crlf += c;
	}
	for (size_t step : {size_t(1), size_t(17), crlf.size()}) {
		Got g;
		auto p = parser(g);
		for (size_t i = 0; i < crlf.size(); i += step) p.feed(std::string_view(crlf).substr(i, step));
		p.finish();
		EXPECT_EQ(g.out, out);
		EXPECT_EQ(g.err, "err");
		EXPECT_EQ(g.exit, "0\n");
		EXPECT_TRUE(p.begun());
		EXPECT_TRUE(p.ended());
		EXPECT_EQ(p.damaged(), 0u);
		EXPECT_EQ(p.lost(), 0u);
		EXPECT_NE(g.noise.find("booting"), std::string::npos);
		EXPECT_NE(g.noise.find("Restarting"), std::string::npos);
	}
}

TEST(Serial, DamagedRecordsAreDroppedAndCounted) {
	std::string s = session("hello");
	size_t at = s.find("@@BR1:O:");
	std::string broken = s;
	broken[at + 12] ^= 0x20;  // flips a payload character: CRC fails
	Got g;
	auto p = parser(g);
	p.feed(broken);
	p.finish();
	EXPECT_EQ(g.out, "");
	EXPECT_EQ(p.damaged(), 1u);
	EXPECT_EQ(p.lost(), 1u);  // the next record shows the gap
	EXPECT_EQ(g.err, "err");
}

TEST(Serial, KernelMessageInsideARecordLine) {
	std::string s = session("hello");
	size_t at = s.find("@@BR1:O:");
	s.insert(at + 10, "[ 2.0] oops\n");
	Got g;
	auto p = parser(g);
	p.feed(s);
	EXPECT_EQ(g.out, "");
	EXPECT_GE(p.damaged(), 1u);
	EXPECT_EQ(p.lost(), 1u);
}

TEST(Serial, ForgeriesBeforeBeginAndAfterEndAreIgnored) {
	// A record with a valid CRC but no begin record first.
	std::string forged = serial_record('O', 5, "forged") + serial_record('X', 6, "0\n");
	Got g;
	auto p = parser(g);
	p.feed(forged + session("real") + serial_record('O', 5, "late"));
	p.finish();
	EXPECT_EQ(g.out, "real");
	EXPECT_EQ(g.exit, "0\n");
	// A replayed sequence number inside the session is dropped.
	Got h;
	auto q = parser(h);
	std::string s = session("x");
	size_t e = s.find("@@BR1:E:");
	s.insert(e, serial_record('O', 1, "dup"));
	q.feed(s);
	EXPECT_EQ(h.out, "x");
	EXPECT_EQ(q.damaged(), 1u);
}

TEST(Serial, HostileLines) {
	Got g;
	auto p = parser(g);
	p.feed(session("ok").substr(0, 20));  // start of the begin record only
	p.feed(std::string(10000, 'A'));     // an overlong line
	p.feed("\n@@BR1:@@\n@@BR1:O:1:Zg==:zzzzzzzz@@\n@@BR1:O:99999999999999999999999:Zg==:00000000@@\n");
	p.feed("@@BR1:Q:0:Zg==:00000000@@\n@@BR1\n");
	p.finish();
	EXPECT_FALSE(p.begun());
	EXPECT_EQ(g.out, "");
	EXPECT_GE(p.damaged(), 4u);
}

TEST(Serial, LongPayloadSplitsIntoChunks) {
	std::string s;
	SerialWriter w([&s](std::string_view r) {
		EXPECT_LT(r.size(), kSerialMaxLine);
		s.append(r);
	});
	w.record('B', "v1");
	w.record('O', std::string(kSerialChunk * 3 + 1, 'z'));
	size_t lines = 0;
	for (char c : s) lines += c == '\n';
	EXPECT_EQ(lines, 5u);
}
