// Unit tests for lib/vmtest/initramfs and bencher-init's side of it
// (guest/modules): the archive read back with libarchive, byte-identical
// when built twice, compressed modules stored plain, and the order file a
// hostile builder could write.
#include "vmtest/initramfs.hh"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "common/error.hh"
#include "guest/modules.hh"
#include "kernels.hh"
#include "vmtest/kmod.hh"

using namespace bencher;
using namespace bencher::vmtest;

namespace {

struct Entry {
	mode_t mode;
	dev_t rdev;
	int64_t mtime;
	std::string data;
};

std::string contents(int fd) {
	struct stat st {};
	EXPECT_EQ(fstat(fd, &st), 0);
	std::string s(static_cast<size_t>(st.st_size), '\0');
	EXPECT_EQ(pread(fd, s.data(), s.size(), 0), static_cast<ssize_t>(s.size()));
	return s;
}

std::map<std::string, Entry> read_cpio(const std::string& bytes) {
	std::unique_ptr<archive, int (*)(archive*)> a(archive_read_new(), archive_read_free);
	archive_read_support_format_cpio(a.get());
	EXPECT_EQ(archive_read_open_memory(a.get(), bytes.data(), bytes.size()), ARCHIVE_OK);
	std::map<std::string, Entry> out;
	archive_entry* e;
	while (archive_read_next_header(a.get(), &e) == ARCHIVE_OK) {
		EXPECT_EQ(archive_format(a.get()), ARCHIVE_FORMAT_CPIO_SVR4_NOCRC) << "newc";
		Entry x{archive_entry_mode(e), archive_entry_rdev(e), archive_entry_mtime(e), {}};
		x.data.resize(static_cast<size_t>(archive_entry_size(e)));
		if (!x.data.empty()) archive_read_data(a.get(), x.data.data(), x.data.size());
		EXPECT_EQ(archive_entry_uid(e), 0);
		out[archive_entry_pathname(e)] = x;
	}
	return out;
}

void write(const std::string& path, const std::string& data) {
	UniqueFd fd = open_file(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	write_all(fd.get(), data, path);
}

}  // namespace

TEST(Initramfs, InitAlone) {
	TempDir d("initramfs-test");
	write(d.path() + "/init", "#!init\n");
	UniqueFd fd = build_initramfs({d.path() + "/init", {}, {}});
	auto t = read_cpio(contents(fd.get()));
	ASSERT_TRUE(t.count("init"));
	EXPECT_EQ(t["init"].data, "#!init\n");
	EXPECT_EQ(t["init"].mode, S_IFREG | 0755u);
	EXPECT_EQ(t["dev/console"].mode, S_IFCHR | 0600u);
	EXPECT_EQ(t["dev/console"].rdev, makedev(5, 1));
	EXPECT_EQ(t["tmp"].mode, S_IFDIR | 01777u);
	EXPECT_FALSE(t.count("bencher/modules/order"));
	for (const auto& [p, e] : t) EXPECT_EQ(e.mtime, 0) << p;
	EXPECT_EQ(lseek(fd.get(), 0, SEEK_CUR), 0);
}

TEST(Initramfs, ModulesPlainInOrderAndDeterministic) {
	TempDir d("initramfs-test");
	write(d.path() + "/init", "init");
	write(d.path() + "/virtio_ring.ko", "RING");
	write(d.path() + "/vmw-vsock.ko", "VSOCK");
	write(d.path() + "/fuse.ko", "FUSE");
	ASSERT_EQ(system(("xz -c " + d.path() + "/fuse.ko >" + d.path() + "/fuse.ko.xz").c_str()), 0);
	ASSERT_EQ(system(("zstd -qc " + d.path() + "/vmw-vsock.ko >" + d.path() + "/vmw-vsock.ko.zst").c_str()), 0);
	InitramfsSpec s{d.path() + "/init", {d.path() + "/virtio_ring.ko", d.path() + "/vmw-vsock.ko.zst", d.path() + "/fuse.ko.xz"}, {}};
	UniqueFd a = build_initramfs(s), b = build_initramfs(s);
	std::string bytes = contents(a.get());
	EXPECT_EQ(bytes, contents(b.get()));
	auto t = read_cpio(bytes);
	EXPECT_EQ(t["bencher/modules/order"].data, "virtio_ring.ko\nvmw_vsock.ko\nfuse.ko\n");
	EXPECT_EQ(t["bencher/modules/fuse.ko"].data, "FUSE");
	EXPECT_EQ(t["bencher/modules/vmw_vsock.ko"].data, "VSOCK");
	EXPECT_EQ(guest::parse_module_order(t["bencher/modules/order"].data),
	          (std::vector<std::string>{"virtio_ring.ko", "vmw_vsock.ko", "fuse.ko"}));
}

TEST(Initramfs, MoreFiles) {
	TempDir d("initramfs-test");
	write(d.path() + "/init", "init");
	write(d.path() + "/bb", "BUSYBOX");
	chmod((d.path() + "/bb").c_str(), 0755);
	auto t = read_cpio(contents(build_initramfs({d.path() + "/init", {}, {{"/bin/busybox", d.path() + "/bb"},
	                                                                      {"/bencher/run.cfg", d.path() + "/init"}}}).get()));
	EXPECT_EQ(t["bin"].mode, S_IFDIR | 0755u);
	EXPECT_EQ(t["bin/busybox"].mode, S_IFREG | 0755u);
	EXPECT_EQ(t["bin/busybox"].data, "BUSYBOX");
	EXPECT_EQ(t["bencher/run.cfg"].mode, S_IFREG | 0644u);
	auto refuse = [&](const std::string& guest, const std::string& needle) {
		try {
			build_initramfs({d.path() + "/init", {}, {{"/bin/sh", d.path() + "/bb"}, {guest, d.path() + "/bb"}}});
			ADD_FAILURE() << guest;
		} catch (const Error& e) {
			EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
		}
	};
	refuse("bin/x", "not an absolute");
	refuse("/", "not an absolute");
	refuse("/a/../../x", "'..'");
	refuse("/init", "given twice");
	refuse("/bin/sh", "given twice");
	refuse("/bin/sh/x", "is a file");
	EXPECT_THROW(build_initramfs({d.path() + "/init", {d.path() + "/bb.ko"}, {{"/bencher/modules", d.path() + "/bb"}}}), Error);
}

TEST(Initramfs, Refusals) {
	TempDir d("initramfs-test");
	write(d.path() + "/init", "init");
	write(d.path() + "/x.so", "x");
	write(d.path() + "/bad.ko.xz", "not xz at all");
	EXPECT_THROW(build_initramfs({d.path() + "/missing", {}, {}}), Error);
	EXPECT_THROW(build_initramfs({"/dev/null", {}, {}}), Error);
	EXPECT_THROW(build_initramfs({d.path() + "/init", {d.path() + "/x.so"}, {}}), Error);
	EXPECT_THROW(build_initramfs({d.path() + "/init", {d.path() + "/bad.ko.xz"}, {}}), Error);
	write(d.path() + "/a.ko", "a");
	EXPECT_THROW(build_initramfs({d.path() + "/init", {d.path() + "/a.ko", d.path() + "/a.ko"}, {}}), Error);
}

TEST(Initramfs, DebianModules) {
	auto k = vmtest_test::debian_kernel();
	if (!k) GTEST_SKIP() << "no Debian kernel in the test host's cache";
	auto dir = find_modules_dir(k->first, k->second);
	ASSERT_TRUE(dir);
	ModulePlan p = modules_needed(k->second, *dir);
	TempDir d("initramfs-test");
	write(d.path() + "/init", "init");
	auto t = read_cpio(contents(build_initramfs({d.path() + "/init", p.load, {}}).get()));
	std::vector<std::string> order = guest::parse_module_order(t["bencher/modules/order"].data);
	ASSERT_EQ(order.size(), p.load.size());
	for (const auto& name : order) {
		EXPECT_TRUE(t.count("bencher/modules/" + name)) << name;
		EXPECT_EQ(t["bencher/modules/" + name].data.substr(0, 4), "\x7f" "ELF") << name;
	}
}

TEST(ModuleOrder, Hostile) {
	EXPECT_EQ(guest::parse_module_order("a.ko\n\nb.ko"), (std::vector<std::string>{"a.ko", "b.ko"}));
	EXPECT_THROW(guest::parse_module_order("../x.ko\n"), Error);
	EXPECT_THROW(guest::parse_module_order("/x.ko\n"), Error);
	EXPECT_THROW(guest::parse_module_order(".ko\n"), Error);
	EXPECT_THROW(guest::parse_module_order("x.so\n"), Error);
	EXPECT_THROW(guest::parse_module_order(std::string("a\0.ko\n", 6)), Error);
	std::string many;
	for (int i = 0; i < 257; i++) many += "m" + std::to_string(i) + ".ko\n";
	EXPECT_THROW(guest::parse_module_order(many), Error);
	EXPECT_THROW(guest::parse_module_order(std::string(65 << 10, '\n')), Error);
	// No order file: nothing to load, and no error.
	bencher::TempDir d("modules-test");
	EXPECT_EQ(guest::load_modules(d.path()), 0u);
}

TEST(ModuleParams, FromTheKernelCommandLine) {
	std::string cmd = "console=ttyS0 virtio_mmio.device=4K@0xd0000000:5 virtio-mmio.device=4K@0xd0001000:6 "
	                  "vsock.x=1 virtio_mmio.=bad .device=x a=virtio_mmio.device=no virtio_mmio.q=\"a b\" "
	                  "-- virtio_mmio.device=init-arg\n";
	EXPECT_EQ(guest::module_params(cmd, "virtio_mmio"), "device=4K@0xd0000000:5 device=4K@0xd0001000:6 q=\"a b\"");
	EXPECT_EQ(guest::module_params(cmd, "virtio-mmio"), guest::module_params(cmd, "virtio_mmio"));
	EXPECT_EQ(guest::module_params(cmd, "vsock"), "x=1");
	EXPECT_EQ(guest::module_params(cmd, "fuse"), "");
	EXPECT_EQ(guest::module_params("", "fuse"), "");
	EXPECT_EQ(guest::module_params("fuse.x=\"unterminated", "fuse"), "x=\"unterminated");
	EXPECT_EQ(guest::module_params(std::string(1000, ' ') + "fuse.", "fuse"), "");
}
