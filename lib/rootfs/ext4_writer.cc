// ext4_writer.cc: the ext4 writer over libext2fs (see ext4_writer.hh).
// libext2fs does the file system bookkeeping (bitmaps, group descriptors,
// inode tables, xattrs, journal, checksums); file data, extent trees and
// directory blocks are laid out here and written in large sequential writes,
// since per-block library I/O is what makes `mke2fs -d` slow.
#include "rootfs/ext4_writer.hh"

#include <ext2fs/ext2fs.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "common/digest.hh"
#include "common/fd.hh"
#include "common/log.hh"
#include "rootfs/estimate.hh"
#include "rootfs/path.hh"

namespace bencher::rootfs {

namespace {

constexpr size_t kBs = kBlockSize;
constexpr uint64_t kMaxExtentLen = 32768;                         // initialized extent
constexpr uint16_t kExtentsPerBlock = (kBs - 12) / 12;            // 340
constexpr uint32_t kMaxLinks = 65000;                             // EXT4_LINK_MAX
constexpr size_t kStageBytes = 1 << 20;
constexpr size_t kDirTail = sizeof(ext2_dir_entry_tail);

bool is_space_error(errcode_t err) {
	return err == EXT2_ET_BLOCK_ALLOC_FAIL || err == EXT2_ET_INODE_ALLOC_FAIL || err == EXT2_ET_DIR_NO_SPACE ||
	       err == EXT2_ET_TOOSMALL || err == EXT2_ET_RES_GDT_BLOCKS;
}

void check(errcode_t err, const std::string& what) {
	if (!err) return;
	std::string msg = what + ": " + error_message(err);
	if (is_space_error(err)) throw OutOfSpace(msg);
	fail(msg);
}

// ext4's 34-bit seconds plus nanoseconds encoding.
void set_time(__u32& base, __u32& extra, Timestamp t) {
	int64_t sec = std::clamp<int64_t>(t.sec, INT32_MIN, (int64_t{1} << 34) + INT32_MIN - 1);
	uint32_t nsec = t.nsec < 1000000000 ? t.nsec : 0;
	base = static_cast<uint32_t>(sec);
	uint32_t epoch = static_cast<uint32_t>(((sec - static_cast<int32_t>(static_cast<uint32_t>(sec))) >> 32) & 3);
	extra = (nsec << 2) | epoch;
}

uint8_t ftype_of(EntryType t) {
	switch (t) {
	case EntryType::regular: return EXT2_FT_REG_FILE;
	case EntryType::directory: return EXT2_FT_DIR;
	case EntryType::symlink: return EXT2_FT_SYMLINK;
	case EntryType::chardev: return EXT2_FT_CHRDEV;
	case EntryType::blockdev: return EXT2_FT_BLKDEV;
	case EntryType::fifo: return EXT2_FT_FIFO;
	case EntryType::socket: return EXT2_FT_SOCK;
	case EntryType::hardlink: break;
	}
	return EXT2_FT_UNKNOWN;
}

uint32_t mode_bits(EntryType t) {
	switch (t) {
	case EntryType::regular: return LINUX_S_IFREG;
	case EntryType::directory: return LINUX_S_IFDIR;
	case EntryType::symlink: return LINUX_S_IFLNK;
	case EntryType::chardev: return LINUX_S_IFCHR;
	case EntryType::blockdev: return LINUX_S_IFBLK;
	case EntryType::fifo: return LINUX_S_IFIFO;
	case EntryType::socket: return LINUX_S_IFSOCK;
	case EntryType::hardlink: break;
	}
	return 0;
}

bool xattr_name_supported(const std::string& n) {
	for (const char* p : {"user.", "trusted.", "security."})
		if (n.size() > strlen(p) && n.compare(0, strlen(p), p) == 0) return true;
	return n == "system.posix_acl_access" || n == "system.posix_acl_default";
}

// Collects file data and directory/extent blocks into large sequential
// pwrite()s. Positions are byte offsets in the image; every block touched
// is written whole (zero padded), so reused blocks never leak stale bytes.
class BlockWriter {
public:
	explicit BlockWriter(int fd) : fd_(fd), buf_(kStageBytes) {}

	void put(uint64_t pos, const void* data, size_t len) {
		const char* p = static_cast<const char*>(data);
		if (used_) {
			uint64_t end = start_ + used_;
			if (pos > end && pos < align(end)) zeros(pos - end);  // a gap inside the same block
			else if (pos != end) {
				pad();
				if (pos != start_ + used_) flush();
			}
		}
		if (!used_) {
			start_ = pos & ~uint64_t{kBs - 1};
			size_t lead = pos - start_;
			// Large aligned data goes straight from the caller's buffer.
			if (!lead && len >= buf_.size()) {
				size_t direct = len & ~(kBs - 1);
				pwrite_all(p, direct, pos);
				pos += direct, p += direct, len -= direct;
				start_ = pos;
			} else {
				memset(buf_.data(), 0, lead);
				used_ = lead;
			}
		}
		while (len) {
			size_t take = std::min(len, buf_.size() - used_);
			memcpy(buf_.data() + used_, p, take);
			used_ += take, p += take, len -= take;
			if (used_ == buf_.size()) flush();
		}
	}
	void flush() {
		pad();
		if (used_) pwrite_all(buf_.data(), used_, start_);
		start_ += used_;
		used_ = 0;
	}

private:
	static uint64_t align(uint64_t v) { return (v + kBs - 1) & ~uint64_t{kBs - 1}; }
	void zeros(size_t n) {
		memset(buf_.data() + used_, 0, n);
		used_ += n;
	}
	void pad() {
		if (used_ % kBs) zeros(kBs - used_ % kBs);
	}
	void pwrite_all(const void* p, size_t n, uint64_t off) {
		const char* c = static_cast<const char*>(p);
		while (n) {
			ssize_t w = ::pwrite(fd_, c, n, static_cast<off_t>(off));
			if (w < 0) {
				if (errno == EINTR) continue;
				if (errno == ENOSPC) throw OutOfSpace(errno_message("write image", errno));
				fail_errno("write image");
			}
			c += w, n -= static_cast<size_t>(w), off += static_cast<uint64_t>(w);
		}
	}

	int fd_;
	std::vector<char> buf_;
	uint64_t start_ = 0;
	size_t used_ = 0;
};

struct Run {
	uint64_t lblk, pblk, len;
};

struct Child {
	uint32_t ino;
	uint8_t ftype;
	int32_t dir;  // index into dirs_ for directories, else -1
};

struct Dir {
	uint32_t ino;
	uint32_t parent;
	std::map<std::string, Child> children;  // sorted: deterministic blocks
	uint32_t subdirs = 0;
	uint32_t min_blocks = 1;
	bool live = true;
};

}  // namespace

struct Ext4Writer::Impl {
	ext2_filsys fs = nullptr;
	WriterOptions opts;
	BlockWriter out;
	std::vector<Dir> dirs;
	uint64_t cursor = 0;
	uint32_t next_ino = 0;
	std::vector<Run> runs;

	int out_fd;
	Impl(int fd, const WriterOptions& o) : opts(o), out(fd), out_fd(fd) {}
	~Impl() {
		if (fs) ext2fs_free(fs);
	}

	void init(const std::string& path);
	void set_identity();
	void make_root();
	void finish();
	void add(const Entry& e, DataReader& data, bool force);
	void ensure_dir(const std::string& path, uint32_t mode);

	// allocation
	std::pair<uint64_t, uint64_t> alloc(uint64_t want);
	void alloc_logical(uint64_t lblk, uint64_t count);
	uint32_t new_inode(bool dir);
	// inodes
	void read_inode(uint32_t ino, ext2_inode_large& in);
	void write_inode(uint32_t ino, ext2_inode_large& in);
	void base_inode(ext2_inode_large& in, const Entry& e);
	uint64_t set_extents(uint32_t ino, ext2_inode_large& in, const std::vector<Run>& r);
	void set_xattrs(uint32_t ino, const std::vector<Xattr>& xs, const std::string& shown);
	void write_mapped(uint64_t off, const char* p, size_t n, const std::string& shown);
	// entries
	uint32_t create(const Entry& e, DataReader& data, const std::string& shown);
	void update_dir(uint32_t ino, const Entry& e, const std::string& shown);
	Dir& parent_of(const std::vector<std::string>& parts, const std::string& shown);
	const Child* lookup(const std::vector<std::string>& parts, const std::string& shown);
	void unlink(Dir& parent, std::map<std::string, Child>::iterator it, bool recursive, const std::string& shown);
	void drop_inode(uint32_t ino, bool dir);
	void add_dir_child(Dir& parent, const std::string& name, uint32_t ino, const Entry& e);
	void write_dir(Dir& d);
};

namespace {

// The superblock ext2fs_initialize() lays the file system out from.
ext2_super_block fs_params(const WriterOptions& opts) {
	ext2_super_block param;
	memset(&param, 0, sizeof param);
	ext2fs_blocks_count_set(&param, opts.blocks);
	param.s_inodes_count = static_cast<__u32>(opts.inodes);
	param.s_log_block_size = 2;  // 4 KiB
	param.s_rev_level = EXT2_DYNAMIC_REV;
	param.s_inode_size = kInodeSize;
	param.s_log_groups_per_flex = 4;
	param.s_min_extra_isize = param.s_want_extra_isize = sizeof(ext2_inode_large) - EXT2_GOOD_OLD_INODE_SIZE;
	param.s_desc_size = EXT2_MIN_DESC_SIZE_64BIT;
	// What a 6.1 kernel mounts read-write; no resize_inode (the guest never
	// grows its root) and no orphan_file (newer than 6.1).
	ext2fs_set_feature_xattr(&param);
	ext2fs_set_feature_dir_index(&param);
	ext2fs_set_feature_filetype(&param);
	ext2fs_set_feature_extents(&param);
	ext2fs_set_feature_64bit(&param);
	ext2fs_set_feature_flex_bg(&param);
	ext2fs_set_feature_sparse_super(&param);
	ext2fs_set_feature_large_file(&param);
	ext2fs_set_feature_huge_file(&param);
	ext2fs_set_feature_dir_nlink(&param);
	ext2fs_set_feature_extra_isize(&param);
	ext2fs_set_feature_metadata_csum(&param);
	return param;
}

}  // namespace

void Ext4Writer::Impl::init(const std::string& path) {
	static bool tables = (initialize_ext2_error_table(), true);
	(void)tables;
	ext2_super_block param = fs_params(opts);
	if (opts.blocks < 1024) throw OutOfSpace("file system smaller than 4M");
	// Full length up front (sparse): unwritten blocks read back as zeros.
	if (::ftruncate(out_fd, static_cast<off_t>(opts.blocks * kBs)) < 0) {
		if (errno == EFBIG || errno == ENOSPC) throw OutOfSpace(errno_message("size image", errno));
		fail_errno("size image");
	}
	check(ext2fs_initialize(path.c_str(), EXT2_FLAG_64BITS, &param, unix_io_manager, &fs), "initialize");
	set_identity();
	check(ext2fs_allocate_tables(fs), "allocate group tables");
	// The image is a new sparse file: inode tables read as zeros already, so
	// the guest kernel need not zero them in the background.
	for (dgrp_t g = 0; g < fs->group_desc_count; g++) {
		ext2fs_bg_flags_set(fs, g, EXT2_BG_INODE_ZEROED);
		ext2fs_group_desc_csum_set(fs, g);
	}
	for (ext2_ino_t ino = 1; ino < EXT2_FIRST_INODE(fs->super); ino++) ext2fs_inode_alloc_stats2(fs, ino, +1, ino == EXT2_ROOT_INO);
	next_ino = EXT2_FIRST_INODE(fs->super);

	ext2_inode_large in;
	memset(&in, 0, sizeof in);
	in.i_extra_isize = sizeof(ext2_inode_large) - EXT2_GOOD_OLD_INODE_SIZE;
	in.i_atime = in.i_mtime = in.i_ctime = static_cast<__u32>(opts.now);
	write_inode(EXT2_BAD_INO, in);

	if (opts.journal_blocks) {
		ext2fs_journal_params jp;
		memset(&jp, 0, sizeof jp);
		jp.num_journal_blocks = static_cast<blk_t>(opts.journal_blocks);
		check(ext2fs_add_journal_inode3(fs, &jp, ~0ULL, EXT2_MKJOURNAL_LAZYINIT | EXT2_MKJOURNAL_NO_MNT_CHECK),
		      "create journal");
	}
	make_root();
}

// Times, UUID, label, hash seed and checksums: what names this image.
void Ext4Writer::Impl::set_identity() {
	ext2_super_block* sb = fs->super;
	fs->now = opts.now;
	sb->s_mkfs_time = sb->s_lastcheck = sb->s_wtime = static_cast<__u32>(opts.now);
	sb->s_max_mnt_count = -1;
	sb->s_checkinterval = 0;
	memcpy(sb->s_uuid, opts.uuid.data(), 16);
	// The directory hash seed follows from the UUID, so a fixed --uuid gives
	// a byte-identical image.
	Sha256 h;
	h.update("mkrootfs hash seed");
	h.update(opts.uuid.data(), 16);
	Sha256Digest seed = h.finish();
	memcpy(sb->s_hash_seed, seed.data(), sizeof sb->s_hash_seed);
	sb->s_def_hash_version = EXT2_HASH_HALF_MD4;
	sb->s_flags |= static_cast<char>(-1) < 0 ? EXT2_FLAGS_SIGNED_HASH : EXT2_FLAGS_UNSIGNED_HASH;
	memset(sb->s_volume_name, 0, sizeof sb->s_volume_name);
	memcpy(sb->s_volume_name, opts.label.data(), std::min(opts.label.size(), sizeof sb->s_volume_name));
	sb->s_default_mount_opts = EXT2_DEFM_XATTR_USER | EXT2_DEFM_ACL;
	sb->s_checksum_type = EXT2_CRC32C_CHKSUM;
	ext2fs_init_csum_seed(fs);
}

// The root directory and lost+found, as mke2fs makes them.
void Ext4Writer::Impl::make_root() {
	Entry root;
	root.type = EntryType::directory;
	root.mode = 0755;
	root.mtime = root.atime = root.ctime = {opts.now, 0};
	ext2_inode_large rin;
	base_inode(rin, root);
	write_inode(EXT2_ROOT_INO, rin);
	dirs.push_back(Dir{EXT2_ROOT_INO, EXT2_ROOT_INO, {}, 0, 1, true});

	Entry lpf = root;
	lpf.mode = 0700;
	uint32_t lino = new_inode(true);
	base_inode(rin, lpf);
	write_inode(lino, rin);
	add_dir_child(dirs[0], "lost+found", lino, lpf);
	dirs.back().min_blocks = 4;  // as mke2fs: room for e2fsck to reconnect files
}

std::pair<uint64_t, uint64_t> Ext4Writer::Impl::alloc(uint64_t want) {
	uint64_t last = ext2fs_blocks_count(fs->super) - 1;
	blk64_t start = 0;
	if (cursor > last || ext2fs_find_first_zero_block_bitmap2(fs->block_map, cursor, last, &start))
		throw OutOfSpace("no free blocks left");
	blk64_t end = 0;
	uint64_t stop = std::min<uint64_t>(start + want - 1, last);
	if (ext2fs_find_first_set_block_bitmap2(fs->block_map, start, stop, &end)) end = stop + 1;
	uint64_t got = end - start;
	ext2fs_block_alloc_stats_range(fs, start, static_cast<blk_t>(got), +1);
	cursor = end;
	return {start, got};
}

void Ext4Writer::Impl::alloc_logical(uint64_t lblk, uint64_t count) {
	while (count) {
		auto [pblk, got] = alloc(std::min<uint64_t>(count, 1 << 30));
		if (!runs.empty() && runs.back().lblk + runs.back().len == lblk && runs.back().pblk + runs.back().len == pblk)
			runs.back().len += got;
		else
			runs.push_back({lblk, pblk, got});
		lblk += got, count -= got;
	}
}

uint32_t Ext4Writer::Impl::new_inode(bool dir) {
	if (next_ino > fs->super->s_inodes_count) throw OutOfSpace("no free inodes left");
	ext2fs_inode_alloc_stats2(fs, next_ino, +1, dir);
	return next_ino++;
}

void Ext4Writer::Impl::read_inode(uint32_t ino, ext2_inode_large& in) {
	check(ext2fs_read_inode_full(fs, ino, reinterpret_cast<ext2_inode*>(&in), sizeof in), strprintf("read inode %u", ino));
}

void Ext4Writer::Impl::write_inode(uint32_t ino, ext2_inode_large& in) {
	check(ext2fs_write_inode_full(fs, ino, reinterpret_cast<ext2_inode*>(&in), sizeof in), strprintf("write inode %u", ino));
}

void Ext4Writer::Impl::base_inode(ext2_inode_large& in, const Entry& e) {
	memset(&in, 0, sizeof in);
	in.i_mode = static_cast<__u16>(mode_bits(e.type) | (e.mode & 07777));
	in.i_uid = static_cast<__u16>(e.uid), in.osd2.linux2.l_i_uid_high = static_cast<__u16>(e.uid >> 16);
	in.i_gid = static_cast<__u16>(e.gid), in.osd2.linux2.l_i_gid_high = static_cast<__u16>(e.gid >> 16);
	in.i_links_count = e.type == EntryType::directory ? 2 : 1;
	in.i_extra_isize = sizeof(ext2_inode_large) - EXT2_GOOD_OLD_INODE_SIZE;
	set_time(in.i_mtime, in.i_mtime_extra, e.mtime);
	set_time(in.i_atime, in.i_atime_extra, e.atime);
	set_time(in.i_ctime, in.i_ctime_extra, e.ctime);
	set_time(in.i_crtime, in.i_crtime_extra, {opts.now, 0});
	if (e.type == EntryType::regular || e.type == EntryType::directory) {
		in.i_flags = EXT4_EXTENTS_FL;
		auto* hdr = reinterpret_cast<ext3_extent_header*>(in.i_block);
		hdr->eh_magic = ext2fs_cpu_to_le16(EXT3_EXT_MAGIC);
		hdr->eh_max = ext2fs_cpu_to_le16(4);
	}
}

// Writes the extent tree for `r` (sorted, non-overlapping runs): up to four
// extents live in the inode, more get leaf and index blocks of their own.
// Returns the number of tree blocks allocated.
uint64_t Ext4Writer::Impl::set_extents(uint32_t ino, ext2_inode_large& in, const std::vector<Run>& r) {
	std::vector<ext3_extent> ex;
	for (const Run& run : r)
		for (uint64_t done = 0; done < run.len;) {
			uint64_t len = std::min(kMaxExtentLen, run.len - done);
			ext3_extent x{};
			x.ee_block = ext2fs_cpu_to_le32(static_cast<__u32>(run.lblk + done));
			x.ee_len = ext2fs_cpu_to_le16(static_cast<__u16>(len));
			uint64_t p = run.pblk + done;
			x.ee_start = ext2fs_cpu_to_le32(static_cast<__u32>(p));
			x.ee_start_hi = ext2fs_cpu_to_le16(static_cast<__u16>(p >> 32));
			ex.push_back(x);
			done += len;
		}
	in.i_flags |= EXT4_EXTENTS_FL;
	memset(in.i_block, 0, sizeof in.i_block);
	auto* root = reinterpret_cast<ext3_extent_header*>(in.i_block);
	root->eh_magic = ext2fs_cpu_to_le16(EXT3_EXT_MAGIC);
	root->eh_max = ext2fs_cpu_to_le16(4);
	if (ex.size() <= 4) {
		root->eh_entries = ext2fs_cpu_to_le16(static_cast<__u16>(ex.size()));
		if (!ex.empty()) memcpy(root + 1, ex.data(), ex.size() * sizeof(ext3_extent));
		return 0;
	}
	struct Node {
		uint32_t first;
		uint64_t pblk;
	};
	std::vector<Node> level;
	std::vector<char> block(kBs);
	uint64_t tree_blocks = 0;
	auto emit = [&](uint16_t depth, size_t count, const void* entries, size_t entry_size, uint32_t first) {
		memset(block.data(), 0, kBs);
		auto* hdr = reinterpret_cast<ext3_extent_header*>(block.data());
		hdr->eh_magic = ext2fs_cpu_to_le16(EXT3_EXT_MAGIC);
		hdr->eh_entries = ext2fs_cpu_to_le16(static_cast<__u16>(count));
		hdr->eh_max = ext2fs_cpu_to_le16(kExtentsPerBlock);
		hdr->eh_depth = ext2fs_cpu_to_le16(depth);
		memcpy(hdr + 1, entries, count * entry_size);
		check(ext2fs_extent_block_csum_set(fs, ino, hdr), "extent block checksum");
		uint64_t pblk = alloc(1).first;
		out.put(pblk * kBs, block.data(), kBs);
		tree_blocks++;
		return Node{first, pblk};
	};
	for (size_t i = 0; i < ex.size(); i += kExtentsPerBlock) {
		size_t n = std::min<size_t>(kExtentsPerBlock, ex.size() - i);
		level.push_back(emit(0, n, &ex[i], sizeof(ext3_extent), ext2fs_le32_to_cpu(ex[i].ee_block)));
	}
	uint16_t depth = 1;
	auto index_of = [](const std::vector<Node>& nodes, size_t i, size_t n) {
		std::vector<ext3_extent_idx> idx(n);
		for (size_t k = 0; k < n; k++) {
			idx[k].ei_block = ext2fs_cpu_to_le32(nodes[i + k].first);
			idx[k].ei_leaf = ext2fs_cpu_to_le32(static_cast<__u32>(nodes[i + k].pblk));
			idx[k].ei_leaf_hi = ext2fs_cpu_to_le16(static_cast<__u16>(nodes[i + k].pblk >> 32));
		}
		return idx;
	};
	while (level.size() > 4) {
		std::vector<Node> next;
		for (size_t i = 0; i < level.size(); i += kExtentsPerBlock) {
			size_t n = std::min<size_t>(kExtentsPerBlock, level.size() - i);
			auto idx = index_of(level, i, n);
			next.push_back(emit(depth, n, idx.data(), sizeof(ext3_extent_idx), level[i].first));
		}
		level = std::move(next);
		depth++;
	}
	auto idx = index_of(level, 0, level.size());
	root->eh_entries = ext2fs_cpu_to_le16(static_cast<__u16>(level.size()));
	root->eh_depth = ext2fs_cpu_to_le16(depth);
	memcpy(root + 1, idx.data(), idx.size() * sizeof(ext3_extent_idx));
	return tree_blocks;
}

void Ext4Writer::Impl::set_xattrs(uint32_t ino, const std::vector<Xattr>& xs, const std::string& shown) {
	if (xs.empty()) return;
	ext2_xattr_handle* h = nullptr;
	check(ext2fs_xattrs_open(fs, ino, &h), shown + ": xattrs");
	ScopeGuard close([&] { ext2fs_xattrs_close(&h); });
	check(ext2fs_xattrs_read(h), shown + ": xattrs");
	for (const Xattr& x : xs) {
		if (!xattr_name_supported(x.name)) {
			BLOG_WARN("%s: xattr %s: namespace not supported by ext4, skipped", shown.c_str(), x.name.c_str());
			continue;
		}
		errcode_t err = ext2fs_xattr_set(h, x.name.c_str(), x.value.data(), x.value.size());
		if (err == EXT2_ET_EA_NO_SPACE || err == EXT2_ET_EA_BAD_VALUE_SIZE)
			fail(strprintf("%s: xattr %s: does not fit (%zu bytes)", shown.c_str(), x.name.c_str(), x.value.size()));
		check(err, shown + ": xattr " + x.name);
	}
	close.dismiss();
	check(ext2fs_xattrs_close(&h), shown + ": xattrs");
}

void Ext4Writer::Impl::write_mapped(uint64_t off, const char* p, size_t n, const std::string& shown) {
	while (n) {
		uint64_t lblk = off / kBs;
		auto it = std::upper_bound(runs.begin(), runs.end(), lblk, [](uint64_t l, const Run& r) { return l < r.lblk; });
		if (it == runs.begin() || lblk >= (it - 1)->lblk + (it - 1)->len)
			fail(shown + ": sparse data out of order");
		const Run& r = *(it - 1);
		uint64_t run_end = (r.lblk + r.len) * kBs;
		size_t take = static_cast<size_t>(std::min<uint64_t>(n, run_end - off));
		out.put(r.pblk * kBs + (off - r.lblk * kBs), p, take);
		off += take, p += take, n -= take;
	}
}

uint32_t Ext4Writer::Impl::create(const Entry& e, DataReader& data, const std::string& shown) {
	bool dir = e.type == EntryType::directory;
	// Refuse before allocating anything.
	if (e.type == EntryType::regular && e.size > kMaxFileSize)
		fail(strprintf("%s: file too large for ext4 (%llu bytes)", shown.c_str(), (unsigned long long)e.size));
	if (e.type == EntryType::symlink && e.target.empty()) fail(shown + ": symlink with an empty target");
	if (e.type == EntryType::symlink && e.target.size() >= kBs) fail(shown + ": symlink target longer than 4095 bytes");
	uint32_t ino = new_inode(dir);
	ext2_inode_large in;
	base_inode(in, e);
	switch (e.type) {
	case EntryType::regular: {
		runs.clear();
		uint64_t total = blocks_for(e.size), mapped = 0;
		uint64_t off = 0;
		const void* p = nullptr;
		size_t n = 0;
		while (data.next(off, p, n)) {
			if (!n) continue;
			if (off > e.size || n > e.size - off) fail(shown + ": data beyond the file size");
			uint64_t first = off / kBs, last = (off + n - 1) / kBs;
			if (last >= mapped) {
				uint64_t from = std::max(first, mapped);
				uint64_t to = e.sparse ? last + 1 : total;
				alloc_logical(from, to - from);
				mapped = to;
			}
			write_mapped(off, static_cast<const char*>(p), n, shown);
		}
		uint64_t nblocks = 0;
		for (const Run& r : runs) nblocks += r.len;
		uint64_t tree = set_extents(ino, in, runs);
		in.i_size = static_cast<__u32>(e.size);
		in.i_size_high = static_cast<__u32>(e.size >> 32);
		check(ext2fs_iblk_set(fs, reinterpret_cast<ext2_inode*>(&in), nblocks + tree), shown);
		break;
	}
	case EntryType::symlink: {
		size_t len = e.target.size();
		in.i_size = static_cast<__u32>(len);
		if (len < sizeof in.i_block) {
			memcpy(in.i_block, e.target.data(), len);  // fast symlink
		} else {
			runs.clear();
			alloc_logical(0, 1);
			out.put(runs[0].pblk * kBs, e.target.data(), len);
			set_extents(ino, in, runs);
			check(ext2fs_iblk_set(fs, reinterpret_cast<ext2_inode*>(&in), 1), shown);
		}
		break;
	}
	case EntryType::chardev:
	case EntryType::blockdev:
		if (e.dev_major < 256 && e.dev_minor < 256) {
			in.i_block[0] = e.dev_major * 256 + e.dev_minor;
		} else {
			in.i_block[1] = (e.dev_minor & 0xff) | (e.dev_major << 8) | ((e.dev_minor & ~0xffu) << 12);
		}
		break;
	default:
		break;
	}
	write_inode(ino, in);
	set_xattrs(ino, e.xattrs, shown);
	return ino;
}

void Ext4Writer::Impl::update_dir(uint32_t ino, const Entry& e, const std::string& shown) {
	ext2_inode_large in;
	read_inode(ino, in);
	in.i_mode = static_cast<__u16>(LINUX_S_IFDIR | (e.mode & 07777));
	in.i_uid = static_cast<__u16>(e.uid), in.osd2.linux2.l_i_uid_high = static_cast<__u16>(e.uid >> 16);
	in.i_gid = static_cast<__u16>(e.gid), in.osd2.linux2.l_i_gid_high = static_cast<__u16>(e.gid >> 16);
	set_time(in.i_mtime, in.i_mtime_extra, e.mtime);
	set_time(in.i_atime, in.i_atime_extra, e.atime);
	set_time(in.i_ctime, in.i_ctime_extra, e.ctime);
	write_inode(ino, in);
	set_xattrs(ino, e.xattrs, shown);
}

void Ext4Writer::Impl::add_dir_child(Dir& parent, const std::string& name, uint32_t ino, const Entry& e) {
	bool dir = e.type == EntryType::directory;
	int32_t idx = -1;
	uint32_t parent_ino = parent.ino;
	if (dir) {
		parent.subdirs++;
		idx = static_cast<int32_t>(dirs.size());
	}
	parent.children.emplace(name, Child{ino, ftype_of(e.type), idx});
	// `parent` may dangle after this push_back.
	if (dir) dirs.push_back(Dir{ino, parent_ino, {}, 0, 1, true});
}

// Walks to the directory that holds the last component, creating missing
// directories (tar archives often leave them out). Never through a symlink.
Dir& Ext4Writer::Impl::parent_of(const std::vector<std::string>& parts, const std::string& shown) {
	size_t cur = 0;
	for (size_t i = 0; i + 1 < parts.size(); i++) {
		Dir& d = dirs[cur];
		auto it = d.children.find(parts[i]);
		if (it == d.children.end()) {
			Entry implicit;
			implicit.type = EntryType::directory;
			implicit.mode = 0755;
			implicit.mtime = implicit.atime = implicit.ctime = {opts.now, 0};
			NoData none;
			uint32_t ino = create(implicit, none, shown);
			add_dir_child(dirs[cur], parts[i], ino, implicit);
			cur = dirs.size() - 1;
			continue;
		}
		if (it->second.ftype == EXT2_FT_SYMLINK) fail(strprintf("%s: parent %s is a symlink", shown.c_str(), parts[i].c_str()));
		if (it->second.dir < 0) fail(strprintf("%s: parent %s is not a directory", shown.c_str(), parts[i].c_str()));
		cur = static_cast<size_t>(it->second.dir);
	}
	return dirs[cur];
}

const Child* Ext4Writer::Impl::lookup(const std::vector<std::string>& parts, const std::string& shown) {
	static const Child root{EXT2_ROOT_INO, EXT2_FT_DIR, 0};
	const Child* c = &root;
	for (const std::string& part : parts) {
		if (c->ftype == EXT2_FT_SYMLINK) fail(shown + ": link target path goes through a symlink");
		if (c->dir < 0) return nullptr;
		const Dir& d = dirs[static_cast<size_t>(c->dir)];
		auto it = d.children.find(part);
		if (it == d.children.end()) return nullptr;
		c = &it->second;
	}
	return c;
}

void Ext4Writer::Impl::drop_inode(uint32_t ino, bool dir) {
	ext2_inode_large in;
	read_inode(ino, in);
	if (!dir && --in.i_links_count > 0) {
		write_inode(ino, in);
		return;
	}
	if (ext2fs_inode_has_valid_blocks2(fs, reinterpret_cast<ext2_inode*>(&in)) && (in.i_flags & EXT4_EXTENTS_FL)) {
		out.flush();  // the extent tree may still be staged
		check(ext2fs_punch(fs, ino, reinterpret_cast<ext2_inode*>(&in), nullptr, 0, ~0ULL), strprintf("free inode %u", ino));
	}
	if (blk64_t acl = ext2fs_file_acl_block(fs, reinterpret_cast<ext2_inode*>(&in))) ext2fs_block_alloc_stats2(fs, acl, -1);
	memset(&in, 0, sizeof in);
	write_inode(ino, in);
	ext2fs_inode_alloc_stats2(fs, ino, -1, dir);
}

void Ext4Writer::Impl::unlink(Dir& parent, std::map<std::string, Child>::iterator it, bool recursive, const std::string& shown) {
	Child c = it->second;
	if (c.dir >= 0) {
		Dir& d = dirs[static_cast<size_t>(c.dir)];
		if (!d.children.empty()) {
			if (!recursive) fail(shown + ": replaces a non-empty directory");
			while (!d.children.empty()) unlink(d, d.children.begin(), true, shown);
		}
		d.live = false;
		parent.subdirs--;
		drop_inode(c.ino, true);
	} else {
		drop_inode(c.ino, false);
	}
	parent.children.erase(it);
}

void Ext4Writer::Impl::add(const Entry& e, DataReader& data, bool force) {
	const std::string& shown = e.path;
	std::vector<std::string> parts = split_path(e.path);
	if (parts.empty()) {
		if (e.type != EntryType::directory) fail(shown + ": the root must be a directory");
		update_dir(EXT2_ROOT_INO, e, shown);
		return;
	}
	Dir* parent = &parent_of(parts, shown);
	size_t parent_idx = static_cast<size_t>(parent - dirs.data());
	const std::string& name = parts.back();

	if (e.type == EntryType::hardlink) {
		std::vector<std::string> tparts = split_path(e.target);
		const Child* t = lookup(tparts, shown);
		if (!t) fail(strprintf("%s: hard link to missing %s", shown.c_str(), e.target.c_str()));
		if (t->dir >= 0) fail(strprintf("%s: hard link to directory %s", shown.c_str(), e.target.c_str()));
		Child target = *t;
		auto it = parent->children.find(name);
		if (it != parent->children.end()) {
			if (it->second.ino == target.ino) return;
			unlink(*parent, it, force, shown);
		}
		ext2_inode_large in;
		read_inode(target.ino, in);
		if (in.i_links_count >= kMaxLinks) fail(shown + ": too many hard links");
		in.i_links_count++;
		write_inode(target.ino, in);
		parent->children.emplace(name, target);
		return;
	}

	auto it = parent->children.find(name);
	if (it != parent->children.end()) {
		if (it->second.dir >= 0 && e.type == EntryType::directory) {
			update_dir(it->second.ino, e, shown);
			return;
		}
		unlink(*parent, it, force, shown);
	}
	uint32_t ino = create(e, data, shown);
	add_dir_child(dirs[parent_idx], name, ino, e);
}

void Ext4Writer::Impl::ensure_dir(const std::string& path, uint32_t mode) {
	std::vector<std::string> parts = split_path(path);
	if (parts.empty()) return;
	Dir& parent = parent_of(parts, path);
	if (parent.children.count(parts.back())) return;
	Entry e;
	e.path = path;
	e.type = EntryType::directory;
	e.mode = mode;
	e.mtime = e.atime = e.ctime = {opts.now, 0};
	NoData none;
	add(e, none, false);
}

// A directory's blocks: ".", "..", then the children in name order, never
// spanning a block, each block closed by the checksum tail.
void Ext4Writer::Impl::write_dir(Dir& d) {
	const size_t cap = kBs - kDirTail;
	std::vector<char> buf;
	size_t pos = cap, last = 0;  // offset of the last entry in the current block
	auto close_block = [&] {
		if (buf.empty()) return;
		size_t base = buf.size() - kBs;
		auto* de = reinterpret_cast<ext2_dir_entry_2*>(&buf[base + last]);
		de->rec_len = static_cast<__u16>(cap - last);
		ext2fs_initialize_dirent_tail(fs, reinterpret_cast<ext2_dir_entry_tail*>(&buf[base + cap]));
	};
	auto put = [&](const char* name, size_t len, uint32_t ino, uint8_t type) {
		size_t rec = 8 + ((len + 3) & ~size_t{3});
		if (pos + rec > cap) {
			close_block();
			buf.resize(buf.size() + kBs, 0);
			pos = 0;
		}
		size_t base = buf.size() - kBs;
		auto* de = reinterpret_cast<ext2_dir_entry_2*>(&buf[base + pos]);
		de->inode = ino;
		de->rec_len = static_cast<__u16>(rec);
		de->name_len = static_cast<__u8>(len);
		de->file_type = type;
		memcpy(de->name, name, len);
		last = pos;
		pos += rec;
	};
	put(".", 1, d.ino, EXT2_FT_DIR);
	put("..", 2, d.parent, EXT2_FT_DIR);
	for (const auto& [name, c] : d.children) put(name.data(), name.size(), c.ino, c.ftype);
	close_block();
	while (buf.size() / kBs < d.min_blocks) {
		pos = 0;
		buf.resize(buf.size() + kBs, 0);
		last = 0;
		close_block();  // one empty entry spanning the block
	}
	uint64_t nblocks = buf.size() / kBs;
	runs.clear();
	alloc_logical(0, nblocks);
	ext2_inode_large in;
	read_inode(d.ino, in);
	uint64_t tree = set_extents(d.ino, in, runs);
	in.i_size = static_cast<__u32>(buf.size());
	in.i_size_high = static_cast<__u32>(static_cast<uint64_t>(buf.size()) >> 32);
	uint32_t links = 2 + d.subdirs;
	in.i_links_count = static_cast<__u16>(links >= kMaxLinks ? 1 : links);
	check(ext2fs_iblk_add_blocks(fs, reinterpret_cast<ext2_inode*>(&in), nblocks + tree), "directory blocks");
	write_inode(d.ino, in);
	for (uint64_t b = 0; b < nblocks; b++)
		check(ext2fs_dir_block_csum_set(fs, d.ino, reinterpret_cast<ext2_dir_entry*>(&buf[b * kBs])), "directory checksum");
	write_mapped(0, buf.data(), buf.size(), "directory");
}

void Ext4Writer::Impl::finish() {
	for (size_t i = 0; i < dirs.size(); i++)
		if (dirs[i].live) write_dir(dirs[i]);
	out.flush();
	check(ext2fs_set_gdt_csum(fs), "group descriptors");
	ext2_filsys f = fs;
	fs = nullptr;
	check(ext2fs_close_free(&f), "write file system metadata");
}

Ext4Writer::Ext4Writer(const std::string& path, int fd, const WriterOptions& opts) : impl_(std::make_unique<Impl>(fd, opts)) {
	impl_->init(path);
}

Ext4Writer::~Ext4Writer() = default;

void Ext4Writer::add(const Entry& e, DataReader& data) { impl_->add(e, data, false); }

void Ext4Writer::ensure_dir(const std::string& path, uint32_t mode) { impl_->ensure_dir(path, mode); }

void Ext4Writer::replace(const Entry& e, DataReader& data) { impl_->add(e, data, true); }

void Ext4Writer::finish() { impl_->finish(); }

}  // namespace bencher::rootfs
