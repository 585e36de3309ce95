// mirror.hh: the files bencher-init returns on port 5005 (or in the serial
// fallback's F records), decoded with FileStreamParser and kept either as
// base64 for the results JSON or mirrored below --output-dir at their guest
// paths, without ever following a link out of that directory.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/fd.hh"
#include "common/json.hh"
#include "results/protocol.hh"

namespace bencher::results {

class FileMirror {
public:
	// `output_dir` empty: keep the files in memory, for base64 in the results.
	// Otherwise it is created if missing.
	FileMirror(const RunConfig& config, std::string output_dir);

	// Bytes of the files stream, as they arrive. A broken stream voids the
	// files not yet complete, never the run.
	void feed(std::string_view data);
	// At the end of the run: whatever is not complete is reported so. Only a
	// run whose results came over a transport owes the files stream; one
	// whose exit code arrived should have sent it all.
	void finish(bool transport_used, bool exit_seen);

	// The results' "files" array, and "files_error" (empty when none).
	json::Value to_json() const;
	const std::string& error() const { return error_; }

private:
	struct File {
		std::string path;
		std::optional<FileStatus> status;  // unset: never received
		uint64_t size = 0;
		bool complete = false;
		std::string data;                  // base64 mode
		std::string output;                // --output-dir mode: the relative path written
		UniqueFd fd;
		std::string tmp_name;
		UniqueFd dir;
		std::string error;
	};

	void begin(size_t i, FileStatus st, uint64_t size);
	void open_below(File& f);
	void data(size_t i, std::string_view d);
	void end(size_t i);
	void abort(File& f, const std::string& why);

	std::string output_dir_;
	UniqueFd out_dir_;
	std::vector<File> files_;
	std::optional<FileStreamParser> parser_;
	std::string error_;
	bool expected_ = false;
};

}  // namespace bencher::results
