// modules.cc: bencher-init's module loading (see modules.hh).
#include "guest/modules.hh"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cctype>
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

namespace {

bool same_module(std::string_view a, std::string_view b) {
	if (a.size() != b.size()) return false;
	for (size_t i = 0; i < a.size(); i++) {
		char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];
		if (x != y) return false;
	}
	return true;
}

}  // namespace

std::string module_params(std::string_view cmdline, std::string_view name) {
	std::string out;
	size_t i = 0;
	while (i < cmdline.size()) {
		while (i < cmdline.size() && isspace(static_cast<unsigned char>(cmdline[i]))) i++;
		size_t start = i;
		bool quoted = false;
		while (i < cmdline.size() && (quoted || !isspace(static_cast<unsigned char>(cmdline[i])))) {
			if (cmdline[i] == '"') quoted = !quoted;
			i++;
		}
		std::string_view word = cmdline.substr(start, i - start);
		if (word == "--") break;  // the rest is init's
		size_t dot = word.find('.'), eq = word.find('=');
		if (dot == std::string_view::npos || dot == 0 || (eq != std::string_view::npos && eq < dot)) continue;
		if (!same_module(word.substr(0, dot), name) || dot + 1 == word.size() || word[dot + 1] == '=') continue;
		out += (out.empty() ? "" : " ") + std::string(word.substr(dot + 1));
	}
	return out;
}

size_t load_modules(const std::string& dir, const std::string& cmdline_file) {
	std::string order_path = dir + "/order";
	if (access(order_path.c_str(), F_OK) < 0) return 0;
	std::string cmdline;
	if (access(cmdline_file.c_str(), F_OK) == 0) cmdline = read_file(cmdline_file, 64u << 10);
	size_t loaded = 0;
	for (const auto& name : parse_module_order(read_file(order_path, kMaxOrderBytes))) {
		std::string path = dir + "/" + name;
		UniqueFd fd = open_file(path, O_RDONLY | O_CLOEXEC);
		std::string params = module_params(cmdline, name.substr(0, name.size() - 3));
		if (syscall(SYS_finit_module, fd.get(), params.c_str(), 0) < 0) {
			if (errno == EEXIST) continue;
			fail_errno("load module " + name.substr(0, name.size() - 3));
		}
		loaded++;
	}
	return loaded;
}

}  // namespace bencher::guest
