// kmod.cc: kernel release, module closure and the kernel check (see kmod.hh).
// Formats: the x86 boot protocol's setup header (Documentation/x86/boot.rst),
// depmod's modules.dep and modules.builtin, and kernel/configs.c's
// "IKCFG_ST" + gzip + "IKCFG_ED" wrapping of an embedded .config.
#include "vmtest/kmod.hh"

#include <archive.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <set>

#include "common/error.hh"
#include "common/fd.hh"

namespace bencher::vmtest {

const std::vector<std::string> kGuestModules = {"virtio_mmio", "vsock", "vmw_vsock_virtio_transport",
                                                "fuse", "virtiofs", "overlay"};

namespace {

constexpr size_t kMaxRelease = 64;
constexpr size_t kMaxDepBytes = 16u << 20;      // Debian's modules.dep: 600 KB
constexpr size_t kMaxModules = 100000;
constexpr size_t kMaxConfigBytes = 4u << 20;    // a .config: 300 KB
constexpr size_t kMaxVmlinuxBytes = 1ull << 30; // a decompressed bzImage payload
constexpr size_t kMaxModuleBytes = 64u << 20;   // one .ko

// Setup header fields (offsets from the image's start).
constexpr size_t kSetupSects = 0x1f1, kHdrMagic = 0x202, kKernelVersion = 0x20e, kPayloadOffset = 0x248,
                 kPayloadLength = 0x24c;

uint32_t le(std::string_view b, size_t off, size_t n) {
	uint32_t v = 0;
	for (size_t i = 0; i < n; i++) v |= static_cast<uint32_t>(static_cast<uint8_t>(b[off + i])) << (8 * i);
	return v;
}

bool is_bzimage(std::string_view img) { return img.size() >= 0x250 && img.substr(kHdrMagic, 4) == "HdrS"; }
bool is_elf(std::string_view img) { return img.size() >= 4 && img.substr(0, 4) == "\x7f" "ELF"; }

// The release: the first word, of characters a release string is made of.
std::string release_word(std::string_view s, const char* where) {
	size_t n = 0;
	while (n < s.size() && n <= kMaxRelease &&
	       (isalnum(static_cast<unsigned char>(s[n])) || strchr("._+-~", s[n]) != nullptr))
		n++;
	if (n == 0 || n > kMaxRelease || !isdigit(static_cast<unsigned char>(s[0])))
		fail(std::string("kernel: no release string in ") + where);
	return std::string(s.substr(0, n));
}

std::string_view payload_of(std::string_view img) {
	size_t sects = static_cast<uint8_t>(img[kSetupSects]);
	if (sects == 0) sects = 4;
	size_t start = (sects + 1) * 512;
	size_t off = le(img, kPayloadOffset, 4), len = le(img, kPayloadLength, 4);
	if (start > img.size() || off > img.size() - start || len > img.size() - start - off || len == 0)
		fail("kernel: bzImage payload outside the image");
	std::string_view payload = img.substr(start + off, len);
	// Every compressor but gzip (whose trailer has it) is followed by the
	// decompressed size, 4 bytes that are no part of its stream.
	if (payload.size() > 4 && !payload.starts_with("\x1f\x8b")) payload.remove_suffix(4);
	return payload;
}

// Decompresses a stream of any format libarchive's filters know (the kernel
// uses gzip, xz, lzma, lz4, zstd or bzip2), up to `max` bytes; anything
// else is an error.
std::string decompress(std::string_view data, size_t max, const char* what) {
	std::unique_ptr<archive, int (*)(archive*)> a(archive_read_new(), archive_read_free);
	if (!a) fail(std::string(what) + ": out of memory");
	archive_read_support_filter_all(a.get());
	archive_read_support_format_raw(a.get());
	archive_entry* e;
	if (archive_read_open_memory(a.get(), data.data(), data.size()) != ARCHIVE_OK ||
	    archive_read_next_header(a.get(), &e) != ARCHIVE_OK)
		fail(std::string(what) + ": " + archive_error_string(a.get()));
	// The raw format passes plain data through: that is no compressed stream.
	if (archive_filter_code(a.get(), 0) == ARCHIVE_FILTER_NONE) fail(std::string(what) + ": not compressed data");
	std::string out;
	char buf[1 << 16];
	for (;;) {
		la_ssize_t n = archive_read_data(a.get(), buf, sizeof buf);
		if (n < 0) fail(std::string(what) + ": " + archive_error_string(a.get()));
		if (n == 0) break;
		if (out.size() + static_cast<size_t>(n) > max) fail(std::string(what) + ": decompresses to more than the limit");
		out.append(buf, static_cast<size_t>(n));
	}
	return out;
}

bool exists(const std::string& path, mode_t type) {
	struct stat st {};
	return stat(path.c_str(), &st) == 0 && (st.st_mode & S_IFMT) == type;
}

std::vector<std::string> words(std::string_view line) {
	std::vector<std::string> out;
	size_t i = 0;
	while (i < line.size()) {
		while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) i++;
		size_t j = i;
		while (j < line.size() && line[j] != ' ' && line[j] != '\t') j++;
		if (j > i) out.emplace_back(line.substr(i, j - i));
		i = j;
	}
	return out;
}

// A path from a modules file: relative, below the modules dir, a .ko.
void check_module_path(const std::string& p, const char* file) {
	bool ko = p.ends_with(".ko") || p.ends_with(".ko.xz") || p.ends_with(".ko.zst") || p.ends_with(".ko.gz");
	if (p.empty() || p[0] == '/' || p.find("..") != std::string::npos || !ko || p.size() > 4096)
		fail(strprintf("%s: \"%.64s\": not a module path below the modules directory", file, p.c_str()));
}

template <typename F>
void each_line(std::string_view text, F f) {
	while (!text.empty()) {
		size_t nl = text.find('\n');
		f(text.substr(0, nl));
		text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
	}
}

}  // namespace

std::string read_regular(const std::string& path, size_t max) {
	UniqueFd fd = open_file(path, O_RDONLY | O_CLOEXEC);
	struct stat st {};
	if (fstat(fd.get(), &st) < 0) fail_errno(path);
	if (!S_ISREG(st.st_mode)) fail(path + ": not a regular file");
	if (static_cast<uint64_t>(st.st_size) > max) fail(path + ": larger than the limit");
	return read_all(fd.get(), max, path);
}

namespace {

// A kernel image, mapped rather than read: an unstripped vmlinux runs to
// hundreds of megabytes.
Mapping map_kernel(const std::string& path) {
	UniqueFd fd = open_file(path, O_RDONLY | O_CLOEXEC);
	struct stat st {};
	if (fstat(fd.get(), &st) < 0) fail_errno(path);
	if (!S_ISREG(st.st_mode)) fail(path + ": not a regular file");
	if (st.st_size == 0) fail(path + ": empty");
	if (static_cast<uint64_t>(st.st_size) > kMaxVmlinuxBytes) fail(path + ": larger than the limit");
	return Mapping::map(static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd.get(), 0, path);
}

std::string_view view(const Mapping& m) { return {reinterpret_cast<const char*>(m.bytes()), m.size()}; }

}  // namespace

std::string read_module(const std::string& path) {
	std::string ko = read_regular(path, kMaxModuleBytes);
	if (path.ends_with(".ko")) return ko;
	if (path.ends_with(".ko.xz") || path.ends_with(".ko.zst") || path.ends_with(".ko.gz"))
		return decompress(ko, kMaxModuleBytes, path.c_str());
	fail(path + ": not a kernel module (.ko, .ko.xz, .ko.zst or .ko.gz)");
}

std::string kernel_release_of(std::string_view img) {
	if (is_bzimage(img)) {
		size_t ptr = le(img, kKernelVersion, 2);
		if (ptr == 0) fail("kernel: bzImage without a kernel_version string");
		size_t at = ptr + 0x200;
		if (at >= img.size()) fail("kernel: bzImage kernel_version outside the image");
		return release_word(img.substr(at, kMaxRelease + 1), "the bzImage header");
	}
	if (is_elf(img)) {
		static constexpr std::string_view kBanner = "Linux version ";
		for (size_t at = img.find(kBanner); at != std::string_view::npos; at = img.find(kBanner, at + 1)) {
			std::string_view rest = img.substr(at + kBanner.size(), kMaxRelease + 1);
			if (!rest.empty() && isdigit(static_cast<unsigned char>(rest[0]))) return release_word(rest, "the vmlinux banner");
		}
		fail("kernel: no \"Linux version\" banner in the vmlinux");
	}
	fail("kernel: neither a bzImage nor an ELF vmlinux");
}

std::string kernel_release(const std::string& kernel_path) {
	Mapping m = map_kernel(kernel_path);
	try {
		return kernel_release_of(view(m));
	} catch (const Error& e) {
		fail(kernel_path + ": " + e.what());
	}
}

std::string module_name(std::string_view path) {
	size_t slash = path.rfind('/');
	std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
	base = base.substr(0, base.find(".ko"));
	std::string name(base);
	std::replace(name.begin(), name.end(), '-', '_');
	return name;
}

std::vector<DepEntry> parse_modules_dep(std::string_view text) {
	if (text.size() > kMaxDepBytes) fail("modules.dep: larger than 16 MiB");
	std::vector<DepEntry> out;
	each_line(text, [&](std::string_view line) {
		if (line.empty() || line[0] == '#') return;
		size_t colon = line.find(':');
		if (colon == std::string_view::npos) fail(strprintf("modules.dep: \"%.64s\": no ':'", std::string(line).c_str()));
		DepEntry e;
		e.path = std::string(line.substr(0, colon));
		check_module_path(e.path, "modules.dep");
		e.deps = words(line.substr(colon + 1));
		for (const auto& d : e.deps) check_module_path(d, "modules.dep");
		if (out.size() >= kMaxModules) fail("modules.dep: too many modules");
		out.push_back(std::move(e));
	});
	return out;
}

std::vector<std::string> parse_modules_builtin(std::string_view text) {
	if (text.size() > kMaxDepBytes) fail("modules.builtin: larger than 16 MiB");
	std::vector<std::string> out;
	each_line(text, [&](std::string_view line) {
		if (line.empty() || line[0] == '#') return;
		std::string p(line);
		check_module_path(p, "modules.builtin");
		out.push_back(module_name(p));
	});
	return out;
}

ModulePlan resolve_modules(const std::vector<std::string>& wanted, std::string_view modules_dep,
                           std::string_view modules_builtin) {
	std::map<std::string, const DepEntry*> by_path, by_name;
	std::vector<DepEntry> dep = parse_modules_dep(modules_dep);
	for (const auto& e : dep) {
		by_path.emplace(e.path, &e);
		by_name.emplace(module_name(e.path), &e);
	}
	std::vector<std::string> builtins = parse_modules_builtin(modules_builtin);
	std::set<std::string> builtin(builtins.begin(), builtins.end());
	ModulePlan plan;
	std::set<std::string> done, active;
	// Depth first, each module after its dependencies; `active` is the
	// current chain, so a module met again on it is a loop.
	std::function<void(const DepEntry&)> visit = [&](const DepEntry& e) {
		if (done.count(e.path)) return;
		if (!active.insert(e.path).second) fail("modules.dep: dependency loop through " + e.path);
		if (active.size() > 64) fail("modules.dep: dependency chain deeper than 64");
		for (const auto& d : e.deps) {
			auto it = by_path.find(d);
			if (it == by_path.end()) fail("modules.dep: " + e.path + " needs " + d + ", which it does not list");
			visit(*it->second);
		}
		active.erase(e.path);
		done.insert(e.path);
		plan.load.push_back(e.path);
	};
	for (const auto& w : wanted) {
		std::string name = module_name(w);
		if (builtin.count(name)) plan.builtin.push_back(name);
		else if (auto it = by_name.find(name); it != by_name.end()) visit(*it->second);
		else plan.missing.push_back(name);
	}
	return plan;
}

std::optional<std::string> find_modules_dir(const std::string& kernel_path, const std::string& release,
                                            const std::string& given) {
	if (!given.empty()) {
		if (!exists(given, S_IFDIR)) fail(given + ": not a modules directory");
		return given;
	}
	std::string dir = kernel_path.substr(0, kernel_path.rfind('/') + 1);
	if (dir.empty()) dir = "./";
	for (const std::string& d : {dir + "../lib/modules/" + release, "/lib/modules/" + release})
		if (exists(d + "/modules.dep", S_IFREG)) return d;
	return std::nullopt;
}

ModulePlan modules_needed(const std::string& release, const std::string& dir) {
	std::string builtin;
	if (exists(dir + "/modules.builtin", S_IFREG)) builtin = read_regular(dir + "/modules.builtin", kMaxDepBytes);
	ModulePlan p;
	try {
		p = resolve_modules(kGuestModules, read_regular(dir + "/modules.dep", kMaxDepBytes), builtin);
	} catch (const Error& e) {
		fail(dir + " (modules of " + release + "): " + e.what());
	}
	for (auto& m : p.load) m = dir + "/" + m;
	return p;
}

std::optional<std::string> embedded_config(std::string_view image) {
	std::string vmlinux;
	if (is_bzimage(image)) {
		vmlinux = decompress(payload_of(image), kMaxVmlinuxBytes, "kernel: bzImage payload");
		image = vmlinux;
	}
	size_t st = image.find("IKCFG_ST");
	if (st == std::string_view::npos) return std::nullopt;
	size_t ed = image.find("IKCFG_ED", st);
	if (ed == std::string_view::npos) fail("kernel: embedded config without its end mark");
	if (image.substr(st + 8, 2) != "\x1f\x8b") fail("kernel: embedded config: not gzip data");
	return decompress(image.substr(st + 8, ed - st - 8), kMaxConfigBytes, "kernel: embedded config");
}

// ---- the check -----------------------------------------------------------

namespace {

struct Feature {
	const char* symbol;  // CONFIG_ name without the prefix
	const char* module;  // its module, or nullptr when it cannot be one
	const char* why;
};

const Feature kFeatures[] = {
    {"BLK_DEV_INITRD", nullptr, "an initramfs: bencher-init comes in one"},
    {"DEVTMPFS", nullptr, "/dev for the workload"},
    {"SERIAL_8250_CONSOLE", nullptr, "the console a panic message comes back on"},
    {"SERIO_I8042", "i8042", "the reset line bencher-vmm takes as a clean power-off"},
    {"VIRTIO_MMIO", "virtio_mmio", "the virtio-mmio transport of every bencher-vmm device"},
    {"VSOCKETS", "vsock", "vsock: the run config and the results"},
    {"VIRTIO_VSOCKETS", "vmw_vsock_virtio_transport", "the virtio vsock device"},
    {"FUSE_FS", "fuse", "FUSE, under virtio-fs"},
    {"VIRTIO_FS", "virtiofs", "virtio-fs: the host root and mounts"},
    {"OVERLAY_FS", "overlay", "overlayfs: the RAM overlay over the read-only root"},
};

std::map<std::string, std::string> parse_config(std::string_view text) {
	std::map<std::string, std::string> out;
	each_line(text, [&](std::string_view line) {
		if (!line.starts_with("CONFIG_")) return;
		size_t eq = line.find('=');
		if (eq != std::string_view::npos) out[std::string(line.substr(7, eq - 7))] = std::string(line.substr(eq + 1));
	});
	return out;
}

// A config file beside the kernel (config-RELEASE, config), if any.
std::optional<std::string> config_beside(const std::string& kernel, const std::string& release) {
	std::string dir = kernel.substr(0, kernel.rfind('/') + 1);
	for (const std::string& f : {dir + "config-" + release, dir + "config"})
		if (exists(f, S_IFREG)) return f;
	return std::nullopt;
}

// The kernel's .config, from the image or a file beside it.
std::optional<std::string> find_config(const std::string& kernel, std::string_view image, const std::string& release,
                                       std::string& source) {
	if (auto c = embedded_config(image)) {
		source = kernel + " (CONFIG_IKCONFIG)";
		return c;
	}
	if (auto f = config_beside(kernel, release)) {
		source = *f;
		return read_regular(*f, kMaxConfigBytes);
	}
	return std::nullopt;
}

enum class Have { yes, no, unknown };

// What virtio_mmio's module info says: whether a modular one's .ko holds
// `needle` ("parm=device:" with CMDLINE_DEVICES, "alias=acpi*:LNRO0005:*"
// with ACPI); for a built-in one, whether modules.builtin.modinfo holds
// "virtio_mmio." `needle`, where it lists parameters but no device aliases
// (so `builtin_tells` is false for an alias).
Have mmio_modinfo(const std::string& moddir, const ModulePlan& plan, const std::string& needle, bool builtin_tells) {
	for (const auto& p : plan.load)
		if (module_name(p) == "virtio_mmio") return read_module(p).find(needle) != std::string::npos ? Have::yes : Have::no;
	std::string bi = moddir + "/modules.builtin.modinfo";
	if (!builtin_tells || !exists(bi, S_IFREG)) return Have::unknown;
	return read_regular(bi, kMaxDepBytes).find("virtio_mmio." + needle) != std::string::npos ? Have::yes : Have::no;
}

constexpr const char* kCmdlineParm = "parm=device:";
constexpr const char* kAcpiAlias = "alias=acpi*:LNRO0005:*";

}  // namespace

namespace {

// One CONFIG_ symbol, from the config when there is one, else from the modules.
Have symbol(const char* sym, const char* module, const std::map<std::string, std::string>* cfg,
            const std::optional<std::string>& moddir, const ModulePlan& plan) {
	bool is_missing = module && std::find(plan.missing.begin(), plan.missing.end(), module) != plan.missing.end();
	if (cfg) {
		auto it = cfg->find(sym);
		if (it != cfg->end() && it->second == "y") return Have::yes;
		if (it != cfg->end() && it->second == "m") return moddir && !is_missing ? Have::yes : Have::no;
		return Have::no;
	}
	if (!moddir) return Have::unknown;
	std::string_view s(sym);
	if (s == "VIRTIO_MMIO_CMDLINE_DEVICES") return mmio_modinfo(*moddir, plan, kCmdlineParm, true);
	if (s == "ACPI") return mmio_modinfo(*moddir, plan, kAcpiAlias, false);
	// Only kGuestModules were resolved; the rest cannot be told apart.
	if (module && std::find(kGuestModules.begin(), kGuestModules.end(), module) != kGuestModules.end())
		return is_missing ? Have::no : Have::yes;
	return Have::unknown;
}

// How the guest finds the virtio-mmio devices (bencher-vmm(1), DEVICE
// DESCRIPTION). With ACPI, in the DSDT, which Linux 6.1 loads only with PCI
// (its ACPICA then has no PCI config handler to install and gives up on
// every table). Without ACPI, from virtio_mmio.device= entries: a kernel
// with ACPI reads the hardware-reduced FADT and maps no ISA interrupt, so
// their IRQs never work for it. PCI is only ever known to be off from a
// config; a modular kernel has it.
constexpr const char* kDiscovery =
    "CONFIG_ACPI with CONFIG_PCI, or CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES without CONFIG_ACPI: a way to find "
    "bencher-vmm's virtio-mmio devices (the ACPI DSDT, which Linux loads only with PCI, or virtio_mmio.device= on "
    "the command line, whose interrupts a kernel with ACPI does not map)";

Have discovery(const std::map<std::string, std::string>* cfg, const std::optional<std::string>& moddir,
               const ModulePlan& plan) {
	Have acpi = symbol("ACPI", nullptr, cfg, moddir, plan);
	if (acpi == Have::yes) return symbol("PCI", nullptr, cfg, moddir, plan) == Have::no ? Have::no : Have::yes;
	if (acpi == Have::no) return symbol("VIRTIO_MMIO_CMDLINE_DEVICES", nullptr, cfg, moddir, plan);
	return Have::unknown;
}

std::string name_of(const char* what) {
	std::string_view w(what);
	return std::string(w.substr(0, w.find(':')));
}

}  // namespace

bool acpi_devices(const std::string& kernel, const std::string& release, const std::optional<std::string>& moddir,
                  const ModulePlan& plan) {
	if (auto f = config_beside(kernel, release)) {
		auto cfg = parse_config(read_regular(*f, kMaxConfigBytes));
		return symbol("ACPI", nullptr, &cfg, moddir, plan) == Have::yes;
	}
	if (moddir)
		if (Have h = mmio_modinfo(*moddir, plan, kAcpiAlias, false); h != Have::unknown) return h == Have::yes;
	Mapping mapped = map_kernel(kernel);
	std::string_view image = view(mapped);
	if (!is_elf(image)) return false;
	auto text = embedded_config(image);
	if (!text) return false;
	auto cfg = parse_config(*text);
	return symbol("ACPI", nullptr, &cfg, moddir, plan) == Have::yes;
}

KernelCheck check_kernel(const std::string& kernel, const std::string& modules_dir) {
	Mapping mapped = map_kernel(kernel);
	std::string_view image = view(mapped);
	KernelCheck r;
	try {
		r.release = kernel_release_of(image);
	} catch (const Error& e) {
		fail(kernel + ": " + e.what());
	}
	std::optional<std::string> text = find_config(kernel, image, r.release, r.config_source);
	std::map<std::string, std::string> cfg = text ? parse_config(*text) : std::map<std::string, std::string>();
	std::optional<std::string> moddir = find_modules_dir(kernel, r.release, modules_dir);
	ModulePlan plan;
	if (moddir) {
		plan = modules_needed(r.release, *moddir);
		for (const auto& p : plan.load) r.modules.push_back(module_name(p));
		r.config_source += (r.config_source.empty() ? "" : ", ") + *moddir;
	}
	const std::map<std::string, std::string>* c = text ? &cfg : nullptr;
	for (const Feature& f : kFeatures) {
		Have h = symbol(f.symbol, f.module, c, moddir, plan);
		if (h == Have::no) r.lacks.push_back(strprintf("CONFIG_%s: %s", f.symbol, f.why));
		if (h == Have::unknown) r.unknown.push_back(strprintf("CONFIG_%s", f.symbol));
	}
	Have d = discovery(c, moddir, plan);
	if (d == Have::no) r.lacks.push_back(kDiscovery);
	if (d == Have::unknown) r.unknown.push_back(name_of(kDiscovery));
	r.acpi = symbol("ACPI", nullptr, c, moddir, plan) == Have::yes;
	if (!text && !moddir)
		r.config_source = "nothing: no embedded config (CONFIG_IKCONFIG), no config file beside the kernel and no "
		                  "modules directory, so everything is taken as built in";
	return r;
}

}  // namespace bencher::vmtest
