// user.hh: resolves an image's `User` ("name", "uid", "name:group",
// "uid:gid") against the image's own /etc/passwd and /etc/group, the way
// bencher-init does inside the guest: no NSS (init is static), bounded
// files, numeric ids accepted without an entry.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

namespace bencher::results {

struct ResolvedUser {
	uid_t uid = 0;
	gid_t gid = 0;
	std::vector<gid_t> groups;  // supplementary, primary gid included
	std::string home;           // from passwd, "" when unknown
};

constexpr size_t kMaxIdFileBytes = 4u << 20;  // passwd/group files
constexpr size_t kMaxGroups = 64;

// `passwd` and `group` are the files' contents (empty when missing).
// Throws "user NAME: ..." when a name is not found or an id is malformed.
ResolvedUser resolve_user(std::string_view spec, std::string_view passwd, std::string_view group);

}  // namespace bencher::results
