// Unit tests for lib/rootfs/path: entry names from untrusted tar headers.
#include "rootfs/path.hh"

#include <gtest/gtest.h>

#include "common/error.hh"

using namespace bencher;
using bencher::rootfs::split_path;

TEST(SplitPath, TarSpellings) {
	using V = std::vector<std::string>;
	EXPECT_EQ(split_path("./usr//bin/"), (V{"usr", "bin"}));
	EXPECT_EQ(split_path("usr/./bin/sh"), (V{"usr", "bin", "sh"}));
	EXPECT_EQ(split_path("."), V{});
	EXPECT_EQ(split_path("./"), V{});
	EXPECT_EQ(split_path("..."), V{"..."});
	EXPECT_EQ(split_path("a..b/..c"), (V{"a..b", "..c"}));
}

TEST(SplitPath, RefusesEscapes) {
	for (const char* bad : {"/etc/passwd", "/", "..", "../x", "a/../../b", "a/..", "./../x", "a/b/../c", ""}) {
		EXPECT_THROW(split_path(bad), Error) << bad;
	}
	try {
		split_path("x/../../etc/shadow");
		FAIL();
	} catch (const Error& e) {
		EXPECT_NE(std::string(e.what()).find("x/../../etc/shadow: name with \"..\" refused"), std::string::npos);
	}
}

TEST(SplitPath, RefusesOverlongNames) {
	EXPECT_NO_THROW(split_path(std::string(255, 'a')));
	EXPECT_THROW(split_path(std::string(256, 'a')), Error);
	std::string deep;
	for (int i = 0; i < 3000; i++) deep += "a/";
	EXPECT_THROW(split_path(deep), Error);
}
