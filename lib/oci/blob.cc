// blob.cc: verified blob streams (see blob.hh).
#include "oci/blob.hh"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include <cerrno>

#include "common/error.hh"

namespace bencher::oci {

FdRangeReader::FdRangeReader(std::shared_ptr<UniqueFd> fd, off_t offset, uint64_t len, std::string what)
    : fd_(std::move(fd)), start_(offset), size_(len), offset_(offset), left_(len), what_(std::move(what)) {}

bool FdRangeReader::read_at(void* buf, size_t len, uint64_t offset) {
	if (offset > size_ || len > size_ - offset) return false;
	char* p = static_cast<char*>(buf);
	while (len > 0) {
		ssize_t n = ::pread(fd_->get(), p, len, start_ + static_cast<off_t>(offset));
		if (n < 0 && errno == EINTR) continue;
		if (n < 0) fail_errno("read " + what_);
		if (n == 0) fail(what_ + ": unexpected end of file", kExitIntegrity);
		p += n, len -= static_cast<size_t>(n), offset += static_cast<uint64_t>(n);
	}
	return true;
}

size_t FdRangeReader::read(void* buf, size_t len) {
	if (left_ == 0) return 0;
	if (len > left_) len = left_;
	for (;;) {
		ssize_t n = ::pread(fd_->get(), buf, len, offset_);
		if (n < 0 && errno == EINTR) continue;
		if (n < 0) fail_errno("read " + what_);
		if (n == 0) fail(what_ + ": unexpected end of file", kExitIntegrity);
		offset_ += n;
		left_ -= n;
		return static_cast<size_t>(n);
	}
}

void check_digest_syntax(const std::string& digest, const std::string& what) {
	static const std::string prefix = "sha256:";
	bool ok = digest.size() == prefix.size() + 64 && digest.compare(0, prefix.size(), prefix) == 0;
	for (size_t i = prefix.size(); ok && i < digest.size(); i++) {
		char c = digest[i];
		ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
	}
	if (!ok) {
		std::string shown = digest.size() > 80 ? digest.substr(0, 80) + "..." : digest;
		fail(what + ": unsupported or malformed digest '" + shown + "' (want sha256:<64 hex>)");
	}
}

std::string short_digest(const std::string& digest) {
	return digest.size() > 19 ? digest.substr(0, 19) : digest;
}

VerifyingReader::VerifyingReader(std::unique_ptr<Reader> inner, std::string digest, int64_t size, std::string what)
    : inner_(std::move(inner)), digest_(std::move(digest)), size_(size), what_(std::move(what)) {}

size_t VerifyingReader::read(void* buf, size_t len) {
	if (verified_) return 0;
	if (size_ >= 0) {
		// Ask for one byte beyond the declared size so an overlong blob is
		// caught without reading all of it.
		uint64_t room = static_cast<uint64_t>(size_) - count_ + 1;
		if (len > room) len = room;
	}
	size_t n = inner_->read(buf, len);
	if (n == 0) {
		if (size_ >= 0 && count_ != static_cast<uint64_t>(size_))
			fail(strprintf("%s: size mismatch: got %llu bytes, descriptor says %lld", what_.c_str(),
				       (unsigned long long)count_, (long long)size_),
			     kExitIntegrity);
		std::string got = "sha256:" + to_hex(sha_.finish());
		if (got != digest_)
			fail(what_ + ": digest mismatch: content hashes to " + got, kExitIntegrity);
		verified_ = true;
		return 0;
	}
	count_ += n;
	if (size_ >= 0 && count_ > static_cast<uint64_t>(size_))
		fail(strprintf("%s: size mismatch: more than the %lld bytes the descriptor says", what_.c_str(),
			       (long long)size_),
		     kExitIntegrity);
	sha_.update(buf, n);
	return n;
}

void VerifyingReader::drain() {
	char buf[65536];
	while (read(buf, sizeof buf) > 0) {
	}
}

std::string read_verified(std::unique_ptr<Reader> inner, const std::string& digest, int64_t size, size_t max,
			  const std::string& what) {
	if (size >= 0 && static_cast<uint64_t>(size) > max)
		fail(strprintf("%s: %lld bytes is more than the %zu allowed", what.c_str(), (long long)size, max),
		     kExitUnsafe);
	VerifyingReader r(std::move(inner), digest, size, what);
	std::string out;
	char buf[65536];
	for (;;) {
		size_t n = r.read(buf, sizeof buf);
		if (n == 0) break;
		if (out.size() + n > max)
			fail(strprintf("%s: more than the %zu bytes allowed", what.c_str(), max), kExitUnsafe);
		out.append(buf, n);
	}
	return out;
}

UniqueFd anonymous_temp_file() {
	const char* env = std::getenv("TMPDIR");
	std::string dir = env && *env ? env : "/tmp";
	int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0) return UniqueFd(fd);
	// Not every file system has O_TMPFILE: a named file, unlinked at once.
	std::string templ = dir + "/oci-unpack.XXXXXX";
	std::vector<char> buf(templ.begin(), templ.end());
	buf.push_back('\0');
	fd = ::mkostemp(buf.data(), O_CLOEXEC);
	if (fd < 0) fail_errno("create a temporary file in " + dir);
	::unlink(buf.data());
	return UniqueFd(fd);
}

std::string digest_of(std::string_view data) {
	return "sha256:" + Sha256::hex(data);
}

}  // namespace bencher::oci
