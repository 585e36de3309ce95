// mirror.cc: returned files, as base64 or below --output-dir (see mirror.hh).
#include "results/mirror.hh"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.hh"
#include "common/log.hh"
#include "results/codec.hh"

namespace bencher::results {

FileMirror::FileMirror(const RunConfig& config, std::string output_dir)
    : output_dir_(std::move(output_dir)), expected_(!config.files.empty()) {
	for (const auto& p : config.files) {
		File f;
		f.path = p;
		files_.push_back(std::move(f));
	}
	parser_.emplace(config.files, config.max_file_bytes, config.max_files_total_bytes,
	                FileStreamParser::Sink{
	                    [this](size_t i, const std::string&, FileStatus st, uint64_t size) { begin(i, st, size); },
	                    [this](size_t i, std::string_view d) { data(i, d); },
	                    [this](size_t i) { end(i); },
	                });
	if (!output_dir_.empty()) {
		if (mkdir(output_dir_.c_str(), 0755) < 0 && errno != EEXIST) fail_errno("mkdir " + output_dir_);
		out_dir_ = open_file(output_dir_, O_RDONLY | O_DIRECTORY);
	}
}

void FileMirror::feed(std::string_view d) {
	if (!error_.empty()) return;
	try {
		parser_->feed(d);
	} catch (const Error& e) {
		error_ = e.what();
		BLOG_WARN("%s: output files dropped", e.what());
		for (auto& f : files_)
			if (!f.complete) abort(f, "files stream broken");
	}
}

void FileMirror::finish(bool transport_used, bool exit_seen) {
	if (!error_.empty()) return;
	if (!parser_->complete() && expected_ && transport_used) {
		error_ = "files stream ended early";
		if (exit_seen) BLOG_WARN("files: stream ended early");
	}
	for (auto& f : files_)
		if (!f.complete) abort(f, f.status ? "incomplete" : "not received");
}

void FileMirror::abort(File& f, const std::string& why) {
	if (f.error.empty()) f.error = why;
	f.fd.reset();
	if (f.dir && !f.tmp_name.empty()) unlinkat(f.dir.get(), f.tmp_name.c_str(), 0);
	f.tmp_name.clear();
	f.data.clear();
}

void FileMirror::begin(size_t i, FileStatus st, uint64_t size) {
	File& f = files_[i];
	f.status = st;
	f.size = size;
	if (st != FileStatus::ok) {
		BLOG_WARN("file %s: %s", f.path.c_str(), file_status_name(st));
		return;
	}
	if (!out_dir_) return;
	try {
		open_below(f);
	} catch (const Error& e) {
		abort(f, std::string("cannot write to the output directory: ") + e.what());
		BLOG_WARN("file %s: %s", f.path.c_str(), f.error.c_str());
	}
}

// Opens the guest path's mirror below --output-dir for writing: every
// directory opened with O_NOFOLLOW, so nothing escapes the output directory,
// and the file under a temporary name until it is complete.
void FileMirror::open_below(File& f) {
	UniqueFd dir(fcntl(out_dir_.get(), F_DUPFD_CLOEXEC, 0));
	if (!dir) fail_errno("dup " + output_dir_);
	std::string rel = f.path.substr(1);
	size_t start = 0;
	for (size_t slash; (slash = rel.find('/', start)) != std::string::npos; start = slash + 1) {
		std::string comp = rel.substr(start, slash - start);
		if (mkdirat(dir.get(), comp.c_str(), 0755) < 0 && errno != EEXIST) fail_errno("mkdir " + comp);
		dir = open_at(dir.get(), comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	}
	std::string base = rel.substr(start);
	f.tmp_name = "." + base + ".part";
	f.fd = open_at(dir.get(), f.tmp_name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0644);
	f.dir = std::move(dir);
	f.output = rel;
}

void FileMirror::data(size_t i, std::string_view d) {
	File& f = files_[i];
	if (!f.error.empty()) return;
	if (f.fd) {
		try {
			write_all(f.fd.get(), d, f.path);
		} catch (const Error& e) {
			abort(f, e.what());
		}
	} else if (!out_dir_) {
		f.data.append(d);
	}
}

void FileMirror::end(size_t i) {
	File& f = files_[i];
	f.complete = true;
	if (!f.fd || !f.error.empty()) return;
	f.fd.reset();
	std::string base = f.tmp_name.substr(1, f.tmp_name.size() - 6);
	if (renameat(f.dir.get(), f.tmp_name.c_str(), f.dir.get(), base.c_str()) < 0)
		abort(f, errno_message("rename", errno));
	f.tmp_name.clear();
}

json::Value FileMirror::to_json() const {
	json::Value files = json::Value::array();
	for (const auto& f : files_) {
		json::Value v = json::Value::object();
		v.set("path", json::Value::string(f.path));
		std::string st = f.status ? file_status_name(*f.status) : "not_received";
		if (f.status == FileStatus::ok && !f.error.empty()) st = "error";
		v.set("status", json::Value::string(st));
		if (f.status == FileStatus::ok || f.status == FileStatus::too_large)
			v.set("size", json::Value::integer(static_cast<int64_t>(f.size)));
		if (f.status == FileStatus::ok && f.error.empty()) {
			if (out_dir_) v.set("output", json::Value::string(output_dir_ + "/" + f.output));
			else v.set("base64", json::Value::string(base64_encode(f.data)));
		}
		if (!f.error.empty()) v.set("error", json::Value::string(f.error));
		files.append(std::move(v));
	}
	return files;
}

}  // namespace bencher::results
