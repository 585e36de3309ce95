// protocol.hh: what bencher-init and collect-results say to each other over
// the vsock ports of lib/vsock/control.hh (and, framed again, over the serial
// fallback): the run config (5004), the exit record (5002), the output-file
// stream (5005), the HMAC over all of it (5003) and the output limits.
// Everything decoded here may come from a hostile peer: bounded, strict.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/digest.hh"

namespace bencher::results {

// ---- limits -------------------------------------------------------------
constexpr size_t kMaxConfigBytes = 1u << 20;     // encoded run config
constexpr size_t kMaxArgs = 4096;                // argv entries
constexpr size_t kMaxEnv = 4096;                 // env entries
constexpr size_t kMaxStringBytes = 128u << 10;   // one argv/env string
constexpr size_t kMaxPathBytes = 4096;           // workdir, files, cgroup
constexpr size_t kMaxUserBytes = 256;
constexpr size_t kMaxFiles = 255;
constexpr size_t kMaxMounts = 16;               // virtio-fs shares besides the root
constexpr size_t kMaxTagBytes = 36;              // a virtio-fs tag (the device's config field)
constexpr size_t kMinKeyBytes = 16;
constexpr size_t kMaxKeyBytes = 64;
constexpr uint64_t kMaxLimit = 1ull << 40;       // any byte limit
constexpr uint64_t kDefaultMaxOutput = 25ull << 20;
constexpr uint64_t kDefaultMaxFile = 10ull << 20;
constexpr uint64_t kDefaultMaxFilesTotal = 64ull << 20;
constexpr size_t kMaxExitRecordBytes = 4096;
constexpr size_t kMaxErrorBytes = 1024;

// ---- run config (port 5004, host -> guest) --------------------------------
// Wire form: "BRC1", u32 payload length, then TLV records (u8 tag, u32 length,
// bytes), all little-endian. Repeated tags: argv, env, file, mount. Unknown
// tags and repeated singletons are errors, so both ends agree on every field.

// A virtio-fs share mounted at `path` inside a virtio-fs root (bencher-vmtest).
struct Mount {
	std::string tag;        // the virtio-fs tag: 1..36 graphic ASCII bytes
	std::string path;       // absolute, normalised, not "/"
	bool writable = false;  // read-only unless asked
	bool operator==(const Mount&) const = default;
};

struct RunConfig {
	std::vector<std::string> argv;
	std::vector<std::string> env;        // "KEY=VALUE"
	std::string workdir = "/";
	std::string user;                    // "" (root), name, uid, name:group, uid:gid
	std::vector<std::string> files;      // absolute guest paths to return
	std::string cgroup;                  // "" or a path below the cgroup2 root, no leading '/'
	uint64_t max_output_bytes = kDefaultMaxOutput;    // per stream
	uint64_t max_file_bytes = kDefaultMaxFile;        // per file
	uint64_t max_files_total_bytes = kDefaultMaxFilesTotal;
	std::string hmac_key;                // empty: no HMAC (serial fallback config)
	// "": the root is the ext4 image on /dev/vda, as always. Otherwise init
	// mounts this virtio-fs tag read-only under a RAM overlay and runs the
	// workload there; `mounts` (only with such a root) go inside it.
	std::string root_virtiofs;
	std::vector<Mount> mounts;
};

// Throws an Error naming the first bad field. Normalises cgroup (strips
// leading '/').
void validate(RunConfig& c);
std::string encode_config(const RunConfig& c);
RunConfig decode_config(std::string_view data);

// Checks a virtio-fs tag: 1..kMaxTagBytes graphic ASCII bytes.
bool valid_tag(std::string_view tag);

// Checks a path that names a file to return: absolute, no NUL, no empty,
// "." or ".." components. Returns false with a reason.
bool valid_file_path(std::string_view p, std::string* why = nullptr);

// ---- exit record (port 5002, text) ---------------------------------------
// First line: the exit code in decimal (what "exit code as text" means), then
// key=value lines. A record with only the first line is valid.
struct ExitRecord {
	int exit_code = 0;       // 0..255; 128+signal when killed
	int signal = 0;          // 0: exited normally
	uint64_t stdout_bytes = 0;  // as produced by the workload (before the limit)
	uint64_t stderr_bytes = 0;
	bool stdout_truncated = false;
	bool stderr_truncated = false;
	std::string error;       // init's reason for 125/126/127, printable ASCII
};
std::string format_exit(const ExitRecord& r);
ExitRecord parse_exit(std::string_view text);

// ---- output files (port 5005) --------------------------------------------
// "BRF1", then one record per requested file, in the config's order:
// u16 name length, name, u8 status, u64 size, then `size` bytes when status
// is ok; a u16 0 ends the stream.
enum class FileStatus : uint8_t { ok = 0, missing = 1, too_large = 2, not_regular = 3, error = 4 };
const char* file_status_name(FileStatus s);
std::string encode_files_begin();
std::string encode_file_header(std::string_view name, FileStatus status, uint64_t size);
std::string encode_files_end();

// Incremental host-side decoder. Names must be the requested ones, in order;
// sizes are bounded by the limits; anything else throws and the stream is
// then void.
class FileStreamParser {
public:
	struct Sink {
		std::function<void(size_t index, const std::string& name, FileStatus, uint64_t size)> begin;
		std::function<void(size_t index, std::string_view data)> data;
		std::function<void(size_t index)> end;
	};
	FileStreamParser(std::vector<std::string> expected, uint64_t max_file, uint64_t max_total, Sink sink);
	void feed(std::string_view data);
	// At EOF: throws unless the end record arrived.
	void finish() const;
	bool complete() const { return state_ == State::done; }

private:
	enum class State { magic, name_len, name, status, size, data, done };
	bool need(std::string_view& in, size_t n);
	void take_header();

	std::vector<std::string> expected_;
	uint64_t max_file_;
	uint64_t max_total_;
	Sink sink_;
	State state_ = State::magic;
	std::string buf_;
	size_t index_ = 0;
	std::string name_;
	FileStatus status_ = FileStatus::ok;
	uint64_t left_ = 0;
	uint64_t total_ = 0;
};

// ---- HMAC (port 5003) ------------------------------------------------------
// Both ends hash every byte of each port as sent (guest) / received (host);
// the HMAC-SHA256 is over a fixed summary of those digests, so the streams
// may interleave freely. Wire form on 5003: 64 hex digits and "\n".
constexpr std::array<uint32_t, 5> kHmacPorts = {5004, 5000, 5001, 5002, 5005};
class ResultDigest {
public:
	ResultDigest();
	~ResultDigest();
	void add(uint32_t port, std::string_view data);
	uint64_t bytes(uint32_t port) const;
	// Consumes the digests; call once.
	std::string hmac_hex(std::string_view key);

private:
	size_t slot(uint32_t port) const;
	std::array<std::unique_ptr<Sha256>, kHmacPorts.size()> sha_;
	std::array<uint64_t, kHmacPorts.size()> count_{};
};
// Parses "<64 hex>\n" (the newline optional); throws otherwise.
std::string parse_hmac_line(std::string_view text);

// ---- output limit -----------------------------------------------------------
// Counts everything offered, passes at most `limit` bytes.
struct OutputLimiter {
	uint64_t limit = kDefaultMaxOutput;
	uint64_t total = 0;   // offered
	uint64_t passed = 0;  // admitted
	size_t admit(size_t n) {
		total += n;
		uint64_t room = limit - passed;
		size_t take = room < n ? static_cast<size_t>(room) : n;
		passed += take;
		return take;
	}
	bool truncated() const { return total > passed; }
};

}  // namespace bencher::results
