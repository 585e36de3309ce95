// config.cc: vmtest.toml into Targets (config.hh). Every value is checked
// where it is read, and every message carries the place in the file, so a
// refused field reads "vmtest.toml:3:1: target[0].uefi: not supported: ...".
#include "vmtest/config.hh"

#include <toml++/toml.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <map>

#include "common/error.hh"
#include "common/fd.hh"
#include "common/path.hh"
#include "common/size.hh"
#include "results/protocol.hh"

namespace bencher::vmtest {

namespace {

// Fields of vmtest's format that only make sense with QEMU or firmware: the
// reason each is refused rather than quietly dropped.
const std::map<std::string, const char*, std::less<>> kRefused = {
    {"image", "not supported: bencher-vmtest boots a kernel, not a disk image"},
    {"uefi", "not supported: bencher-vmtest boots the kernel directly, without firmware"},
    {"bios", "not supported: bencher-vmtest boots the kernel directly, without firmware"},
    {"qemu_command", "not supported: bencher-vmtest runs its own VMM, not QEMU"},
    {"kvm_cpu_args", "not supported: these are QEMU arguments"},
    {"extra_args", "not supported: these are QEMU arguments"},
};

// Reads one file's tables, naming places and fields in its errors.
class Reader {
public:
	Reader(std::string file, std::string dir) : file_(std::move(file)), dir_(std::move(dir)) {}

	[[noreturn]] void fail_at(const toml::source_region& where, const std::string& field,
				  const std::string& why) const {
		std::string at = strprintf("%s:%u:%u: ", file_.c_str(), where.begin.line, where.begin.column);
		fail(at + (field.empty() ? "" : field + ": ") + why, kExitUsage);
	}

	// Every key of `t` must be one of `known`; the QEMU-only ones say why.
	void check_keys(const toml::table& t, const std::string& prefix, std::initializer_list<std::string_view> known) const {
		for (auto&& [k, v] : t) {
			bool ok = false;
			for (std::string_view n : known) ok = ok || k.str() == n;
			if (ok) continue;
			auto r = kRefused.find(k.str());
			fail_at(k.source(), prefix + std::string(k.str()), r != kRefused.end() ? r->second : "unknown key");
		}
	}

	std::optional<std::string> str(const toml::table& t, const std::string& prefix, const char* key) const {
		const toml::node* n = t.get(key);
		if (n == nullptr) return std::nullopt;
		if (!n->is_string()) fail_at(n->source(), prefix + key, "expected a string");
		std::string s = n->as_string()->get();
		if (s.find('\0') != std::string::npos) fail_at(n->source(), prefix + key, "contains a NUL byte");
		return s;
	}

	std::string required_str(const toml::table& t, const std::string& prefix, const char* key,
				 const toml::source_region& where) const {
		auto s = str(t, prefix, key);
		if (!s) fail_at(where, prefix + key, "missing (required)");
		return *s;
	}

	std::optional<std::string> path(const toml::table& t, const std::string& prefix, const char* key) const {
		auto s = str(t, prefix, key);
		if (!s) return std::nullopt;
		if (s->empty()) fail_at(t.get(key)->source(), prefix + key, "empty path");
		return absolute_from(dir_, *s);
	}

	const toml::table* table(const toml::table& t, const std::string& prefix, const char* key) const {
		const toml::node* n = t.get(key);
		if (n == nullptr) return nullptr;
		if (!n->is_table()) fail_at(n->source(), prefix + key, "expected a table");
		return n->as_table();
	}

	Target target(const toml::table& t, const std::string& prefix) const;
	void vm(const toml::table& t, const std::string& prefix, Target& out) const;
	Mount mount(const toml::key& guest, const toml::node& n, const std::string& prefix) const;

	const std::string& dir() const { return dir_; }

private:
	std::string file_;
	std::string dir_;
};

Target Reader::target(const toml::table& t, const std::string& p) const {
	check_keys(t, p, {"name", "kernel", "kernel_args", "rootfs", "arch", "command", "vm"});
	Target out;
	out.name = required_str(t, p, "name", t.source());
	auto kernel = path(t, p, "kernel");
	if (!kernel) fail_at(t.source(), p + "kernel", "missing (required: bencher-vmtest boots a kernel)");
	out.kernel = *kernel;
	out.kernel_args = str(t, p, "kernel_args").value_or("");
	out.rootfs = path(t, p, "rootfs").value_or("/");
	if (auto arch = str(t, p, "arch"); arch && *arch != "x86_64")
		fail_at(t.get("arch")->source(), p + "arch", "'" + *arch + "': only x86_64 is supported");
	out.command = required_str(t, p, "command", t.source());
	if (const toml::table* v = table(t, p, "vm")) vm(*v, p + "vm.", out);
	return out;
}

void Reader::vm(const toml::table& t, const std::string& p, Target& out) const {
	check_keys(t, p, {"num_cpus", "memory", "mounts"});
	if (const toml::node* n = t.get("num_cpus")) {
		auto v = n->value_exact<int64_t>();
		if (!v || *v < 1 || *v > static_cast<int64_t>(kMaxCpus))
			fail_at(n->source(), p + "num_cpus", strprintf("expected an integer from 1 to %u", kMaxCpus));
		out.num_cpus = static_cast<uint32_t>(*v);
	}
	if (auto m = str(t, p, "memory")) {
		try {
			out.memory_mib = parse_memory(*m, "memory");
		} catch (const Error& e) {
			fail_at(t.get("memory")->source(), p + "memory", e.what());
		}
	}
	if (const toml::table* mounts = table(t, p, "mounts")) {
		if (mounts->size() > kMaxMounts)
			fail_at(mounts->source(), p + "mounts", strprintf("more than %zu mounts", kMaxMounts));
		for (auto&& [k, v] : *mounts) out.mounts.push_back(mount(k, v, p + "mounts."));
	}
}

Mount Reader::mount(const toml::key& guest, const toml::node& n, const std::string& p) const {
	std::string field = p + "\"" + std::string(guest.str()) + "\"";
	if (!valid_guest_path(guest.str()))
		fail_at(guest.source(), field, "not an absolute guest path (no '.' or '..', not '/')");
	if (guest.str() == "/mnt/vmtest") fail_at(guest.source(), field, "taken: the vmtest.toml directory is mounted there");
	if (!n.is_table()) fail_at(n.source(), field, "expected a table");
	const toml::table& t = *n.as_table();
	check_keys(t, field + ".", {"host_path", "writable"});
	Mount m;
	m.guest_path = std::string(guest.str());
	auto host = path(t, field + ".", "host_path");
	if (!host) fail_at(t.source(), field + ".host_path", "missing (required)");
	m.host_path = *host;
	if (const toml::node* w = t.get("writable")) {
		if (!w->is_boolean()) fail_at(w->source(), field + ".writable", "expected true or false");
		m.writable = w->as_boolean()->get();
	}
	return m;
}

std::string dir_of(const std::string& path) {
	size_t slash = path.rfind('/');
	std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
	if (dir[0] == '/') return dir;
	char* cwd = getcwd(nullptr, 0);
	if (cwd == nullptr) fail_errno("getcwd");
	std::string abs = absolute_from(cwd, dir);
	free(cwd);
	return abs;
}

}  // namespace

// The rule bencher-init applies to the run config's mount paths, so a file
// that passes here is never refused in the guest.
bool valid_guest_path(std::string_view p) { return results::valid_file_path(p); }

std::string absolute_from(const std::string& dir, const std::string& path) {
	if (!path.empty() && path[0] == '/') return path;
	std::string out = dir == "/" ? "" : dir;
	for (std::string_view c : path_components(path)) {
		if (c == "..") {
			size_t slash = out.rfind('/');
			out.erase(slash == std::string::npos ? 0 : slash);
		} else {
			out += "/";
			out += c;
		}
	}
	return out.empty() ? "/" : out;
}

uint64_t parse_memory(std::string_view text, const std::string& what) {
	uint64_t bytes = parse_size(text, what, 1u << 20);
	if (bytes % (1u << 20) != 0) fail(what + ": '" + std::string(text) + "' is not a whole number of MiB");
	uint64_t mib = bytes >> 20;
	if (mib < kMinMemoryMib || mib > kMaxMemoryMib)
		fail(strprintf("%s: '%.*s' is outside %lluM to %lluG", what.c_str(), static_cast<int>(text.size()),
			       text.data(), static_cast<unsigned long long>(kMinMemoryMib),
			       static_cast<unsigned long long>(kMaxMemoryMib >> 10)));
	return mib;
}

Config parse_config(std::string_view text, const std::string& path) {
	Reader r(path, dir_of(path));
	if (text.size() > kMaxConfigBytes) fail(path + ": larger than 1 MiB", kExitUsage);
	toml::table root;
	try {
		root = toml::parse(text, path);
	} catch (const toml::parse_error& e) {
		r.fail_at(e.source(), "", std::string(e.description()));
	}
	r.check_keys(root, "", {"target"});
	const toml::node* list = root.get("target");
	if (list == nullptr) fail(path + ": no [[target]]", kExitUsage);
	if (!list->is_array_of_tables()) r.fail_at(list->source(), "target", "expected [[target]] tables");
	Config c;
	c.dir = r.dir();
	const toml::array& a = *list->as_array();
	if (a.empty()) fail(path + ": no [[target]]", kExitUsage);
	for (size_t i = 0; i < a.size(); i++) c.targets.push_back(r.target(*a[i].as_table(), strprintf("target[%zu].", i)));
	return c;
}

Config load_config(const std::string& path) {
	UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
	if (!fd) fail_errno(path, errno, kExitUsage);
	return parse_config(read_all(fd.get(), kMaxConfigBytes + 1, path), path);
}

}  // namespace bencher::vmtest
