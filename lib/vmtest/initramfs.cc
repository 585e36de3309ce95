// initramfs.cc: the newc cpio writer (see initramfs.hh).
#include "vmtest/initramfs.hh"

#include <archive.h>
#include <archive_entry.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <map>
#include <memory>

#include "common/error.hh"
#include "common/path.hh"
#include "guest/modules.hh"
#include "vmtest/kmod.hh"

namespace bencher::vmtest {

namespace {

constexpr size_t kMaxFileBytes = 256u << 20;

struct Node {
	mode_t mode;         // type and permissions
	dev_t rdev = 0;
	std::string data;    // a regular file's contents
};

using Tree = std::map<std::string, Node>;  // archive path (no leading '/') -> node

void write_node(archive* a, const std::string& path, const Node& n, int64_t ino) {
	std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(), archive_entry_free);
	archive_entry_set_pathname(e.get(), path.c_str());
	archive_entry_set_mode(e.get(), n.mode);
	archive_entry_set_uid(e.get(), 0);
	archive_entry_set_gid(e.get(), 0);
	archive_entry_set_mtime(e.get(), 0, 0);
	archive_entry_set_ino64(e.get(), ino);
	archive_entry_set_nlink(e.get(), S_ISDIR(n.mode) ? 2 : 1);
	if (S_ISCHR(n.mode)) archive_entry_set_rdev(e.get(), n.rdev);
	archive_entry_set_size(e.get(), static_cast<la_int64_t>(n.data.size()));
	if (archive_write_header(a, e.get()) != ARCHIVE_OK) fail("initramfs: " + path + ": " + archive_error_string(a));
	if (S_ISREG(n.mode) && !n.data.empty() &&
	    archive_write_data(a, n.data.data(), n.data.size()) != static_cast<la_ssize_t>(n.data.size()))
		fail("initramfs: " + path + ": " + archive_error_string(a));
}

// A file at an absolute guest path, its parents made as directories.
void add_file(Tree& t, const std::string& guest, const std::string& host) {
	std::vector<std::string_view> parts = path_components(guest);
	if (guest.empty() || guest[0] != '/' || parts.empty()) fail("initramfs: " + guest + ": not an absolute file path");
	std::string path;
	for (size_t i = 0; i < parts.size(); i++) {
		if (parts[i] == "..") fail("initramfs: " + guest + ": has a '..' component");
		path += (path.empty() ? "" : "/") + std::string(parts[i]);
		auto it = t.find(path);
		if (i + 1 < parts.size()) {
			if (it == t.end()) t[path] = {S_IFDIR | 0755, 0, {}};
			else if (!S_ISDIR(it->second.mode)) fail("initramfs: " + guest + ": " + path + " is a file");
		} else if (it != t.end()) {
			fail("initramfs: " + guest + ": given twice");
		}
	}
	struct stat st {};
	if (stat(host.c_str(), &st) < 0) fail_errno("initramfs: " + host);
	t[path] = {S_IFREG | (st.st_mode & 0755), 0, read_regular(host, kMaxFileBytes)};
}

Tree tree_of(const InitramfsSpec& spec) {
	Tree t;
	std::string mods = std::string(guest::kModulesDir).substr(1);
	for (const char* d : {"bencher", "dev", "proc", "sys", "run", "tmp"}) t[d] = {S_IFDIR | 0755, 0, {}};
	t["tmp"].mode = S_IFDIR | 01777;
	// The kernel opens /dev/console for init's stdio before devtmpfs exists.
	t["dev/console"] = {S_IFCHR | 0600, makedev(5, 1), {}};
	t["init"] = {S_IFREG | 0755, 0, read_regular(spec.init, kMaxFileBytes)};
	for (const auto& [guest, host] : spec.files) add_file(t, guest, host);
	if (spec.modules.empty()) return t;
	if (t.count(mods)) fail("initramfs: " + std::string(guest::kModulesDir) + ": taken by a file");
	t[mods] = {S_IFDIR | 0755, 0, {}};
	std::string order;
	for (const auto& path : spec.modules) {
		std::string name = module_name(path) + ".ko";
		if (t.count(mods + "/" + name)) fail("initramfs: module " + name + " given twice");
		t[mods + "/" + name] = {S_IFREG | 0644, 0, read_module(path)};
		order += name + "\n";
	}
	t[std::string(guest::kModulesOrder).substr(1)] = {S_IFREG | 0644, 0, order};
	return t;
}

}  // namespace

UniqueFd build_initramfs(const InitramfsSpec& spec) {
	Tree t = tree_of(spec);
	UniqueFd fd(memfd_create("initramfs", MFD_CLOEXEC));
	if (!fd) fail_errno("initramfs: memfd_create");
	std::unique_ptr<archive, int (*)(archive*)> a(archive_write_new(), archive_write_free);
	if (!a) fail("initramfs: out of memory");
	if (archive_write_set_format_cpio_newc(a.get()) != ARCHIVE_OK ||
	    archive_write_add_filter_none(a.get()) != ARCHIVE_OK ||
	    archive_write_open_fd(a.get(), fd.get()) != ARCHIVE_OK)
		fail(std::string("initramfs: ") + archive_error_string(a.get()));
	int64_t ino = 1;
	for (const auto& [path, node] : t) write_node(a.get(), path, node, ino++);
	if (archive_write_close(a.get()) != ARCHIVE_OK) fail(std::string("initramfs: ") + archive_error_string(a.get()));
	if (lseek(fd.get(), 0, SEEK_SET) < 0) fail_errno("initramfs: lseek");
	return fd;
}

}  // namespace bencher::vmtest
