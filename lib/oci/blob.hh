// blob.hh: byte streams over image blobs, and the reader that checks a blob's
// sha256 digest and size as it streams. Every layer, manifest and config that
// oci-unpack trusts has gone through a VerifyingReader first.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "common/digest.hh"
#include "common/exit_codes.hh"
#include "common/fd.hh"

namespace bencher::oci {

// oci-unpack's exit codes beyond 0/1/2: the toolchain's one table,
// documented in bencher-exit(7).
enum : int {
	kExitNotFound = exit_codes::kOciNotFound,
	kExitIntegrity = exit_codes::kOciIntegrity,
	kExitUnsafe = exit_codes::kOciUnsafe,
	kExitRegistry = exit_codes::kOciRegistry,
};

// A sequential byte source; read() returns 0 at the end.
class Reader {
public:
	virtual ~Reader() = default;
	virtual size_t read(void* buf, size_t len) = 0;
	// A look at a few bytes anywhere in the blob (a header, a trailer),
	// without streaming it: false where the source cannot seek, or the
	// range is outside the blob.
	virtual bool read_at(void*, size_t, uint64_t) { return false; }
};

// `len` bytes of an fd from `offset` (pread, so several readers can share
// one archive file).
class FdRangeReader : public Reader {
public:
	FdRangeReader(std::shared_ptr<UniqueFd> fd, off_t offset, uint64_t len, std::string what);
	size_t read(void* buf, size_t len) override;
	bool read_at(void* buf, size_t len, uint64_t offset) override;

private:
	std::shared_ptr<UniqueFd> fd_;
	off_t start_;
	uint64_t size_;
	off_t offset_;
	uint64_t left_;
	std::string what_;
};

// "sha256:<64 lowercase hex>" or an Error (exit 1) naming `what`.
void check_digest_syntax(const std::string& digest, const std::string& what);
// "sha256:0123456789ab" for messages.
std::string short_digest(const std::string& digest);

// Passes bytes through while hashing them; at the end of the inner stream
// checks the size (when known, >= 0) and the digest and throws an Error with
// exit code kExitIntegrity naming `what` on a mismatch.
class VerifyingReader : public Reader {
public:
	VerifyingReader(std::unique_ptr<Reader> inner, std::string digest, int64_t size, std::string what);
	size_t read(void* buf, size_t len) override;
	// Reads and discards the rest, so the digest covers the whole blob.
	void drain();
	bool verified() const { return verified_; }
	uint64_t bytes() const { return count_; }

private:
	std::unique_ptr<Reader> inner_;
	std::string digest_;
	int64_t size_;
	std::string what_;
	Sha256 sha_;
	uint64_t count_ = 0;
	bool verified_ = false;
};

// Reads a whole small blob (manifest, config) into memory, verified, refusing
// more than `max` bytes.
std::string read_verified(std::unique_ptr<Reader> inner, const std::string& digest, int64_t size, size_t max,
			  const std::string& what);

// An unnamed read-write temporary file in $TMPDIR (default /tmp).
UniqueFd anonymous_temp_file();

// The sha256 digest of a string, as "sha256:hex".
std::string digest_of(std::string_view data);

}  // namespace bencher::oci
