// explain.hh: the fixes for the common refusals, appended to error messages
// so a user learns what to change (AppArmor's userns restriction, disabled
// user namespaces, /dev/kvm permissions). Pure functions over the sysctl
// values, so unit tests cover every case without changing the host.
#pragma once

#include <optional>
#include <string>

namespace bencher::jail {

struct UsernsSysctls {
	std::optional<std::string> apparmor_restrict;  // kernel.apparmor_restrict_unprivileged_userns
	std::optional<std::string> unprivileged_clone; // kernel.unprivileged_userns_clone (Debian)
	std::optional<std::string> max_user_namespaces;  // user.max_user_namespaces
	bool chrooted = false;  // the kernel refuses CLONE_NEWUSER inside a chroot
};
UsernsSysctls read_userns_sysctls();

// " (why and how to fix)" or "" when nothing is known to be in the way.
std::string userns_hint(const UsernsSysctls& s, bool root);
std::string userns_hint();

// For an open(2) of PATH that failed with err: " (hint)" or "".
std::string open_hint(const std::string& path, int err, bool root);

}  // namespace bencher::jail
