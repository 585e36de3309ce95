// explain.cc: hints for refusals; see explain.hh.
#include "jail/explain.hh"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/fd.hh"

namespace bencher::jail {

namespace {

std::optional<std::string> sysctl(const char* path) {
	UniqueFd fd(open(path, O_RDONLY | O_CLOEXEC));
	if (!fd) return std::nullopt;
	char buf[64];
	ssize_t n = read(fd.get(), buf, sizeof buf - 1);
	if (n < 0) return std::nullopt;
	std::string s(buf, static_cast<size_t>(n));
	while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
	return s;
}

}  // namespace

UsernsSysctls read_userns_sysctls() {
	UsernsSysctls s{sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"),
			sysctl("/proc/sys/kernel/unprivileged_userns_clone"),
			sysctl("/proc/sys/user/max_user_namespaces")};
	// A chroot shows as a root other than PID 1's (visible to root only).
	struct stat self_root, init_root;
	if (stat("/", &self_root) == 0 && stat("/proc/1/root/", &init_root) == 0)
		s.chrooted = self_root.st_dev != init_root.st_dev || self_root.st_ino != init_root.st_ino;
	return s;
}

std::string userns_hint(const UsernsSysctls& s, bool root) {
	if (s.max_user_namespaces && *s.max_user_namespaces == "0")
		return " (user namespaces are disabled: user.max_user_namespaces is 0; raise it with `sysctl -w "
		       "user.max_user_namespaces=15000`)";
	if (s.chrooted)
		return " (this process runs inside a chroot, where the kernel refuses new user namespaces: start it "
		       "from a real root (pivot_root or switch_root instead of chroot), or as root with --share user)";
	if (root) return "";
	if (s.unprivileged_clone && *s.unprivileged_clone == "0")
		return " (unprivileged user namespaces are disabled: run `sysctl -w kernel.unprivileged_userns_clone=1`, "
		       "or run the jailer as root)";
	if (s.apparmor_restrict && *s.apparmor_restrict == "1")
		return " (AppArmor restricts unprivileged user namespaces: kernel.apparmor_restrict_unprivileged_userns is "
		       "1; give bencher-jailer an AppArmor profile with the `userns,` rule, or run `sysctl -w "
		       "kernel.apparmor_restrict_unprivileged_userns=0`, or run the jailer as root)";
	return "";
}

std::string userns_hint() { return userns_hint(read_userns_sysctls(), geteuid() == 0); }

std::string open_hint(const std::string& path, int err, bool root) {
	if (path == "/dev/kvm") {
		if (err == ENOENT)
			return " (no KVM here: load kvm_intel or kvm_amd, or enable nested virtualisation for this VM)";
		if ((err == EACCES || err == EPERM) && !root)
			return " (add this user to the group owning /dev/kvm, usually `kvm`: `sudo usermod -aG kvm $USER`, "
			       "then log in again)";
	}
	return "";
}

}  // namespace bencher::jail
