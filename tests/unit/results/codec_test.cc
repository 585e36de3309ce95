// Unit tests for lib/results/codec: base64 (strict), CRC-32, bounded reader.
#include "results/codec.hh"

#include <gtest/gtest.h>

#include "common/error.hh"

using namespace bencher;
using namespace bencher::results;

TEST(Base64, KnownVectors) {
	EXPECT_EQ(base64_encode(""), "");
	EXPECT_EQ(base64_encode("f"), "Zg==");
	EXPECT_EQ(base64_encode("fo"), "Zm8=");
	EXPECT_EQ(base64_encode("foo"), "Zm9v");
	EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
	EXPECT_EQ(base64_decode("Zm9vYg=="), "foob");
}

TEST(Base64, RoundTripsEveryByte) {
	std::string all;
	for (int i = 0; i < 256; i++) all += static_cast<char>(i);
	for (size_t n = 0; n <= all.size(); n += 37) EXPECT_EQ(base64_decode(base64_encode(all.substr(0, n))), all.substr(0, n));
}

TEST(Base64, RejectsNonCanonicalAndGarbage) {
	std::string out;
	for (const char* bad : {"Zg=", "Zg", "Z===", "Zh==", "Zm9=", "Zm9v\n", "Zm 9v", "=Zm9", "Zg==Zg==", "Z@==", "Zm=v"})
		EXPECT_FALSE(base64_decode_into(bad, out)) << bad;
	EXPECT_THROW(base64_decode("!!!!"), Error);
}

TEST(Crc32, KnownValue) {
	EXPECT_EQ(crc32("123456789"), 0xcbf43926u);
	EXPECT_EQ(crc32(""), 0u);
}

TEST(Reader, NeverRunsPastTheEnd) {
	Writer w;
	w.u16(0x1234);
	w.u32(0xdeadbeef);
	w.u64(1ull << 40);
	Reader r(w.str(), "thing");
	EXPECT_EQ(r.u16(), 0x1234);
	EXPECT_EQ(r.u32(), 0xdeadbeefu);
	EXPECT_EQ(r.u64(), 1ull << 40);
	EXPECT_TRUE(r.done());
	try {
		r.u8();
		FAIL();
	} catch (const Error& e) {
		EXPECT_NE(std::string(e.what()).find("thing: truncated"), std::string::npos);
	}
	Reader r2("ab", "x");
	EXPECT_THROW(r2.bytes(3), Error);
}
