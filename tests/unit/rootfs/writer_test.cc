// Unit tests for lib/rootfs: the ext4 writer and the tar reader, driven with
// hostile and edge-case input; every image is checked with the real
// `e2fsck -fn` and read back with libext2fs.
#include <archive.h>
#include <archive_entry.h>
#include <ext2fs/ext2fs.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include <gtest/gtest.h>

#include "common/error.hh"
#include "common/fd.hh"
#include "rootfs/ext4_writer.hh"
#include "rootfs/tar_source.hh"

using namespace bencher;
using namespace bencher::rootfs;

namespace {

// One in-memory chunk list as file data.
class Chunks : public DataReader {
public:
	void add(uint64_t off, std::string data) { chunks_.push_back({off, std::move(data)}); }
	bool next(uint64_t& offset, const void*& data, size_t& len) override {
		if (i_ >= chunks_.size()) return false;
		offset = chunks_[i_].first;
		data = chunks_[i_].second.data();
		len = chunks_[i_].second.size();
		i_++;
		return true;
	}

private:
	std::vector<std::pair<uint64_t, std::string>> chunks_;
	size_t i_ = 0;
};

class Image {
public:
	explicit Image(uint64_t blocks = 16384, uint64_t inodes = 4096) : dir_("rootfs-test"), path_(dir_.path() + "/img") {
		fd_ = open_file(path_, O_RDWR | O_CREAT | O_TRUNC, 0644);
		WriterOptions o;
		o.blocks = blocks;
		o.inodes = inodes;
		o.journal_blocks = 1024;
		o.now = 1700000000;
		o.uuid[0] = 1;
		w_ = std::make_unique<Ext4Writer>(path_, fd_.get(), o);
	}
	Ext4Writer& w() { return *w_; }
	const std::string& path() const { return path_; }
	void finish() {
		w_->finish();
		w_.reset();
	}
	bool fsck_clean() const { return std::system(("e2fsck -fn " + path_ + " >/dev/null 2>&1").c_str()) == 0; }
	// A file's content through libext2fs.
	std::string read(const std::string& name, uint64_t off, size_t len) const {
		ext2_filsys fs = nullptr;
		EXPECT_EQ(ext2fs_open(path_.c_str(), EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &fs), 0);
		ext2_ino_t ino = 0;
		EXPECT_EQ(ext2fs_namei(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, name.c_str(), &ino), 0);
		ext2_file_t f = nullptr;
		EXPECT_EQ(ext2fs_file_open(fs, ino, 0, &f), 0);
		EXPECT_EQ(ext2fs_file_llseek(f, off, EXT2_SEEK_SET, nullptr), 0);
		std::string out(len, '\0');
		unsigned got = 0;
		EXPECT_EQ(ext2fs_file_read(f, out.data(), static_cast<unsigned>(len), &got), 0);
		out.resize(got);
		ext2fs_file_close(f);
		ext2fs_close_free(&fs);
		return out;
	}

private:
	TempDir dir_;
	std::string path_;
	UniqueFd fd_;
	std::unique_ptr<Ext4Writer> w_;
};

Entry file(const std::string& path, uint64_t size, bool sparse = false) {
	Entry e;
	e.path = path;
	e.type = EntryType::regular;
	e.mode = 0644;
	e.size = size;
	e.sparse = sparse;
	return e;
}

Entry node(const std::string& path, EntryType t, const std::string& target = "") {
	Entry e;
	e.path = path;
	e.type = t;
	e.mode = t == EntryType::directory ? 0755 : 0644;
	e.target = target;
	return e;
}

std::string error_of(const std::function<void()>& f) {
	try {
		f();
	} catch (const Error& e) {
		return e.what();
	}
	return "(no error)";
}

}  // namespace

TEST(Writer, EmptyImageIsClean) {
	Image img;
	img.finish();
	EXPECT_TRUE(img.fsck_clean());
}

TEST(Writer, HugeSparseFileAndDeepExtentTree) {
	Image img;
	Chunks far;
	uint64_t tib = uint64_t{1} << 40;
	far.add(tib - 10, "0123456789");
	img.w().add(file("far", tib, true), far);
	// every other block: 3000 extents, two levels of index
	Chunks many;
	for (int i = 0; i < 3000; i++) many.add(uint64_t(i) * 8192 + 7, "b" + std::to_string(i));
	img.w().add(file("many", 3000 * 8192, true), many);
	img.finish();
	EXPECT_TRUE(img.fsck_clean());
	EXPECT_EQ(img.read("far", tib - 10, 10), "0123456789");
	EXPECT_EQ(img.read("far", 0, 4), std::string(4, '\0'));
	EXPECT_EQ(img.read("many", 2999 * 8192 + 7, 5), "b2999");
	EXPECT_EQ(img.read("many", 1234 * 8192 + 5, 8), std::string("\0\0b1234", 7) + '\0');
}

TEST(Writer, ChunksInsideOneBlockKeepEarlierBytes) {
	Image img;
	Chunks c;
	c.add(0, "abc");
	c.add(10, "xyz");  // a sub-block gap in a sparse file
	img.w().add(file("f", 13, true), c);
	img.finish();
	EXPECT_TRUE(img.fsck_clean());
	EXPECT_EQ(img.read("f", 0, 13), std::string("abc\0\0\0\0\0\0\0xyz", 13));
}

TEST(Writer, RefusesDataBeyondSizeAndOutOfOrderSparseData) {
	Image img;
	Chunks c;
	c.add(0, "too long");
	EXPECT_NE(error_of([&] { img.w().add(file("a", 3), c); }).find("a: data beyond the file size"), std::string::npos);
	Chunks back;
	back.add(8192, "x");
	back.add(0, "y");
	EXPECT_NE(error_of([&] { img.w().add(file("b", 9000, true), back); }).find("out of order"), std::string::npos);
}

TEST(Writer, HostileNames) {
	Image img;
	NoData none;
	EXPECT_THROW(img.w().add(node("../x", EntryType::directory), none), Error);
	EXPECT_THROW(img.w().add(node("/etc", EntryType::directory), none), Error);
	img.w().add(node("link", EntryType::symlink, "/etc"), none);
	EXPECT_NE(error_of([&] { img.w().add(node("link/passwd", EntryType::fifo), none); }).find("parent link is a symlink"),
	          std::string::npos);
	EXPECT_NE(error_of([&] { img.w().add(node("h", EntryType::hardlink, "link/passwd"), none); }).find("through a symlink"),
	          std::string::npos);
	img.w().add(node("d", EntryType::directory), none);
	EXPECT_NE(error_of([&] { img.w().add(node("h", EntryType::hardlink, "d"), none); }).find("hard link to directory"),
	          std::string::npos);
	EXPECT_THROW(img.w().add(node("empty-link", EntryType::symlink, ""), none), Error);
	EXPECT_THROW(img.w().add(node("long-link", EntryType::symlink, std::string(5000, 'x')), none), Error);
	EXPECT_THROW(img.w().add(node(".", EntryType::regular), none), Error);
	// what was added before the errors is still a valid file system
	img.finish();
	EXPECT_TRUE(img.fsck_clean());
}

TEST(Writer, XattrsThatDoNotFit) {
	Image img;
	NoData none;
	Entry x = node("x", EntryType::regular);
	x.xattrs.push_back({"user.big", std::string(8000, 'v')});
	EXPECT_NE(error_of([&] { img.w().add(x, none); }).find("x: xattr user.big: does not fit"), std::string::npos);
}

TEST(Writer, OutOfSpaceAndOutOfInodes) {
	{
		Image img(2048, 256);
		Chunks c;
		c.add(0, std::string(16 << 20, 'x'));
		EXPECT_THROW(img.w().add(file("big", 16 << 20), c), OutOfSpace);
	}
	{
		Image img(4096, 64);
		NoData none;
		EXPECT_THROW(
		    {
			    for (int i = 0; i < 100; i++) img.w().add(node("f" + std::to_string(i), EntryType::fifo), none);
		    },
		    OutOfSpace);
	}
}

TEST(Writer, ReplaceRemovesWholeTrees) {
	Image img;
	NoData none;
	img.w().add(node("b", EntryType::directory), none);
	img.w().add(node("b/c", EntryType::directory), none);
	Chunks c;
	c.add(0, "data");
	img.w().add(file("b/c/f", 4), c);
	EXPECT_THROW(img.w().add(node("b", EntryType::regular), none), Error);  // tar: not over a non-empty dir
	img.w().replace(node("b", EntryType::symlink, "elsewhere"), none);       // --init: whatever was there
	img.finish();
	EXPECT_TRUE(img.fsck_clean());
}

namespace {

// A tar in memory via libarchive's writer, fed through a pipe-like memfd.
struct TarBuilder {
	std::string bytes;
	archive* a;
	TarBuilder() {
		a = archive_write_new();
		archive_write_set_format_pax(a);
		archive_write_open(a, this, nullptr, [](archive*, void* ud, const void* buf, size_t n) -> la_ssize_t {
			static_cast<TarBuilder*>(ud)->bytes.append(static_cast<const char*>(buf), n);
			return static_cast<la_ssize_t>(n);
		}, nullptr);
	}
	void add(const std::string& name, const std::string& data, int64_t uid = 0,
	         const std::vector<std::pair<std::string, std::string>>& xattrs = {}) {
		archive_entry* e = archive_entry_new();
		archive_entry_set_pathname(e, name.c_str());
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
		archive_entry_set_uid(e, uid);
		for (auto& [k, v] : xattrs) archive_entry_xattr_add_entry(e, k.c_str(), v.data(), v.size());
		archive_write_header(a, e);
		archive_write_data(a, data.data(), data.size());
		archive_entry_free(e);
	}
	std::string finish() {
		archive_write_close(a);
		archive_write_free(a);
		return bytes;
	}
};

UniqueFd memfd(const std::string& bytes) {
	UniqueFd fd(memfd_create("tar", MFD_CLOEXEC));
	write_all(fd.get(), bytes, "memfd");
	lseek(fd.get(), 0, SEEK_SET);
	return fd;
}

std::string read_tar_error(const std::string& bytes) {
	UniqueFd fd = memfd(bytes);
	return error_of([&] {
		TarReader r(fd.get(), "input");
		Estimate est;
		scan_rest(r, est);
	});
}

}  // namespace

TEST(TarReader, ReadsEntriesAndData) {
	TarBuilder t;
	t.add("a", "hello", 1000, {{"user.k", "v"}, {"security.capability", std::string("\x01\0\0\x02", 4)}});
	t.add("b/c", std::string(100000, 'z'));
	UniqueFd fd = memfd(t.finish());
	TarReader r(fd.get(), "input");
	Entry e;
	ASSERT_TRUE(r.next(e));
	EXPECT_EQ(e.path, "a");
	EXPECT_EQ(e.uid, 1000u);
	EXPECT_EQ(e.size, 5u);
	ASSERT_EQ(e.xattrs.size(), 2u);
	EXPECT_EQ(e.xattrs[1].value, std::string("\x01\0\0\x02", 4));
	ASSERT_TRUE(r.next(e));  // the first entry's data is skipped
	EXPECT_EQ(e.path, "b/c");
	std::string data;
	uint64_t off;
	const void* p;
	size_t n;
	while (r.data().next(off, p, n)) {
		EXPECT_EQ(off, data.size());
		data.append(static_cast<const char*>(p), n);
	}
	EXPECT_EQ(data, std::string(100000, 'z'));
	EXPECT_FALSE(r.next(e));
}

TEST(TarReader, HostileInput) {
	TarBuilder t;
	t.add("a", std::string(50000, 'x'));
	std::string good = t.finish();
	EXPECT_NE(read_tar_error(std::string(4096, '\x7f')).find("input: not a tar archive"), std::string::npos);
	EXPECT_NE(read_tar_error("").find("input: "), std::string::npos);
	std::string cut = read_tar_error(good.substr(0, 20000));
	EXPECT_NE(cut.find("input: "), std::string::npos);
	EXPECT_NE(cut.find("runcated"), std::string::npos) << cut;
	std::string header_garbage = good;
	memset(&header_garbage[100], 'Q', 50);  // mode/uid/gid/size fields: checksum mismatch
	EXPECT_NE(read_tar_error(header_garbage), "(no error)");

	TarBuilder big;
	big.add("x", "", 0, {{"user.huge", std::string(100000, 'v')}});
	EXPECT_NE(read_tar_error(big.finish()).find("extended attributes too large"), std::string::npos);
	TarBuilder owner;
	owner.add("x", "", int64_t{1} << 40);
	EXPECT_NE(read_tar_error(owner.finish()).find("owner out of range"), std::string::npos);
}
