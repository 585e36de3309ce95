// files.cc: reading the requested files within the run's limits (see files.hh).
#include "guest/files.hh"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include "common/error.hh"
#include "common/fd.hh"
#include "vsock/control.hh"

namespace bencher::guest {

using results::FileStatus;

namespace {

struct ReadFile {
	FileStatus status = FileStatus::ok;
	uint64_t size = 0;  // announced: the bytes sent, or the size that was too large
	std::string data;
};

// Reads one file whole (bounded by the per-file limit and what is left of
// the total) before its header goes out, so the size announced is the size
// sent. `room` is what the total limit still allows.
ReadFile read_result_file(const std::string& path, uint64_t max_file, uint64_t room) {
	ReadFile r;
	UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
	struct stat sb;
	if (!fd) {
		r.status = (errno == ENOENT || errno == ENOTDIR) ? FileStatus::missing : FileStatus::error;
	} else if (fstat(fd.get(), &sb) < 0) {
		r.status = FileStatus::error;
	} else if (!S_ISREG(sb.st_mode)) {
		r.status = FileStatus::not_regular;
	} else if (static_cast<uint64_t>(sb.st_size) > std::min(max_file, room)) {
		r.status = FileStatus::too_large;
		r.size = static_cast<uint64_t>(sb.st_size);
	} else {
		try {
			r.data = read_all(fd.get(), static_cast<size_t>(std::min(max_file, room)), path);
			r.size = r.data.size();
		} catch (const Error&) {
			r.status = FileStatus::too_large;  // it grew past the limit while read
			r.size = static_cast<uint64_t>(sb.st_size);
		}
	}
	return r;
}

}  // namespace

void send_files(const results::RunConfig& cfg, ResultSink& sink) {
	sink.send(vsock::kPortFiles, results::encode_files_begin());
	uint64_t total = 0;
	for (const auto& path : cfg.files) {
		ReadFile f = read_result_file(path, cfg.max_file_bytes, cfg.max_files_total_bytes - total);
		if (f.status == FileStatus::ok) total += f.size;
		sink.send(vsock::kPortFiles, results::encode_file_header(path, f.status, f.size));
		if (f.status == FileStatus::ok) sink.send(vsock::kPortFiles, f.data);
	}
	sink.send(vsock::kPortFiles, results::encode_files_end());
	sink.close(vsock::kPortFiles);
}

}  // namespace bencher::guest
