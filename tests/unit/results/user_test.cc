// Unit tests for lib/results/user: the image's User resolved without NSS.
#include "results/user.hh"

#include <gtest/gtest.h>

#include "common/error.hh"

using namespace bencher;
using namespace bencher::results;

namespace {
const char kPasswd[] =
    "root:x:0:0:root:/root:/bin/sh\n"
    "# comment\n"
    "broken line\n"
    "bench:x:1000:1001:Bench:/home/bench:/bin/sh\r\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
    "bad:x:notanumber:1:::\n";
const char kGroup[] =
    "root:x:0:\n"
    "bench:x:1001:\n"
    "audio:x:29:bench,other\n"
    "video:x:44:other\n"
    "wheel:x:10:bench\n";
}  // namespace

TEST(User, ByName) {
	ResolvedUser u = resolve_user("bench", kPasswd, kGroup);
	EXPECT_EQ(u.uid, 1000u);
	EXPECT_EQ(u.gid, 1001u);
	EXPECT_EQ(u.home, "/home/bench");
	EXPECT_EQ(u.groups, (std::vector<gid_t>{1001, 29, 10}));
}

TEST(User, NumericAndWithGroup) {
	ResolvedUser u = resolve_user("1000", kPasswd, kGroup);
	EXPECT_EQ(u.uid, 1000u);
	EXPECT_EQ(u.gid, 1001u);
	u = resolve_user("4242", kPasswd, kGroup);  // no entry: gid 0
	EXPECT_EQ(u.uid, 4242u);
	EXPECT_EQ(u.gid, 0u);
	EXPECT_EQ(u.home, "");
	u = resolve_user("bench:video", kPasswd, kGroup);
	EXPECT_EQ(u.gid, 44u);
	EXPECT_EQ(u.groups, (std::vector<gid_t>{44}));
	u = resolve_user("5:7", "", "");
	EXPECT_EQ(u.uid, 5u);
	EXPECT_EQ(u.gid, 7u);
	u = resolve_user("", kPasswd, kGroup);
	EXPECT_EQ(u.uid, 0u);
	EXPECT_EQ(u.home, "/root");
}

TEST(User, Errors) {
	EXPECT_THROW(resolve_user("ghost", kPasswd, kGroup), Error);
	EXPECT_THROW(resolve_user("bench:ghosts", kPasswd, kGroup), Error);
	EXPECT_THROW(resolve_user("bad", kPasswd, kGroup), Error);  // its uid is garbage
	EXPECT_THROW(resolve_user(":1", kPasswd, kGroup), Error);
	EXPECT_THROW(resolve_user("1:", kPasswd, kGroup), Error);
	EXPECT_THROW(resolve_user("99999999999", kPasswd, kGroup), Error);  // not an id, not a name
	EXPECT_THROW(resolve_user("root", std::string(kMaxIdFileBytes + 1, 'x'), ""), Error);
}

TEST(User, ManyGroupsAreBounded) {
	std::string group;
	for (int i = 0; i < 500; i++) group += "g" + std::to_string(i) + ":x:" + std::to_string(2000 + i) + ":bench\n";
	ResolvedUser u = resolve_user("bench", kPasswd, group);
	EXPECT_LE(u.groups.size(), kMaxGroups);
}
