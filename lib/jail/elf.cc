// elf.cc: ELF program headers and the dynamic section, just enough to find
// PT_INTERP, DT_NEEDED, DT_RPATH and DT_RUNPATH; then a breadth-first walk of
// the libraries as ld.so would search for them.
#include "jail/elf.hh"

#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <deque>
#include <map>
#include <set>

#include "common/error.hh"
#include "common/fd.hh"

namespace bencher::jail {

namespace {

#if defined(__x86_64__)
constexpr uint16_t kMachine = EM_X86_64;
constexpr const char* kTriplet = "x86_64-linux-gnu";
#elif defined(__aarch64__)
constexpr uint16_t kMachine = EM_AARCH64;
constexpr const char* kTriplet = "aarch64-linux-gnu";
#else
#error "unsupported architecture"
#endif

constexpr uint16_t kMaxPhdrs = 4096;
constexpr uint64_t kMaxDynamic = 1 << 20;
constexpr size_t kMaxNeeded = 1024;
constexpr size_t kMaxString = PATH_MAX;

struct Reader {
	const PreadFn& pread_fn;
	uint64_t size;
	const std::string& name;

	void read(void* buf, size_t len, uint64_t off, const char* what) const {
		if (off > size || len > size - off) fail(strprintf("%s: %s lies outside the file", name.c_str(), what));
		if (pread_fn(buf, len, off) != len) fail(strprintf("%s: %s: short read", name.c_str(), what));
	}
};

void check_header(const Elf64_Ehdr& eh, const std::string& name) {
	if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
		fail(strprintf("%s: not an ELF program (a script cannot start in an empty jail: jail its interpreter "
			       "instead)",
			       name.c_str()));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != kMachine)
		fail(strprintf("%s: ELF file for another machine", name.c_str()));
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) fail(strprintf("%s: not an executable or shared object", name.c_str()));
	if (eh.e_phentsize != sizeof(Elf64_Phdr) && eh.e_phnum != 0)
		fail(strprintf("%s: unexpected program header size", name.c_str()));
	if (eh.e_phnum > kMaxPhdrs) fail(strprintf("%s: too many program headers", name.c_str()));
}

std::vector<std::string> split_path_list(const std::string& s) {
	std::vector<std::string> out;
	size_t i = 0;
	while (i <= s.size()) {
		size_t j = s.find(':', i);
		if (j == std::string::npos) j = s.size();
		if (j > i) out.push_back(s.substr(i, j - i));
		i = j + 1;
	}
	return out;
}

std::string read_interp(const Reader& r, const Elf64_Phdr& p) {
	const std::string& name = r.name;
	if (p.p_filesz < 2 || p.p_filesz > kMaxString) fail(strprintf("%s: bad PT_INTERP size", name.c_str()));
	std::string s(p.p_filesz, '\0');
	r.read(s.data(), s.size(), p.p_offset, "PT_INTERP");
	if (s.back() != '\0' || std::strlen(s.c_str()) != s.size() - 1 || s[0] != '/')
		fail(strprintf("%s: malformed PT_INTERP", name.c_str()));
	s.pop_back();
	return s;
}

// What the dynamic section refers to: the string table (an address) and
// the offsets of the strings in it.
struct DynamicRefs {
	uint64_t strtab = 0, strsz = 0;
	bool have_strtab = false;
	std::vector<uint64_t> needed, rpath, runpath;
};

DynamicRefs read_dynamic(const Reader& r, const Elf64_Phdr& dyn) {
	const std::string& name = r.name;
	if (dyn.p_filesz > kMaxDynamic) fail(strprintf("%s: dynamic section too large", name.c_str()));
	std::vector<Elf64_Dyn> d(dyn.p_filesz / sizeof(Elf64_Dyn));
	if (!d.empty()) r.read(d.data(), d.size() * sizeof(Elf64_Dyn), dyn.p_offset, "dynamic section");
	DynamicRefs refs;
	for (const Elf64_Dyn& e : d) {
		if (e.d_tag == DT_NULL) break;
		switch (e.d_tag) {
		case DT_STRTAB: refs.strtab = e.d_un.d_ptr; refs.have_strtab = true; break;
		case DT_STRSZ: refs.strsz = e.d_un.d_val; break;
		case DT_NEEDED:
			if (refs.needed.size() >= kMaxNeeded) fail(strprintf("%s: too many DT_NEEDED entries", name.c_str()));
			refs.needed.push_back(e.d_un.d_val);
			break;
		case DT_RPATH: refs.rpath.push_back(e.d_un.d_val); break;
		case DT_RUNPATH: refs.runpath.push_back(e.d_un.d_val); break;
		default: break;
		}
	}
	return refs;
}

// DT_STRTAB is an address: the file offset of the PT_LOAD segment holding
// it, checked to leave the whole table inside the file.
uint64_t strtab_offset(const Reader& r, const std::vector<Elf64_Phdr>& ph, const DynamicRefs& refs) {
	const std::string& name = r.name;
	if (!refs.have_strtab) fail(strprintf("%s: dynamic section without DT_STRTAB", name.c_str()));
	for (const Elf64_Phdr& p : ph) {
		if (p.p_type != PT_LOAD || refs.strtab < p.p_vaddr || refs.strtab - p.p_vaddr >= p.p_filesz) continue;
		uint64_t off = p.p_offset + (refs.strtab - p.p_vaddr);
		if (off < p.p_offset) fail(strprintf("%s: DT_STRTAB overflows", name.c_str()));
		if (refs.strsz == 0 || refs.strsz > r.size || off > r.size - refs.strsz)
			fail(strprintf("%s: string table lies outside the file", name.c_str()));
		return off;
	}
	fail(strprintf("%s: DT_STRTAB is outside every loaded segment", name.c_str()));
}

}  // namespace

ElfInfo parse_elf(const PreadFn& pread_fn, uint64_t file_size, const std::string& name) {
	Reader r{pread_fn, file_size, name};
	Elf64_Ehdr eh;
	std::memset(&eh, 0, sizeof eh);
	if (file_size >= SELFMAG) r.read(&eh, SELFMAG, 0, "ELF magic");
	if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0) r.read(&eh, sizeof eh, 0, "ELF header");
	check_header(eh, name);

	std::vector<Elf64_Phdr> ph(eh.e_phnum);
	if (!ph.empty()) r.read(ph.data(), ph.size() * sizeof(Elf64_Phdr), eh.e_phoff, "program headers");

	ElfInfo info;
	const Elf64_Phdr* dyn = nullptr;
	for (const Elf64_Phdr& p : ph) {
		if (p.p_type == PT_INTERP) info.interp = read_interp(r, p);
		else if (p.p_type == PT_DYNAMIC) dyn = &p;
	}
	if (dyn == nullptr) return info;
	DynamicRefs refs = read_dynamic(r, *dyn);
	if (refs.needed.empty() && refs.rpath.empty() && refs.runpath.empty()) return info;
	uint64_t str_off = strtab_offset(r, ph, refs);
	auto string_at = [&](uint64_t off) {
		if (off >= refs.strsz) fail(strprintf("%s: string offset outside the string table", name.c_str()));
		size_t len = std::min<uint64_t>(refs.strsz - off, kMaxString + 1);
		std::string s(len, '\0');
		r.read(s.data(), len, str_off + off, "dynamic string");
		size_t nul = s.find('\0');
		if (nul == std::string::npos) fail(strprintf("%s: unterminated or overlong dynamic string", name.c_str()));
		s.resize(nul);
		return s;
	};
	for (uint64_t off : refs.needed) {
		std::string s = string_at(off);
		if (s.empty()) fail(strprintf("%s: empty DT_NEEDED name", name.c_str()));
		info.needed.push_back(s);
	}
	for (uint64_t off : refs.rpath)
		for (auto& p : split_path_list(string_at(off))) info.rpath.push_back(p);
	for (uint64_t off : refs.runpath)
		for (auto& p : split_path_list(string_at(off))) info.runpath.push_back(p);
	info.has_runpath = !refs.runpath.empty();
	return info;
}

ElfInfo parse_elf_fd(int fd, const std::string& name) {
	struct stat st;
	if (fstat(fd, &st) != 0) fail_errno(name);
	if (!S_ISREG(st.st_mode)) fail(strprintf("%s: not a regular file", name.c_str()));
	PreadFn fn = [fd](void* buf, size_t len, uint64_t off) -> size_t {
		size_t done = 0;
		while (done < len) {
			ssize_t n = pread(fd, static_cast<char*>(buf) + done, len - done, static_cast<off_t>(off + done));
			if (n < 0 && errno == EINTR) continue;
			if (n <= 0) break;
			done += static_cast<size_t>(n);
		}
		return done;
	};
	return parse_elf(fn, static_cast<uint64_t>(st.st_size), name);
}

ElfInfo parse_elf_bytes(std::string_view data, const std::string& name) {
	PreadFn fn = [data](void* buf, size_t len, uint64_t off) -> size_t {
		if (off >= data.size()) return 0;
		size_t n = std::min<uint64_t>(len, data.size() - off);
		std::memcpy(buf, data.data() + off, n);
		return n;
	};
	return parse_elf(fn, data.size(), name);
}

bool elf_matches_host(int fd) {
	Elf64_Ehdr eh;
	if (pread(fd, &eh, sizeof eh, 0) != static_cast<ssize_t>(sizeof eh)) return false;
	return std::memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 && eh.e_ident[EI_CLASS] == ELFCLASS64 &&
	       eh.e_ident[EI_DATA] == ELFDATA2LSB && eh.e_machine == kMachine;
}

LibrarySearch default_search() {
	LibrarySearch s;
	std::string t = kTriplet;
	s.system_dirs = {"/lib/" + t, "/usr/lib/" + t, "/lib64", "/usr/lib64", "/lib", "/usr/lib"};
	return s;
}

namespace {

std::string dirname_of(const std::string& p) {
	size_t slash = p.rfind('/');
	if (slash == std::string::npos) return ".";
	return slash == 0 ? "/" : p.substr(0, slash);
}

std::string real_path(const std::string& p) {
	char buf[PATH_MAX];
	if (realpath(p.c_str(), buf) == nullptr) fail_errno(p);
	return buf;
}

std::string expand_origin(const std::string& dir, const std::string& origin) {
	std::string out = dir;
	for (const char* tok : {"${ORIGIN}", "$ORIGIN"}) {
		size_t pos;
		while ((pos = out.find(tok)) != std::string::npos) out.replace(pos, std::strlen(tok), origin);
	}
	return out;
}

}  // namespace

std::vector<JailFile> program_dependencies(int exec_fd, const std::string& exec_path, const LibrarySearch& search) {
	ElfInfo exe = parse_elf_fd(exec_fd, exec_path);
	std::vector<JailFile> out;
	if (exe.interp.empty()) return out;  // static: nothing to bring along

	std::set<std::string> placed;  // jail paths
	auto add = [&](const std::string& jail_path, const std::string& host_path) {
		if (!placed.insert(jail_path).second) return false;
		if (out.size() >= search.max_libraries)
			fail(strprintf("%s: more than %zu libraries", exec_path.c_str(), search.max_libraries));
		out.push_back({jail_path, real_path(host_path)});
		return true;
	};
	{
		UniqueFd f(open(exe.interp.c_str(), O_RDONLY | O_CLOEXEC));
		if (!f) fail(strprintf("%s: its ELF interpreter %s: %s", exec_path.c_str(), exe.interp.c_str(), strerror(errno)));
		add(exe.interp, exe.interp);
	}

	std::string exe_origin = dirname_of(real_path(exec_path));
	struct Pending {
		std::string name;       // as in DT_NEEDED
		std::vector<std::string> dirs;  // the requesting object's search list
		std::string requester;
	};
	auto search_dirs = [&](const ElfInfo& obj, const std::string& origin) {
		std::vector<std::string> dirs;
		if (!obj.has_runpath) {
			for (auto& d : obj.rpath) dirs.push_back(expand_origin(d, origin));
			if (!exe.has_runpath)
				for (auto& d : exe.rpath) dirs.push_back(expand_origin(d, exe_origin));
		}
		for (auto& d : obj.runpath) dirs.push_back(expand_origin(d, origin));
		for (auto& d : search.system_dirs) dirs.push_back(d);
		return dirs;
	};
	std::deque<Pending> queue;
	std::set<std::string> seen_names;
	for (auto& n : exe.needed) queue.push_back({n, search_dirs(exe, exe_origin), exec_path});
	while (!queue.empty()) {
		Pending p = std::move(queue.front());
		queue.pop_front();
		if (!seen_names.insert(p.name).second) continue;
		std::string found;
		UniqueFd fd;
		if (p.name.find('/') != std::string::npos) {
			fd.reset(open(p.name.c_str(), O_RDONLY | O_CLOEXEC));
			if (fd) found = p.name;
		} else {
			for (auto& d : p.dirs) {
				if (d.empty() || d[0] != '/') continue;  // relative dirs mean nothing in the jail
				std::string cand = d + "/" + p.name;
				UniqueFd f(open(cand.c_str(), O_RDONLY | O_CLOEXEC));
				if (f && elf_matches_host(f.get())) {
					found = cand;
					fd = std::move(f);
					break;
				}
			}
		}
		if (found.empty())
			fail(strprintf("%s: library %s (needed by %s) not found in its RPATH/RUNPATH or the system "
				       "library directories",
				       exec_path.c_str(), p.name.c_str(), p.requester.c_str()));
		if (!add(found, found)) continue;
		ElfInfo lib = parse_elf_fd(fd.get(), found);
		std::string origin = dirname_of(out.back().host_path);
		for (auto& n : lib.needed) queue.push_back({n, search_dirs(lib, origin), found});
	}
	return out;
}

}  // namespace bencher::jail
