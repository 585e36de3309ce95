// Unit tests for lib/vmtest/config: vmtest.toml as vmtest documents it, the
// fields bencher-vmtest refuses by name, and hostile files (bad syntax, wrong
// types, NULs, deep nesting, odd paths), each error with its place.
#include "vmtest/config.hh"

#include <gtest/gtest.h>

#include <string>

#include "common/error.hh"
#include "../common/error_of.hh"

using bencher::Error;
using bencher::test::error_of;
using namespace bencher::vmtest;

namespace {

Config parse(const std::string& text) { return parse_config(text, "/cfg/vmtest.toml"); }

std::string refused(const std::string& text) { return error_of([&] { parse(text); }); }

const char kTarget[] = "[[target]]\nname = \"t\"\nkernel = \"bzImage\"\ncommand = \"true\"\n";

}  // namespace

TEST(VmtestConfig, VmtestsOwnExample) {
	Config c = parse(
	    "[[target]]\n"
	    "name = \"check if kernel is 6.2\"\n"
	    "kernel = \"./bzImage-v6.2\"\n"
	    "command = \"/bin/bash -c 'uname -r | grep -e ^6.2.0$'\"\n"
	    "[[target]]\n"
	    "name = \"mounts\"\n"
	    "kernel = \"/boot/vmlinuz\"\n"
	    "kernel_args = \"quiet loglevel=3\"\n"
	    "rootfs = \"../root\"\n"
	    "arch = \"x86_64\"\n"
	    "command = \"ls -l /tmp/hosttmp\"\n"
	    "[target.vm]\n"
	    "num_cpus = 4\n"
	    "memory = \"1G\"\n"
	    "[target.vm.mounts]\n"
	    "\"/tmp/hosttmp\" = { host_path = \"/tmp\", writable = true }\n"
	    "\"/data\" = { host_path = \"data\" }\n");
	EXPECT_EQ("/cfg", c.dir);
	ASSERT_EQ(2u, c.targets.size());
	const Target& a = c.targets[0];
	EXPECT_EQ("check if kernel is 6.2", a.name);
	EXPECT_EQ("/cfg/bzImage-v6.2", a.kernel);
	EXPECT_EQ("/", a.rootfs);
	EXPECT_EQ("", a.kernel_args);
	EXPECT_EQ(2u, a.num_cpus);        // vmtest's defaults
	EXPECT_EQ(4096u, a.memory_mib);
	EXPECT_TRUE(a.mounts.empty());
	const Target& b = c.targets[1];
	EXPECT_EQ("/boot/vmlinuz", b.kernel);
	EXPECT_EQ("/root", b.rootfs);
	EXPECT_EQ("quiet loglevel=3", b.kernel_args);
	EXPECT_EQ(4u, b.num_cpus);
	EXPECT_EQ(1024u, b.memory_mib);
	// In guest path order (a parent before what is mounted inside it).
	ASSERT_EQ(2u, b.mounts.size());
	EXPECT_EQ("/data", b.mounts[0].guest_path);
	EXPECT_EQ("/cfg/data", b.mounts[0].host_path);
	EXPECT_FALSE(b.mounts[0].writable);
	EXPECT_EQ("/tmp/hosttmp", b.mounts[1].guest_path);
	EXPECT_EQ("/tmp", b.mounts[1].host_path);
	EXPECT_TRUE(b.mounts[1].writable);
}

TEST(VmtestConfig, RefusesWhatNeedsQemuByName) {
	EXPECT_EQ("/cfg/vmtest.toml:5:1: target[0].image: not supported: bencher-vmtest boots a kernel, not a disk image",
		  refused(std::string(kTarget) + "image = \"disk.img\"\n"));
	EXPECT_EQ("/cfg/vmtest.toml:5:1: target[0].uefi: not supported: bencher-vmtest boots the kernel directly, "
		  "without firmware",
		  refused(std::string(kTarget) + "uefi = true\n"));
	EXPECT_EQ("/cfg/vmtest.toml:5:1: target[0].qemu_command: not supported: bencher-vmtest runs its own VMM, not QEMU",
		  refused(std::string(kTarget) + "qemu_command = \"qemu\"\n"));
	EXPECT_EQ("/cfg/vmtest.toml:6:1: target[0].vm.bios: not supported: bencher-vmtest boots the kernel directly, "
		  "without firmware",
		  refused(std::string(kTarget) + "[target.vm]\nbios = \"/x\"\n"));
	EXPECT_EQ("/cfg/vmtest.toml:6:1: target[0].vm.extra_args: not supported: these are QEMU arguments",
		  refused(std::string(kTarget) + "[target.vm]\nextra_args = [\"-s\"]\n"));
	EXPECT_EQ("/cfg/vmtest.toml:5:8: target[0].arch: 'aarch64': only x86_64 is supported",
		  refused(std::string(kTarget) + "arch = \"aarch64\"\n"));
}

TEST(VmtestConfig, RefusesUnknownKeysAndMissingOnes) {
	EXPECT_EQ("/cfg/vmtest.toml:5:1: target[0].kernal: unknown key", refused(std::string(kTarget) + "kernal = \"x\"\n"));
	EXPECT_EQ("/cfg/vmtest.toml:1:1: targets: unknown key", refused("targets = 1\n"));
	EXPECT_EQ("/cfg/vmtest.toml: no [[target]]", refused(""));
	EXPECT_EQ("/cfg/vmtest.toml:1:1: target[0].name: missing (required)",
		  refused("[[target]]\nkernel = \"k\"\ncommand = \"c\"\n"));
	EXPECT_EQ("/cfg/vmtest.toml:1:1: target[0].kernel: missing (required: bencher-vmtest boots a kernel)",
		  refused("[[target]]\nname = \"n\"\ncommand = \"c\"\n"));
	EXPECT_EQ("/cfg/vmtest.toml:1:1: target[0].command: missing (required)",
		  refused("[[target]]\nname = \"n\"\nkernel = \"k\"\n"));
	EXPECT_EQ(2, [] {
		try {
			parse("[[target]]\n");
		} catch (const Error& e) {
			return e.exit_code();
		}
		return 0;
	}());
}

TEST(VmtestConfig, SyntaxErrorsCarryLineAndColumn) {
	std::string e = refused("[[target]]\nname = \"n\n");
	EXPECT_EQ(0u, e.find("/cfg/vmtest.toml:2:")) << e;
	e = refused("[[target]\n");
	EXPECT_EQ(0u, e.find("/cfg/vmtest.toml:1:")) << e;
}

TEST(VmtestConfig, WrongTypes) {
	EXPECT_EQ("/cfg/vmtest.toml:1:10: target: expected [[target]] tables", refused("target = 1\n"));
	EXPECT_EQ("/cfg/vmtest.toml:1:10: target: expected [[target]] tables", refused("target = [1, 2]\n"));
	EXPECT_EQ("/cfg/vmtest.toml:2:8: target[0].name: expected a string",
		  refused("[[target]]\nname = 3\nkernel = \"k\"\ncommand = \"c\"\n"));
	EXPECT_EQ("/cfg/vmtest.toml:6:12: target[0].vm.num_cpus: expected an integer from 1 to 32",
		  refused(std::string(kTarget) + "[target.vm]\nnum_cpus = 0\n"));
	EXPECT_EQ("/cfg/vmtest.toml:6:12: target[0].vm.num_cpus: expected an integer from 1 to 32",
		  refused(std::string(kTarget) + "[target.vm]\nnum_cpus = 1.5\n"));
	EXPECT_EQ("/cfg/vmtest.toml:6:12: target[0].vm.num_cpus: expected an integer from 1 to 32",
		  refused(std::string(kTarget) + "[target.vm]\nnum_cpus = 9223372036854775807\n"));
	EXPECT_EQ("/cfg/vmtest.toml:5:6: target[0].vm: expected a table", refused(std::string(kTarget) + "vm = 1\n"));
	EXPECT_EQ("/cfg/vmtest.toml:6:39: target[0].vm.mounts.\"/a\".writable: expected true or false",
		  refused(std::string(kTarget) + "[target.vm.mounts]\n\"/a\" = { host_path = \"/a\", writable = \"yes\" }\n"));
	EXPECT_EQ("/cfg/vmtest.toml:6:8: target[0].vm.mounts.\"/a\": expected a table",
		  refused(std::string(kTarget) + "[target.vm.mounts]\n\"/a\" = \"/b\"\n"));
}

TEST(VmtestConfig, Memory) {
	EXPECT_EQ(512u, parse_memory("512M", "memory"));
	EXPECT_EQ(512u, parse_memory("512", "memory"));  // QEMU's -m: MiB
	EXPECT_EQ(4096u, parse_memory("4G", "memory"));
	EXPECT_EQ("memory: '16M' is outside 32M to 1024G", error_of([] { parse_memory("16M", "memory"); }));
	EXPECT_EQ("memory: '1536K' is not a whole number of MiB", error_of([] { parse_memory("1536K", "memory"); }));
	EXPECT_NE("(no error)", error_of([] { parse_memory("-1G", "memory"); }));
	EXPECT_NE("(no error)", error_of([] { parse_memory("99999999999999999999G", "memory"); }));
	EXPECT_NE("(no error)", error_of([] { parse_memory("", "memory"); }));
	EXPECT_EQ(0u, refused(std::string(kTarget) + "[target.vm]\nmemory = \"lots\"\n").find("/cfg/vmtest.toml:6:10: "
											       "target[0].vm.memory: "));
}

TEST(VmtestConfig, HostileStringsAndPaths) {
	EXPECT_EQ("/cfg/vmtest.toml:2:8: target[0].name: contains a NUL byte",
		  refused("[[target]]\nname = \"a\\u0000b\"\nkernel = \"k\"\ncommand = \"c\"\n"));
	EXPECT_EQ("/cfg/vmtest.toml:3:10: target[0].kernel: empty path",
		  refused("[[target]]\nname = \"n\"\nkernel = \"\"\ncommand = \"c\"\n"));
	for (const char* bad : {"\"relative\"", "\"/\"", "\"/a/../b\"", "\"/a/./b\"", "\"/a//b\"", "\"/a/\"", "\"\""}) {
		std::string e = refused(std::string(kTarget) + "[target.vm.mounts]\n" + bad + " = { host_path = \"/x\" }\n");
		EXPECT_NE(std::string::npos, e.find("not an absolute guest path")) << bad << ": " << e;
	}
	EXPECT_EQ("/cfg/vmtest.toml:6:1: target[0].vm.mounts.\"/mnt/vmtest\": taken: the vmtest.toml directory is "
		  "mounted there",
		  refused(std::string(kTarget) + "[target.vm.mounts]\n\"/mnt/vmtest\" = { host_path = \"/x\" }\n"));
	std::string many = std::string(kTarget) + "[target.vm.mounts]\n";
	for (int i = 0; i < 7; i++) many += "\"/m" + std::to_string(i) + "\" = { host_path = \"/x\" }\n";
	EXPECT_EQ("/cfg/vmtest.toml:5:1: target[0].vm.mounts: more than 6 mounts", refused(many));
	EXPECT_EQ("/cfg/vmtest.toml: larger than 1 MiB", refused(std::string(kMaxConfigBytes + 1, '#')));
	// Nesting deeper than tomlplusplus allows is a parse error, not a crash.
	std::string deep = "a = " + std::string(10000, '[') + std::string(10000, ']') + "\n";
	EXPECT_EQ(0u, refused(deep).find("/cfg/vmtest.toml:1:")) << refused(deep);
}

TEST(VmtestConfig, AbsoluteFrom) {
	EXPECT_EQ("/a/b", absolute_from("/a", "b"));
	EXPECT_EQ("/a/c", absolute_from("/a", "./b/../c"));
	EXPECT_EQ("/", absolute_from("/a", "../../.."));
	EXPECT_EQ("/x", absolute_from("/a", "/x"));
	EXPECT_EQ("/b", absolute_from("/", "b"));
}
