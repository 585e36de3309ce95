// Unit tests for lib/jail/elf: real programs from this host, a synthetic
// ELF with every field the parser reads, and hostile variants of it.
#include "jail/elf.hh"

#include <elf.h>
#include <fcntl.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "common/error.hh"
#include "common/fd.hh"
#include "../common/error_of.hh"

using bencher::Error;
using bencher::test::error_of;
namespace jail = bencher::jail;

namespace {

// A small, valid dynamic ELF: PT_LOAD over the whole file, PT_INTERP,
// PT_DYNAMIC with two DT_NEEDED and a DT_RUNPATH.
struct Synthetic {
	std::string bytes = std::string(2048, '\0');
	Elf64_Ehdr* eh() { return reinterpret_cast<Elf64_Ehdr*>(bytes.data()); }
	Elf64_Phdr* ph(int i) { return reinterpret_cast<Elf64_Phdr*>(bytes.data() + 64 + i * sizeof(Elf64_Phdr)); }
	Elf64_Dyn* dyn(int i) { return reinterpret_cast<Elf64_Dyn*>(bytes.data() + 1024 + i * sizeof(Elf64_Dyn)); }
	static constexpr uint64_t kBase = 0x400000;
	Synthetic() {
		Elf64_Ehdr& e = *eh();
		std::memcpy(e.e_ident, ELFMAG, SELFMAG);
		e.e_ident[EI_CLASS] = ELFCLASS64;
		e.e_ident[EI_DATA] = ELFDATA2LSB;
		e.e_ident[EI_VERSION] = EV_CURRENT;
		e.e_type = ET_DYN;
		e.e_machine = EM_X86_64;
		e.e_phoff = 64;
		e.e_phentsize = sizeof(Elf64_Phdr);
		e.e_phnum = 3;
		*ph(0) = {PT_LOAD, PF_R, 0, kBase, kBase, 2048, 2048, 4096};
		const char interp[] = "/lib64/ld-test.so.2";
		std::memcpy(bytes.data() + 256, interp, sizeof interp);
		*ph(1) = {PT_INTERP, PF_R, 256, kBase + 256, kBase + 256, sizeof interp, sizeof interp, 1};
		const char strtab[] = "\0libc.so.6\0libfoo.so\0$ORIGIN/lib:/opt/x";
		std::memcpy(bytes.data() + 512, strtab, sizeof strtab);
		*ph(2) = {PT_DYNAMIC, PF_R, 1024, kBase + 1024, kBase + 1024, 6 * sizeof(Elf64_Dyn), 6 * sizeof(Elf64_Dyn), 8};
		*dyn(0) = {DT_NEEDED, {1}};
		*dyn(1) = {DT_NEEDED, {11}};
		*dyn(2) = {DT_RUNPATH, {21}};
		*dyn(3) = {DT_STRTAB, {kBase + 512}};
		*dyn(4) = {DT_STRSZ, {sizeof strtab}};
		*dyn(5) = {DT_NULL, {0}};
	}
	jail::ElfInfo parse() { return jail::parse_elf_bytes(bytes, "syn"); }
};

}  // namespace

#if defined(__x86_64__)
TEST(Elf, Synthetic) {
	Synthetic s;
	jail::ElfInfo i = s.parse();
	EXPECT_EQ(i.interp, "/lib64/ld-test.so.2");
	EXPECT_EQ(i.needed, (std::vector<std::string>{"libc.so.6", "libfoo.so"}));
	EXPECT_TRUE(i.has_runpath);
	EXPECT_EQ(i.runpath, (std::vector<std::string>{"$ORIGIN/lib", "/opt/x"}));
}

TEST(Elf, HostileHeaders) {
	auto err = [](const std::function<void(Synthetic&)>& mutate) {
		Synthetic s;
		mutate(s);
		return error_of([&] { s.parse(); });
	};
	EXPECT_NE(err([](Synthetic& s) { s.bytes = "#!/bin/sh\necho hi\n" + std::string(100, ' '); }).find("script"),
		  std::string::npos);
	EXPECT_NE(err([](Synthetic& s) { s.bytes.resize(10); }).find("outside the file"), std::string::npos);
	EXPECT_NE(err([](Synthetic& s) { s.eh()->e_ident[EI_CLASS] = ELFCLASS32; }).find("another machine"),
		  std::string::npos);
	EXPECT_NE(err([](Synthetic& s) { s.eh()->e_machine = EM_AARCH64; }).find("another machine"), std::string::npos);
	EXPECT_NE(err([](Synthetic& s) { s.eh()->e_type = ET_REL; }).find("not an executable"), std::string::npos);
	EXPECT_NE(err([](Synthetic& s) { s.eh()->e_phoff = UINT64_MAX - 10; }).find("outside the file"),
		  std::string::npos);
	EXPECT_NE(err([](Synthetic& s) { s.eh()->e_phnum = 65535; }).find("too many"), std::string::npos);
	EXPECT_NE(err([](Synthetic& s) { s.eh()->e_phentsize = 32; }).find("program header size"), std::string::npos);
}

TEST(Elf, HostileSegments) {
	auto err = [](const std::function<void(Synthetic&)>& mutate) {
		Synthetic s;
		mutate(s);
		return error_of([&] { s.parse(); });
	};
	EXPECT_NE(err([](Synthetic& s) { s.ph(1)->p_offset = UINT64_MAX; }).find("PT_INTERP"), std::string::npos);
	EXPECT_NE(err([](Synthetic& s) { s.ph(1)->p_filesz = 1 << 30; }).find("PT_INTERP"), std::string::npos);
	EXPECT_NE(err([](Synthetic& s) { s.bytes[256 + 19] = 'x'; }).find("PT_INTERP"), std::string::npos);
	EXPECT_NE(err([](Synthetic& s) { s.bytes[256] = 'l'; }).find("PT_INTERP"), std::string::npos);
	EXPECT_NE(err([](Synthetic& s) { s.ph(2)->p_filesz = 1ull << 40; }).find("dynamic section"), std::string::npos);
	EXPECT_NE(err([](Synthetic& s) { s.ph(2)->p_offset = 2040; }).find("outside the file"), std::string::npos);
	EXPECT_NE(err([](Synthetic& s) { s.dyn(3)->d_un.d_ptr = 0x10; }).find("DT_STRTAB"), std::string::npos);
	EXPECT_NE(err([](Synthetic& s) { s.dyn(3)->d_tag = DT_SYMTAB; }).find("DT_STRTAB"), std::string::npos);
	EXPECT_NE(err([](Synthetic& s) { s.dyn(4)->d_un.d_val = UINT64_MAX; }).find("string table"), std::string::npos);
	EXPECT_NE(err([](Synthetic& s) { s.dyn(4)->d_un.d_val = 0; }).find("string table"), std::string::npos);
	EXPECT_NE(err([](Synthetic& s) { s.dyn(0)->d_un.d_val = 5000; }).find("string offset"), std::string::npos);
	EXPECT_NE(err([](Synthetic& s) { s.dyn(0)->d_un.d_val = 0; }).find("empty DT_NEEDED"), std::string::npos);
	// The last string runs to the end of the table without a NUL.
	EXPECT_NE(err([](Synthetic& s) { s.dyn(4)->d_un.d_val -= 1; }).find("unterminated"), std::string::npos);
	// PT_LOAD whose offset + delta wraps around.
	EXPECT_THROW(
		{
			Synthetic s;
			s.ph(0)->p_offset = UINT64_MAX - 100;
			s.parse();
		},
		Error);
}

// Random corruption of the synthetic file and of a real program's first
// pages: every outcome is a parse or an Error, never a crash or a hang.
TEST(Elf, MutationsNeverCrash) {
	std::mt19937_64 rng(42);
	std::vector<std::string> bases = {Synthetic().bytes};
	{
		bencher::UniqueFd fd(open("/bin/cat", O_RDONLY | O_CLOEXEC));
		if (fd) {
			std::string head(16384, '\0');
			head.resize(static_cast<size_t>(pread(fd.get(), head.data(), head.size(), 0)));
			bases.push_back(head);
		}
	}
	int parsed = 0, refused = 0;
	for (int iter = 0; iter < 20000; iter++) {
		std::string b = bases[iter % bases.size()];
		int flips = 1 + static_cast<int>(rng() % 8);
		for (int k = 0; k < flips; k++) {
			size_t pos = rng() % std::min<size_t>(b.size(), iter % 3 == 0 ? b.size() : 2048);
			b[pos] = static_cast<char>(rng());
		}
		if (rng() % 10 == 0) b.resize(rng() % b.size());
		try {
			jail::parse_elf_bytes(b, "mutant");
			parsed++;
		} catch (const Error&) {
			refused++;
		}
	}
	EXPECT_GT(parsed, 0);
	EXPECT_GT(refused, 0);
}

TEST(Elf, RealPrograms) {
	bencher::UniqueFd cat(open("/bin/cat", O_RDONLY | O_CLOEXEC));
	ASSERT_TRUE(cat.valid());
	jail::ElfInfo i = jail::parse_elf_fd(cat.get(), "/bin/cat");
	EXPECT_EQ(i.interp, "/lib64/ld-linux-x86-64.so.2");
	EXPECT_NE(std::find(i.needed.begin(), i.needed.end(), "libc.so.6"), i.needed.end());

	bencher::UniqueFd bb(open("/bin/busybox", O_RDONLY | O_CLOEXEC));
	if (bb) {
		jail::ElfInfo s = jail::parse_elf_fd(bb.get(), "/bin/busybox");
		EXPECT_EQ(s.interp, "");
		EXPECT_TRUE(s.needed.empty());
		EXPECT_TRUE(jail::program_dependencies(bb.get(), "/bin/busybox").empty());
	}
}

TEST(Elf, DependenciesOfLs) {
	bencher::UniqueFd ls(open("/bin/ls", O_RDONLY | O_CLOEXEC));
	ASSERT_TRUE(ls.valid());
	auto deps = jail::program_dependencies(ls.get(), "/bin/ls");
	std::vector<std::string> paths;
	for (auto& d : deps) {
		paths.push_back(d.jail_path);
		EXPECT_EQ(d.host_path[0], '/');
		EXPECT_EQ(access(d.host_path.c_str(), R_OK), 0) << d.host_path;
	}
	EXPECT_EQ(paths[0], "/lib64/ld-linux-x86-64.so.2");
	auto has = [&](const std::string& p) { return std::find(paths.begin(), paths.end(), p) != paths.end(); };
	EXPECT_TRUE(has("/lib/x86_64-linux-gnu/libc.so.6"));
	EXPECT_TRUE(has("/lib/x86_64-linux-gnu/libselinux.so.1"));
	EXPECT_TRUE(has("/lib/x86_64-linux-gnu/libpcre2-8.so.0"));  // needed by libselinux: transitive
	std::sort(paths.begin(), paths.end());
	EXPECT_EQ(std::unique(paths.begin(), paths.end()), paths.end());
}

TEST(Elf, MissingLibraryNamed) {
	bencher::UniqueFd cat(open("/bin/cat", O_RDONLY | O_CLOEXEC));
	ASSERT_TRUE(cat.valid());
	jail::LibrarySearch nowhere;
	nowhere.system_dirs = {"/nonexistent"};
	EXPECT_NE(error_of([&] { jail::program_dependencies(cat.get(), "/bin/cat", nowhere); })
			  .find("library libc.so.6 (needed by /bin/cat) not found"),
		  std::string::npos);
	bencher::UniqueFd sh(open("/etc/passwd", O_RDONLY | O_CLOEXEC));
	EXPECT_NE(error_of([&] { jail::program_dependencies(sh.get(), "/etc/passwd"); }).find("not an ELF"),
		  std::string::npos);
}
#endif
