// block.cc: the virtio-blk device and disk backends of block.hh.
#include "vmm/virtio/block.hh"

#include <linux/virtio_blk.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "common/error.hh"

namespace bencher::vmm::virtio {

Disk::Disk(UniqueFd fd, Mode mode) : fd_(std::move(fd)), mode_(mode) {
	struct stat st;
	if (fstat(fd_.get(), &st) < 0) fail_errno("rootfs: fstat");
	uint64_t size = static_cast<uint64_t>(st.st_size);
	if (S_ISBLK(st.st_mode)) {
		off_t end = lseek(fd_.get(), 0, SEEK_END);
		if (end < 0) fail_errno("rootfs: lseek");
		size = static_cast<uint64_t>(end);
	} else if (!S_ISREG(st.st_mode)) {
		fail("rootfs: not a regular file or block device");
	}
	sectors_ = size / Block::kSectorSize;
	if (sectors_ == 0) fail("rootfs: empty image");
	if (mode_ == Mode::cow) {
		overlay_ = Mapping::map(sectors_ * Block::kSectorSize, PROT_READ | PROT_WRITE,
		                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0, "rootfs: cow overlay");
		written_.assign((sectors_ + 63) / 64, 0);
	}
}

namespace {
bool io_loop(int fd, uint64_t offset, const std::vector<iovec>& iov, bool write) {
	for (const auto& v : iov) {
		size_t done = 0;
		while (done < v.iov_len) {
			ssize_t n = write ? pwrite(fd, static_cast<char*>(v.iov_base) + done, v.iov_len - done, offset)
			                  : pread(fd, static_cast<char*>(v.iov_base) + done, v.iov_len - done, offset);
			if (n < 0 && errno == EINTR) continue;
			if (n < 0) return false;
			if (n == 0) {  // past the end of a file that shrank: zeros
				if (write) return false;
				std::memset(static_cast<char*>(v.iov_base) + done, 0, v.iov_len - done);
				n = static_cast<ssize_t>(v.iov_len - done);
			}
			done += static_cast<size_t>(n);
			offset += static_cast<uint64_t>(n);
		}
	}
	return true;
}
}  // namespace

bool Disk::read(uint64_t offset, const std::vector<iovec>& iov) {
	if (mode_ != Mode::cow) return io_loop(fd_.get(), offset, iov, false);
	// Sector runs come from the overlay where written, from the file elsewhere.
	for (const auto& v : iov) {
		auto* p = static_cast<uint8_t*>(v.iov_base);
		uint64_t left = v.iov_len;
		while (left > 0) {
			uint64_t s = offset / Block::kSectorSize;
			uint64_t in_sector = Block::kSectorSize - offset % Block::kSectorSize;
			bool w = is_written(s);
			uint64_t run = std::min(left, in_sector);
			// Extend the run over following sectors in the same state.
			while (run < left && s + 1 < sectors_ && is_written(s + 1) == w) {
				s++;
				run = std::min(left, run + Block::kSectorSize);
			}
			if (w) {
				std::memcpy(p, overlay_.bytes() + offset, run);
			} else if (!io_loop(fd_.get(), offset, {{p, run}}, false)) {
				return false;
			}
			p += run;
			offset += run;
			left -= run;
		}
	}
	return true;
}

bool Disk::write(uint64_t offset, const std::vector<iovec>& iov) {
	if (mode_ == Mode::ro) return false;
	if (mode_ == Mode::rw) return io_loop(fd_.get(), offset, iov, true);
	for (const auto& v : iov) {
		// Requests are whole sectors (checked by Block), so no partial merge.
		std::memcpy(overlay_.bytes() + offset, v.iov_base, v.iov_len);
		for (uint64_t s = offset / Block::kSectorSize; s < (offset + v.iov_len + Block::kSectorSize - 1) / Block::kSectorSize; s++)
			written_[s / 64] |= 1ull << (s % 64);
		offset += v.iov_len;
	}
	return true;
}

bool Disk::flush() {
	if (mode_ != Mode::rw) return true;
	return fdatasync(fd_.get()) == 0;
}

uint64_t Block::features() const {
	uint64_t f = 1ull << VIRTIO_BLK_F_FLUSH | 1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_BLK_SIZE;
	if (disk_.mode() == Disk::Mode::ro) f |= 1ull << VIRTIO_BLK_F_RO;
	return f;
}

void Block::read_config(uint64_t offset, uint8_t* data, size_t len) {
	virtio_blk_config c{};
	c.capacity = disk_.sectors();
	c.seg_max = Queue::kMaxSize - 2;
	c.blk_size = 512;
	if (offset < sizeof c) std::memcpy(data, reinterpret_cast<uint8_t*>(&c) + offset, std::min(len, sizeof c - offset));
}

uint32_t Block::handle(const GuestMemory& mem, const Chain& c) {
	virtio_blk_outhdr hdr;
	// The status byte is the last writable byte; a chain without one is unanswerable.
	uint64_t wbytes = c.writable_bytes();
	if (wbytes == 0) return 0;
	auto status = [&](uint8_t s, uint64_t data_len) {
		chain_write(mem, c, wbytes - 1, &s, 1);
		return static_cast<uint32_t>(data_len + 1);
	};
	if (chain_read(mem, c, 0, &hdr, sizeof hdr) != sizeof hdr) return status(VIRTIO_BLK_S_IOERR, 0);
	uint64_t rbytes = c.readable_bytes();
	std::vector<iovec> iov;
	auto in_range = [&](uint64_t len) {
		return len % kSectorSize == 0 && hdr.sector <= disk_.sectors() && len / kSectorSize <= disk_.sectors() - hdr.sector;
	};
	switch (hdr.type) {
	case VIRTIO_BLK_T_IN: {
		uint64_t len = wbytes - 1;
		if (!in_range(len)) return status(VIRTIO_BLK_S_IOERR, 0);
		chain_iovecs(mem, c, true, 0, len, iov);
		if (!disk_.read(hdr.sector * kSectorSize, iov)) return status(VIRTIO_BLK_S_IOERR, 0);
		return status(VIRTIO_BLK_S_OK, len);
	}
	case VIRTIO_BLK_T_OUT: {
		uint64_t len = rbytes - sizeof hdr;
		if (disk_.mode() == Disk::Mode::ro) return status(VIRTIO_BLK_S_IOERR, 0);
		if (!in_range(len)) return status(VIRTIO_BLK_S_IOERR, 0);
		chain_iovecs(mem, c, false, sizeof hdr, len, iov);
		if (!disk_.write(hdr.sector * kSectorSize, iov)) return status(VIRTIO_BLK_S_IOERR, 0);
		return status(VIRTIO_BLK_S_OK, 0);
	}
	case VIRTIO_BLK_T_FLUSH:
		return status(disk_.flush() ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR, 0);
	case VIRTIO_BLK_T_GET_ID: {
		static const char id[VIRTIO_BLK_ID_BYTES] = "bencher-rootfs";
		uint64_t len = std::min<uint64_t>(wbytes - 1, sizeof id);
		chain_write(mem, c, 0, id, len);
		return status(VIRTIO_BLK_S_OK, len);
	}
	default:
		return status(VIRTIO_BLK_S_UNSUPP, 0);
	}
}

void Block::notify(Transport& t, uint16_t queue) {
	Queue& q = t.queue(queue);
	Chain c;
	bool any = false;
	for (;;) {
		auto r = q.pop(t.mem(), c);
		if (r == Queue::Pop::empty) break;
		uint32_t len = r == Queue::Pop::ok ? handle(t.mem(), c) : 0;
		q.push_used(t.mem(), c.head, len);
		any = true;
	}
	if (any) t.signal_used(queue);
}

}  // namespace bencher::vmm::virtio
