// Unit tests for lib/vmtest/kmod: the release of real kernels (ours and
// Debian's) and of hostile images, modules.dep closures real and hostile,
// and what check_kernel says of our kernel and of Debian's.
#include "vmtest/kmod.hh"

#include <fcntl.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <regex>

#include "common/error.hh"
#include "common/fd.hh"
#include "../common/error_of.hh"
#include "kernels.hh"

using namespace bencher;
using namespace bencher::vmtest;
using namespace vmtest_test;

namespace {

void expect_error(const std::function<void()>& f, const std::string& needle) {
	std::string e = test::error_of(f);
	EXPECT_NE(e.find(needle), std::string::npos) << e;
}

// A bzImage header only: "HdrS" and kernel_version pointing at `version`.
std::string fake_bzimage(const std::string& version, uint16_t ptr = 0x300) {
	std::string img(0x800, '\0');
	img.replace(0x202, 4, "HdrS");
	img[0x20e] = static_cast<char>(ptr & 0xff);
	img[0x20f] = static_cast<char>(ptr >> 8);
	if (ptr != 0 && ptr + 0x200u < img.size()) img.replace(ptr + 0x200, version.size(), version);
	return img;
}

size_t index_of(const std::vector<std::string>& v, const std::string& suffix) {
	for (size_t i = 0; i < v.size(); i++)
		if (v[i].ends_with(suffix)) return i;
	return SIZE_MAX;
}

}  // namespace

TEST(KernelRelease, FakeImages) {
	EXPECT_EQ(kernel_release_of(fake_bzimage("6.1.0-56-amd64 (debian-kernel@lists.debian.org) #1")), "6.1.0-56-amd64");
	std::string elf = std::string("\x7f" "ELF", 4) + std::string(100, '\0') + "Linux version %s" +
	                  std::string(8, '\0') + "Linux version 6.1.158+ (root@x) (gcc) #1 SMP\n";
	EXPECT_EQ(kernel_release_of(elf), "6.1.158+");
}

TEST(KernelRelease, Hostile) {
	expect_error([] { kernel_release_of(""); }, "neither a bzImage nor an ELF");
	expect_error([] { kernel_release_of(fake_bzimage("6.1").substr(0, 0x240)); }, "neither");
	expect_error([] { kernel_release_of(fake_bzimage("6.1", 0)); }, "without a kernel_version");
	expect_error([] { kernel_release_of(fake_bzimage("6.1", 0xff00)); }, "outside the image");
	expect_error([] { kernel_release_of(fake_bzimage("", 0x5ff)); }, "no release string");  // the last byte
	expect_error([] { kernel_release_of(fake_bzimage("vX")); }, "no release string");
	expect_error([] { kernel_release_of(fake_bzimage(std::string(200, '6'))); }, "no release string");
	expect_error([] { kernel_release_of(std::string("\x7f" "ELF", 4) + "Linux version \n"); }, "no \"Linux version\"");
	expect_error([] { kernel_release_of(std::string("\x7f" "ELF", 4)); }, "no \"Linux version\"");
}

TEST(KernelRelease, OurKernel) {
	auto bz = our_kernel("bzImage"), vm = our_kernel("vmlinux");
	if (!bz || !vm) GTEST_SKIP() << "no guest kernel built in kernel/";
	std::string r = kernel_release(*bz);
	EXPECT_TRUE(std::regex_match(r, std::regex("6\\.1\\.[0-9]+.*"))) << r;
	EXPECT_EQ(kernel_release(*vm), r);
}

TEST(KernelRelease, DebianKernel) {
	auto k = debian_kernel();
	if (!k) GTEST_SKIP() << "no Debian kernel in the test host's cache (tests/vmhost/fetch-kernel)";
	EXPECT_EQ(kernel_release(k->first), k->second);
	expect_error([] { kernel_release("/nonexistent/vmlinuz"); }, "/nonexistent/vmlinuz");
}

TEST(ModulesDep, Parse) {
	auto d = parse_modules_dep("kernel/a/x.ko: kernel/b/y.ko.xz  kernel/c/z-w.ko\n\n# c\nkernel/b/y.ko.xz:\n");
	ASSERT_EQ(d.size(), 2u);
	EXPECT_EQ(d[0].path, "kernel/a/x.ko");
	EXPECT_EQ(d[0].deps, (std::vector<std::string>{"kernel/b/y.ko.xz", "kernel/c/z-w.ko"}));
	EXPECT_EQ(module_name("kernel/c/z-w.ko.zst"), "z_w");
	EXPECT_EQ(parse_modules_builtin("kernel/fs/fuse/fuse.ko\n"), std::vector<std::string>{"fuse"});
}

TEST(ModulesDep, Hostile) {
	expect_error([] { parse_modules_dep("kernel/x.ko kernel/y.ko\n"); }, "no ':'");
	expect_error([] { parse_modules_dep("/etc/x.ko:\n"); }, "not a module path");
	expect_error([] { parse_modules_dep("kernel/../../x.ko:\n"); }, "not a module path");
	expect_error([] { parse_modules_dep("kernel/x.ko: kernel/y.so\n"); }, "not a module path");
	expect_error([] { parse_modules_dep(std::string(17 << 20, '\n')); }, "larger than 16 MiB");
	expect_error([] { parse_modules_builtin("../x.ko\n"); }, "not a module path");
	std::string many;
	for (int i = 0; i < 100001; i++) many += "k/" + std::to_string(i) + ".ko:\n";
	expect_error([&] { parse_modules_dep(many); }, "too many");
}

TEST(ResolveModules, DependenciesFirstEachOnce) {
	std::string dep =
	    "kernel/v/virtio_mmio.ko: kernel/v/virtio.ko kernel/v/virtio_ring.ko\n"
	    "kernel/v/virtio.ko: kernel/v/virtio_ring.ko\n"
	    "kernel/v/virtio_ring.ko:\n"
	    "kernel/f/virtiofs.ko: kernel/v/virtio.ko kernel/v/virtio_ring.ko kernel/f/fuse.ko\n"
	    "kernel/f/fuse.ko:\n";
	ModulePlan p = resolve_modules({"virtio_mmio", "virtiofs", "overlay", "vsock"}, dep, "kernel/o/overlay.ko\n");
	EXPECT_EQ(p.load, (std::vector<std::string>{"kernel/v/virtio_ring.ko", "kernel/v/virtio.ko", "kernel/v/virtio_mmio.ko",
	                                            "kernel/f/fuse.ko", "kernel/f/virtiofs.ko"}));
	EXPECT_EQ(p.builtin, std::vector<std::string>{"overlay"});
	EXPECT_EQ(p.missing, std::vector<std::string>{"vsock"});
}

TEST(ResolveModules, Hostile) {
	expect_error([] { resolve_modules({"a"}, "k/a.ko: k/b.ko\nk/b.ko: k/a.ko\n", ""); }, "dependency loop");
	expect_error([] { resolve_modules({"a"}, "k/a.ko: k/a.ko\n", ""); }, "dependency loop");
	expect_error([] { resolve_modules({"a"}, "k/a.ko: k/gone.ko\n", ""); }, "does not list");
	std::string chain;
	for (int i = 0; i < 100; i++) chain += strprintf("k/m%d.ko: k/m%d.ko\n", i, i + 1);
	chain += "k/m100.ko:\n";
	expect_error([&] { resolve_modules({"m0"}, chain, ""); }, "deeper than 64");
	// A diamond is no loop.
	ModulePlan p = resolve_modules({"a"}, "k/a.ko: k/b.ko k/c.ko\nk/b.ko: k/d.ko\nk/c.ko: k/d.ko\nk/d.ko:\n", "");
	EXPECT_EQ(p.load, (std::vector<std::string>{"k/d.ko", "k/b.ko", "k/c.ko", "k/a.ko"}));
}

TEST(ModulesNeeded, Debian) {
	auto k = debian_kernel();
	if (!k) GTEST_SKIP() << "no Debian kernel in the test host's cache";
	auto dir = find_modules_dir(k->first, k->second);
	ASSERT_TRUE(dir);
	ModulePlan p = modules_needed(k->second, *dir);
	EXPECT_TRUE(p.missing.empty());
	for (const char* m : {"/virtio_ring.ko", "/virtio.ko", "/virtio_mmio.ko", "/vsock.ko", "/vmw_vsock_virtio_transport_common.ko",
	                      "/vmw_vsock_virtio_transport.ko", "/fuse.ko", "/virtiofs.ko", "/overlay.ko"})
		EXPECT_NE(index_of(p.load, m), SIZE_MAX) << m;
	EXPECT_LT(index_of(p.load, "/virtio_ring.ko"), index_of(p.load, "/virtio.ko"));
	EXPECT_LT(index_of(p.load, "/virtio.ko"), index_of(p.load, "/virtio_mmio.ko"));
	EXPECT_LT(index_of(p.load, "/vsock.ko"), index_of(p.load, "/vmw_vsock_virtio_transport.ko"));
	EXPECT_LT(index_of(p.load, "/fuse.ko"), index_of(p.load, "/virtiofs.ko"));
	for (const auto& m : p.load) EXPECT_EQ(m[0], '/') << m;
	expect_error([&] { find_modules_dir(k->first, k->second, "/nonexistent"); }, "not a modules directory");
}

TEST(CheckKernel, Debian) {
	auto k = debian_kernel();
	if (!k) GTEST_SKIP() << "no Debian kernel in the test host's cache";
	KernelCheck c = check_kernel(k->first);
	EXPECT_EQ(c.release, k->second);
	// Debian builds virtio-mmio without command-line devices, but with ACPI:
	// it finds bencher-vmm's devices in the DSDT.
	for (const auto& l : c.lacks) ADD_FAILURE() << l;
	EXPECT_TRUE(c.acpi);
	EXPECT_NE(c.config_source.find("config-" + k->second), std::string::npos) << c.config_source;
	EXPECT_NE(std::find(c.modules.begin(), c.modules.end(), "virtiofs"), c.modules.end());
	auto dir = find_modules_dir(k->first, k->second);
	ASSERT_TRUE(dir);
	EXPECT_TRUE(acpi_devices(k->first, k->second, dir, modules_needed(k->second, *dir)));
}

TEST(CheckKernel, Ours) {
	auto bz = our_kernel("bzImage"), vm = our_kernel("vmlinux");
	if (!bz || !vm) GTEST_SKIP() << "no guest kernel built in kernel/";
	for (const auto& k : {*bz, *vm}) {
		auto cfg = embedded_config(read_regular(k, 1u << 30));
		ASSERT_TRUE(cfg) << k;
		EXPECT_NE(cfg->find("\nCONFIG_VIRTIO_MMIO=y\n"), std::string::npos);
		KernelCheck c = check_kernel(k, "");
		EXPECT_TRUE(c.modules.empty());
		EXPECT_NE(c.config_source.find("CONFIG_IKCONFIG"), std::string::npos) << c.config_source;
		// Before the kernel gained virtio-fs this names it; now it names nothing.
		for (const auto& l : c.lacks) ADD_FAILURE() << k << ": " << l;
		// No ACPI: the devices stay on its command line.
		EXPECT_FALSE(c.acpi);
		EXPECT_FALSE(acpi_devices(k, kernel_release(k), std::nullopt, {}));
	}
}

namespace {

// A modular kernel made up in `dir`: an ELF "vmlinux" of release
// 6.1.0-fake, and modules/ whose only module is a virtio_mmio.ko holding
// `modinfo`; optionally a config file beside the kernel.
std::string fake_modular_kernel(const std::string& dir, const std::string& modinfo, const std::string& config = "") {
	auto put = [](const std::string& path, const std::string& data) {
		UniqueFd fd = open_file(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		write_all(fd.get(), data, path);
	};
	std::string k = dir + "/vmlinux";
	put(k, std::string("\x7f" "ELF", 4) + std::string(60, '\0') + "Linux version 6.1.0-fake (x) #1\n");
	mkdir((dir + "/modules").c_str(), 0755);
	mkdir((dir + "/modules/kernel").c_str(), 0755);
	put(dir + "/modules/modules.dep", "kernel/virtio_mmio.ko:\n");
	put(dir + "/modules/kernel/virtio_mmio.ko", std::string("\x7f" "ELF", 4) + std::string(40, '\0') + modinfo + '\0');
	if (!config.empty()) put(dir + "/config", config);
	return k;
}

bool lacks_a_way_to_the_devices(const KernelCheck& c) {
	for (const auto& l : c.lacks)
		if (l.starts_with("CONFIG_ACPI with CONFIG_PCI, or CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES without CONFIG_ACPI: "))
			return true;
	return false;
}

}  // namespace

TEST(CheckKernel, DevicesThroughAcpiOrTheCommandLine) {
	TempDir d("kmod-test");
	std::string mods = d.path() + "/modules";
	auto acpi = [&](const std::string& k) {
		return acpi_devices(k, "6.1.0-fake", mods, modules_needed("6.1.0-fake", mods));
	};
	// With no config anywhere, virtio_mmio's module info tells: its ACPI
	// alias (Debian's), ...
	std::string k = fake_modular_kernel(d.path(), "alias=acpi*:LNRO0005:*");
	EXPECT_TRUE(acpi(k));
	KernelCheck c = check_kernel(k, mods);
	EXPECT_TRUE(c.acpi);
	EXPECT_FALSE(lacks_a_way_to_the_devices(c));
	// ... its device= parameter (a kernel without ACPI), ...
	fake_modular_kernel(d.path(), "parm=device:Describes the list of devices");
	EXPECT_FALSE(acpi(k));
	c = check_kernel(k, mods);
	EXPECT_FALSE(c.acpi);
	EXPECT_FALSE(lacks_a_way_to_the_devices(c));
	// ... or neither.
	fake_modular_kernel(d.path(), "license=GPL");
	EXPECT_FALSE(acpi(k));
	EXPECT_TRUE(lacks_a_way_to_the_devices(check_kernel(k, mods)));
	// A config file beside the kernel says it first.
	fake_modular_kernel(d.path(), "license=GPL", "CONFIG_ACPI=y\nCONFIG_PCI=y\nCONFIG_VIRTIO_MMIO=m\n");
	EXPECT_TRUE(acpi(k));
	c = check_kernel(k, mods);
	EXPECT_TRUE(c.acpi);
	EXPECT_FALSE(lacks_a_way_to_the_devices(c));
	fake_modular_kernel(d.path(), "alias=acpi*:LNRO0005:*", "# CONFIG_ACPI is not set\nCONFIG_VIRTIO_MMIO=m\n");
	EXPECT_FALSE(acpi(k));
	EXPECT_TRUE(lacks_a_way_to_the_devices(check_kernel(k, mods)));
	// ACPI without PCI: Linux 6.1 loads no table, and the hardware-reduced
	// FADT it did read leaves the command line's IRQs unmapped.
	fake_modular_kernel(d.path(), "license=GPL",
	                    "CONFIG_ACPI=y\n# CONFIG_PCI is not set\nCONFIG_VIRTIO_MMIO=m\nCONFIG_VIRTIO_MMIO_CMDLINE_DEVICES=y\n");
	EXPECT_TRUE(acpi(k)) << "the entries would be no use to it";
	EXPECT_TRUE(lacks_a_way_to_the_devices(check_kernel(k, mods)));
	// No ACPI, command-line devices: our own kernel's way.
	fake_modular_kernel(d.path(), "license=GPL", "CONFIG_VIRTIO_MMIO=m\nCONFIG_VIRTIO_MMIO_CMDLINE_DEVICES=y\n");
	EXPECT_FALSE(acpi(k));
	EXPECT_FALSE(lacks_a_way_to_the_devices(check_kernel(k, mods)));
}

TEST(CheckKernel, Hostile) {
	expect_error([] { check_kernel("/dev/null"); }, "/dev/null: not a regular file");
	TempDir d("kmod-test");
	UniqueFd(open_file(d.path() + "/empty", O_WRONLY | O_CREAT, 0644));
	expect_error([&] { kernel_release(d.path() + "/empty"); }, "/empty: empty");
	expect_error([] { embedded_config(std::string("IKCFG_ST\x1f\x8b garbage")); }, "end mark");
	expect_error([] { embedded_config(std::string("IKCFG_ST garbage IKCFG_ED")); }, "not gzip");
	expect_error([] { embedded_config(std::string("IKCFG_ST\x1f\x8bgarbage IKCFG_ED")); }, "embedded config");
	// A bzImage whose payload lies outside it.
	std::string bz(0x400, '\0');
	bz.replace(0x202, 4, "HdrS");
	bz[0x24c] = 0x10;
	expect_error([&] { embedded_config(bz); }, "payload outside");
}
