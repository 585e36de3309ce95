// config.hh: vmtest.toml, vmtest's own file format (danobi/vmtest
// docs/config.md), read with tomlplusplus into typed Targets before anything
// runs. What bencher-vmtest cannot honour (image, uefi, bios, qemu_command,
// extra_args, another arch) is refused by name, never ignored.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bencher::vmtest {

constexpr size_t kMaxConfigBytes = 1u << 20;
constexpr uint32_t kMaxCpus = 32;                // bencher-vmm's --vcpus range
constexpr uint64_t kMinMemoryMib = 32;           // and its --memory range
constexpr uint64_t kMaxMemoryMib = 1u << 20;
// bencher-vmm takes 8 virtio-fs devices: the root, /mnt/vmtest and these.
constexpr size_t kMaxMounts = 6;

// A host directory shared at guest_path (vmtest's [target.vm.mounts]).
struct Mount {
	std::string guest_path;
	std::string host_path;  // absolute
	bool writable = false;
};

// One [[target]]; the defaults are vmtest's.
struct Target {
	std::string name;
	std::string kernel;       // absolute
	std::string kernel_args;  // appended to the kernel command line
	std::string rootfs = "/"; // absolute; shared read-only as the guest's root
	std::string command;      // run as bash -c COMMAND
	uint32_t num_cpus = 2;
	uint64_t memory_mib = 4096;
	std::vector<Mount> mounts;
};

struct Config {
	std::string dir;  // the file's directory: relative paths, /mnt/vmtest
	std::vector<Target> targets;
};

// Parses text; `path` names the file in errors ("FILE:LINE:COL: why") and
// its directory anchors relative paths. Throws usage errors (exit 2).
Config parse_config(std::string_view text, const std::string& path);
Config load_config(const std::string& path);

// vmtest's memory strings (QEMU's -m: "512M", "4G"; a bare number is MiB)
// in MiB, within bencher-vmm's range. Throws naming `what`.
uint64_t parse_memory(std::string_view text, const std::string& what);

// A guest mount point: absolute, no "." or ".." component, not "/" itself.
bool valid_guest_path(std::string_view p);

// PATH made absolute against DIR (lexically; no file system consulted).
std::string absolute_from(const std::string& dir, const std::string& path);

}  // namespace bencher::vmtest
