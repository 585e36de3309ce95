// Unit tests for lib/common/size: good sizes, and every way a size is bad.
#include "common/size.hh"

#include <gtest/gtest.h>

#include "common/error.hh"

using bencher::Error;
using bencher::format_size;
using bencher::parse_size;
using bencher::parse_uint;

TEST(ParseSize, PlainAndUnits) {
	EXPECT_EQ(parse_size("0", "x"), 0u);
	EXPECT_EQ(parse_size("4096", "x"), 4096u);
	EXPECT_EQ(parse_size("512K", "x"), 512u << 10);
	EXPECT_EQ(parse_size("512M", "x"), 512u << 20);
	EXPECT_EQ(parse_size("512m", "x"), 512u << 20);
	EXPECT_EQ(parse_size("1G", "x"), uint64_t{1} << 30);
	EXPECT_EQ(parse_size("2T", "x"), uint64_t{2} << 40);
	EXPECT_EQ(parse_size("64MiB", "x"), 64u << 20);
	EXPECT_EQ(parse_size("64MB", "x"), 64u << 20);
	EXPECT_EQ(parse_size("10B", "x"), 10u);
}

TEST(ParseSize, Fractions) {
	EXPECT_EQ(parse_size("1.5G", "x"), (uint64_t{3} << 30) / 2);
	EXPECT_EQ(parse_size("0.5K", "x"), 512u);
	EXPECT_EQ(parse_size("1.0000000001K", "x"), 1024u);  // digits past 9 ignored
	EXPECT_EQ(parse_size("0.1K", "x"), 102u);            // rounds down
}

TEST(ParseSize, DefaultUnit) { EXPECT_EQ(parse_size("512", "--memory", 1 << 20), 512u << 20); }

TEST(ParseSize, Hostile) {
	for (const char* bad : {"", "-1", "M", "1X", "1MM", "1 M", " 1M", "1M ", "1.M", ".5", "1.5.5G", "0x10",
				"18446744073709551616", "16E", "99999999999999999999K", "1Gb2", "1BB", "abc"}) {
		EXPECT_THROW(parse_size(bad, "--size"), Error) << "input: '" << bad << "'";
	}
}

TEST(ParseSize, MessageNamesOptionAndInput) {
	try {
		parse_size("12Q", "--memory");
		FAIL();
	} catch (const Error& e) {
		EXPECT_STREQ(e.what(), "--memory: '12Q': unknown unit (use K, M, G or T)");
	}
}

TEST(ParseSize, LargestValues) {
	EXPECT_EQ(parse_size("15E", "x"), uint64_t{15} << 60);
	EXPECT_EQ(parse_size("18446744073709551615", "x"), UINT64_MAX);
}

TEST(FormatSize, Shortest) {
	EXPECT_EQ(format_size(0), "0");
	EXPECT_EQ(format_size(1000), "1000");
	EXPECT_EQ(format_size(1024), "1K");
	EXPECT_EQ(format_size(512u << 20), "512M");
	EXPECT_EQ(format_size(uint64_t{3} << 29), "1536M");
	for (uint64_t v : {uint64_t{1}, uint64_t{4096}, uint64_t{1} << 30, uint64_t{12345678}})
		EXPECT_EQ(parse_size(format_size(v), "x"), v);
}

TEST(ParseUint, RangeAndGarbage) {
	EXPECT_EQ(parse_uint("7", "--vcpus", 1, 32), 7u);
	EXPECT_EQ(parse_uint("32", "--vcpus", 1, 32), 32u);
	EXPECT_THROW(parse_uint("0", "--vcpus", 1, 32), Error);
	EXPECT_THROW(parse_uint("33", "--vcpus", 1, 32), Error);
	EXPECT_THROW(parse_uint("", "x"), Error);
	EXPECT_THROW(parse_uint("-1", "x"), Error);
	EXPECT_THROW(parse_uint("1e3", "x"), Error);
	EXPECT_THROW(parse_uint("99999999999999999999", "x"), Error);
}
