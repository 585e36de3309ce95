// Unit tests for lib/common/digest against published test vectors.
#include "common/digest.hh"

#include <gtest/gtest.h>

using namespace bencher;

TEST(Sha256, KnownVectors) {
	EXPECT_EQ(Sha256::hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	EXPECT_EQ(Sha256::hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	Sha256 h;  // incremental equals one-shot
	h.update("a");
	h.update("bc");
	EXPECT_EQ(to_hex(h.finish()), Sha256::hex("abc"));
}

TEST(HmacSha256, Rfc4231Case2) {
	HmacSha256 h("Jefe");
	h.update("what do ya want ");
	h.update("for nothing?");
	EXPECT_EQ(to_hex(h.finish()), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Digest, ConstantTimeCompareAndRandom) {
	EXPECT_TRUE(equal_ct("abc", "abc"));
	EXPECT_FALSE(equal_ct("abc", "abd"));
	EXPECT_FALSE(equal_ct("abc", "ab"));
	uint8_t a[32] = {}, b[32] = {};
	random_bytes(a, sizeof a);
	random_bytes(b, sizeof b);
	EXPECT_NE(to_hex(a, 32), to_hex(b, 32));
}
