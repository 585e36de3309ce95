// user.cc: passwd/group parsing for bencher-init (see user.hh).
#include "results/user.hh"

#include <algorithm>
#include <charconv>

#include "common/error.hh"

namespace bencher::results {

namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
	std::vector<std::string_view> out;
	for (;;) {
		size_t i = s.find(sep);
		out.push_back(s.substr(0, i));
		if (i == std::string_view::npos) return out;
		s.remove_prefix(i + 1);
	}
}

bool parse_id(std::string_view s, uint32_t& out) {
	if (s.empty() || s.size() > 10) return false;
	uint64_t v = 0;
	auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
	if (ec != std::errc() || p != s.data() + s.size() || v >= 0xffffffffu) return false;
	out = static_cast<uint32_t>(v);
	return true;
}

// Calls fn(fields) for each well-formed line with at least `min_fields`.
template <typename F>
void each_entry(std::string_view file, size_t min_fields, F fn) {
	for (std::string_view line : split(file, '\n')) {
		if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
		if (line.empty() || line[0] == '#') continue;
		auto f = split(line, ':');
		if (f.size() < min_fields) continue;
		if (fn(f)) return;
	}
}

}  // namespace

ResolvedUser resolve_user(std::string_view spec, std::string_view passwd, std::string_view group) {
	if (passwd.size() > kMaxIdFileBytes || group.size() > kMaxIdFileBytes) fail("user: passwd or group file too large");
	ResolvedUser u;
	if (spec.empty()) spec = "0";
	size_t colon = spec.find(':');
	std::string_view user = spec.substr(0, colon);
	std::string_view grp = colon == std::string_view::npos ? std::string_view() : spec.substr(colon + 1);
	if (user.empty() || (colon != std::string_view::npos && grp.empty()))
		fail(strprintf("user \"%.*s\": malformed", static_cast<int>(spec.size()), spec.data()));

	std::string name;
	bool found = false;
	uint32_t id = 0;
	bool numeric = parse_id(user, id);
	each_entry(passwd, 7, [&](const std::vector<std::string_view>& f) {
		uint32_t uid, gid;
		if (!parse_id(f[2], uid) || !parse_id(f[3], gid)) return false;
		if (numeric ? uid != id : f[0] != user) return false;
		u.uid = uid;
		u.gid = gid;
		u.home = f[5];
		name = f[0];
		found = true;
		return true;
	});
	if (!found) {
		if (!numeric)
			fail(strprintf("user \"%.*s\": no such user in the image's /etc/passwd", static_cast<int>(user.size()), user.data()));
		u.uid = id;
		u.gid = 0;  // as container runtimes do for a uid without an entry
	}
	if (!grp.empty()) {
		uint32_t gid = 0;
		if (parse_id(grp, gid)) {
			u.gid = gid;
		} else {
			bool gfound = false;
			each_entry(group, 3, [&](const std::vector<std::string_view>& f) {
				uint32_t g;
				if (f[0] != grp || !parse_id(f[2], g)) return false;
				u.gid = g;
				gfound = true;
				return true;
			});
			if (!gfound)
				fail(strprintf("user \"%.*s\": no such group in the image's /etc/group", static_cast<int>(spec.size()), spec.data()));
		}
	}
	u.groups.push_back(u.gid);
	// Supplementary groups only come with a named user and no explicit group,
	// as initgroups() would give them.
	if (!name.empty() && grp.empty()) {
		each_entry(group, 4, [&](const std::vector<std::string_view>& f) {
			uint32_t g;
			if (!parse_id(f[2], g)) return false;
			for (std::string_view member : split(f[3], ','))
				if (member == name && std::find(u.groups.begin(), u.groups.end(), g) == u.groups.end()) {
					u.groups.push_back(g);
					break;
				}
			return u.groups.size() >= kMaxGroups;
		});
	}
	return u;
}

}  // namespace bencher::results
