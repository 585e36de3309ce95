// modules.cc: bencher-init's module loading (see modules.hh).
#include "guest/modules.hh"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "common/error.hh"
#include "common/fd.hh"

namespace bencher::guest {

std::vector<std::string> parse_module_order(std::string_view text) {
	if (text.size() > kMaxOrderBytes) fail("modules order: too long");
	std::vector<std::string> out;
	while (!text.empty()) {
		size_t nl = text.find('\n');
		std::string_view name = text.substr(0, nl);
		text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
		if (name.empty()) continue;
		if (name.find('/') != std::string_view::npos || name.find('\0') != std::string_view::npos ||
		    !name.ends_with(".ko") || name.size() > 255 || name[0] == '.')
			fail("modules order: \"" + std::string(name.substr(0, 64)) + "\": not a module file name");
		if (out.size() == kMaxModulesListed) fail("modules order: too many modules");
		out.emplace_back(name);
	}
	return out;
}

size_t load_modules(const std::string& dir) {
	std::string order_path = dir + "/order";
	if (access(order_path.c_str(), F_OK) < 0) return 0;
	size_t loaded = 0;
	for (const auto& name : parse_module_order(read_file(order_path, kMaxOrderBytes))) {
		std::string path = dir + "/" + name;
		UniqueFd fd = open_file(path, O_RDONLY | O_CLOEXEC);
		if (syscall(SYS_finit_module, fd.get(), "", 0) < 0) {
			if (errno == EEXIST) continue;
			fail_errno("load module " + name.substr(0, name.size() - 3));
		}
		loaded++;
	}
	return loaded;
}

}  // namespace bencher::guest
