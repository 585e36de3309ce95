// protocol.cc: encoding and strict decoding of the results protocol; see
// protocol.hh for the wire forms.
#include "results/protocol.hh"

#include <charconv>
#include <set>

#include "common/error.hh"
#include "results/codec.hh"

namespace bencher::results {

namespace {

constexpr uint32_t kConfigMagic = 0x31435242;  // "BRC1" little-endian
constexpr uint32_t kFilesMagic = 0x31465242;   // "BRF1"

enum Tag : uint8_t {
	kTagArg = 1,
	kTagEnv = 2,
	kTagWorkdir = 3,
	kTagUser = 4,
	kTagFile = 5,
	kTagCgroup = 6,
	kTagMaxOutput = 7,
	kTagMaxFile = 8,
	kTagMaxFilesTotal = 9,
	kTagHmacKey = 10,
	kTagRootVirtiofs = 11,
	kTagMount = 12,  // u8 flags (bit 0: writable), u8 tag length, tag, path
};

constexpr uint8_t kMountWritable = 1;

bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

void check_string(std::string_view s, size_t max, const char* what) {
	if (s.size() > max) fail(strprintf("run config: %s: longer than %zu bytes", what, max));
	if (has_nul(s)) fail(strprintf("run config: %s: contains a NUL byte", what));
}

void put(Writer& w, Tag tag, std::string_view s) {
	w.u8(tag);
	w.u32(static_cast<uint32_t>(s.size()));
	w.bytes(s);
}

void put_u64(Writer& w, Tag tag, uint64_t v) {
	Writer x;
	x.u64(v);
	put(w, tag, x.str());
}

std::string encode_mount(const Mount& m) {
	Writer w;
	w.u8(m.writable ? kMountWritable : 0);
	w.u8(static_cast<uint8_t>(m.tag.size()));
	w.bytes(m.tag);
	w.bytes(m.path);
	return std::move(w.str());
}

Mount decode_mount(std::string_view v) {
	Reader r(v, "run config: mount");
	uint8_t flags = r.u8();
	if (flags & ~kMountWritable) fail(strprintf("run config: mount: unknown flags 0x%x", flags));
	Mount m;
	m.writable = flags & kMountWritable;
	m.tag = r.bytes(r.u8());
	m.path = r.bytes(r.remaining());
	return m;
}

void validate_mounts(const RunConfig& c) {
	if (!c.root_virtiofs.empty() && !valid_tag(c.root_virtiofs))
		fail(strprintf("run config: root.virtiofs: not a tag of 1 to %zu printable bytes", kMaxTagBytes));
	if (c.mounts.empty()) return;
	if (c.root_virtiofs.empty()) fail("run config: mounts: only inside a virtio-fs root (root.virtiofs)");
	if (c.mounts.size() > kMaxMounts) fail(strprintf("run config: mounts: more than %zu entries", kMaxMounts));
	std::set<std::string> paths, tags = {c.root_virtiofs};
	for (const auto& m : c.mounts) {
		std::string why;
		if (!valid_tag(m.tag))
			fail(strprintf("run config: mounts: \"%.64s\": not a tag of 1 to %zu printable bytes", m.tag.c_str(), kMaxTagBytes));
		if (!valid_file_path(m.path, &why)) fail(strprintf("run config: mounts: \"%.64s\": %s", m.path.c_str(), why.c_str()));
		if (!tags.insert(m.tag).second) fail("run config: mounts: tag \"" + m.tag + "\" used twice");
		if (!paths.insert(m.path).second) fail(strprintf("run config: mounts: \"%.64s\": listed twice", m.path.c_str()));
	}
}

}  // namespace

bool valid_tag(std::string_view tag) {
	if (tag.empty() || tag.size() > kMaxTagBytes) return false;
	for (char ch : tag)
		if (ch <= 0x20 || ch >= 0x7f) return false;
	return true;
}

bool valid_file_path(std::string_view p, std::string* why) {
	auto no = [&](const char* reason) {
		if (why) *why = reason;
		return false;
	};
	if (p.empty() || p[0] != '/') return no("not an absolute path");
	if (p.size() > kMaxPathBytes) return no("too long");
	if (has_nul(p)) return no("contains a NUL byte");
	if (p.size() == 1) return no("names the root directory");
	size_t i = 1;
	while (i <= p.size()) {
		size_t j = p.find('/', i);
		if (j == std::string_view::npos) j = p.size();
		std::string_view comp = p.substr(i, j - i);
		if (comp.empty()) return no("has an empty component");
		if (comp == "." || comp == "..") return no("has a '.' or '..' component");
		i = j + 1;
	}
	return true;
}

void validate(RunConfig& c) {
	if (c.argv.empty()) fail("run config: argv: empty (no command to run)");
	if (c.argv.size() > kMaxArgs) fail(strprintf("run config: argv: more than %zu entries", kMaxArgs));
	if (c.argv[0].empty()) fail("run config: argv[0]: empty");
	for (const auto& a : c.argv) check_string(a, kMaxStringBytes, "argv");
	if (c.env.size() > kMaxEnv) fail(strprintf("run config: env: more than %zu entries", kMaxEnv));
	for (const auto& e : c.env) {
		check_string(e, kMaxStringBytes, "env");
		size_t eq = e.find('=');
		if (eq == std::string::npos || eq == 0)
			fail(strprintf("run config: env: \"%.64s\": not KEY=VALUE", e.c_str()));
	}
	check_string(c.workdir, kMaxPathBytes, "workdir");
	if (c.workdir.empty() || c.workdir[0] != '/') fail("run config: workdir: not an absolute path");
	check_string(c.user, kMaxUserBytes, "user");
	for (char ch : c.user)
		if (ch == '\n' || ch == '/') fail("run config: user: contains '/' or a newline");
	if (c.files.size() > kMaxFiles) fail(strprintf("run config: files: more than %zu entries", kMaxFiles));
	std::set<std::string> seen;
	for (const auto& f : c.files) {
		std::string why;
		if (!valid_file_path(f, &why)) fail(strprintf("run config: files: \"%.64s\": %s", f.c_str(), why.c_str()));
		if (!seen.insert(f).second) fail(strprintf("run config: files: \"%.64s\": listed twice", f.c_str()));
	}
	while (!c.cgroup.empty() && c.cgroup[0] == '/') c.cgroup.erase(0, 1);
	while (!c.cgroup.empty() && c.cgroup.back() == '/') c.cgroup.pop_back();
	if (!c.cgroup.empty()) {
		std::string why;
		if (!valid_file_path("/" + c.cgroup, &why)) fail("run config: cgroup: " + why);
	}
	if (c.max_output_bytes > kMaxLimit) fail("run config: max_output_bytes: too large");
	if (c.max_file_bytes > kMaxLimit) fail("run config: max_file_bytes: too large");
	if (c.max_files_total_bytes > kMaxLimit) fail("run config: max_files_total_bytes: too large");
	if (!c.hmac_key.empty() && (c.hmac_key.size() < kMinKeyBytes || c.hmac_key.size() > kMaxKeyBytes))
		fail(strprintf("run config: hmac key: must be %zu to %zu bytes", kMinKeyBytes, kMaxKeyBytes));
	validate_mounts(c);
}

std::string encode_config(const RunConfig& c) {
	Writer body;
	for (const auto& a : c.argv) put(body, kTagArg, a);
	for (const auto& e : c.env) put(body, kTagEnv, e);
	put(body, kTagWorkdir, c.workdir);
	if (!c.user.empty()) put(body, kTagUser, c.user);
	for (const auto& f : c.files) put(body, kTagFile, f);
	if (!c.cgroup.empty()) put(body, kTagCgroup, c.cgroup);
	put_u64(body, kTagMaxOutput, c.max_output_bytes);
	put_u64(body, kTagMaxFile, c.max_file_bytes);
	put_u64(body, kTagMaxFilesTotal, c.max_files_total_bytes);
	if (!c.hmac_key.empty()) put(body, kTagHmacKey, c.hmac_key);
	if (!c.root_virtiofs.empty()) put(body, kTagRootVirtiofs, c.root_virtiofs);
	for (const auto& m : c.mounts) {
		if (m.tag.size() > 255) fail("run config: mounts: tag too long");
		put(body, kTagMount, encode_mount(m));
	}
	Writer w;
	w.u32(kConfigMagic);
	w.u32(static_cast<uint32_t>(body.str().size()));
	w.bytes(body.str());
	if (w.str().size() > kMaxConfigBytes) fail("run config: larger than 1 MiB encoded");
	return std::move(w.str());
}

RunConfig decode_config(std::string_view data) {
	if (data.size() > kMaxConfigBytes) fail("run config: larger than 1 MiB");
	Reader r(data, "run config");
	if (r.u32() != kConfigMagic) fail("run config: bad magic (not a bencher run config)");
	uint32_t len = r.u32();
	if (len != r.remaining()) fail("run config: length does not match the data");
	RunConfig c;
	std::set<uint8_t> singles;
	auto u64_of = [](std::string_view v) {
		Reader x(v, "run config: limit");
		uint64_t n = x.u64();
		if (!x.done()) fail("run config: limit: not 8 bytes");
		return n;
	};
	while (!r.done()) {
		uint8_t tag = r.u8();
		uint32_t n = r.u32();
		std::string_view v = r.bytes(n);
		bool repeated = tag == kTagArg || tag == kTagEnv || tag == kTagFile || tag == kTagMount;
		if (!repeated && !singles.insert(tag).second)
			fail(strprintf("run config: field %u given twice", tag));
		switch (tag) {
		case kTagArg: c.argv.emplace_back(v); break;
		case kTagEnv: c.env.emplace_back(v); break;
		case kTagWorkdir: c.workdir = v; break;
		case kTagUser: c.user = v; break;
		case kTagFile: c.files.emplace_back(v); break;
		case kTagCgroup: c.cgroup = v; break;
		case kTagMaxOutput: c.max_output_bytes = u64_of(v); break;
		case kTagMaxFile: c.max_file_bytes = u64_of(v); break;
		case kTagMaxFilesTotal: c.max_files_total_bytes = u64_of(v); break;
		case kTagHmacKey: c.hmac_key = v; break;
		case kTagRootVirtiofs:
			if (v.empty()) fail("run config: root.virtiofs: empty");
			c.root_virtiofs = v;
			break;
		case kTagMount: c.mounts.push_back(decode_mount(v)); break;
		default: fail(strprintf("run config: unknown field %u", tag));
		}
		if (c.argv.size() > kMaxArgs || c.env.size() > kMaxEnv || c.files.size() > kMaxFiles || c.mounts.size() > kMaxMounts)
			fail("run config: too many entries");
	}
	validate(c);
	return c;
}

// ---- exit record ------------------------------------------------------------

std::string format_exit(const ExitRecord& r) {
	std::string s = strprintf("%d\nsignal=%d\nstdout_bytes=%llu\nstderr_bytes=%llu\nstdout_truncated=%d\nstderr_truncated=%d\n",
	                          r.exit_code, r.signal, static_cast<unsigned long long>(r.stdout_bytes),
	                          static_cast<unsigned long long>(r.stderr_bytes), r.stdout_truncated ? 1 : 0,
	                          r.stderr_truncated ? 1 : 0);
	if (!r.error.empty()) {
		std::string e;
		for (char ch : r.error.substr(0, kMaxErrorBytes))
			e += (ch >= 0x20 && ch < 0x7f) ? ch : '?';
		s += "error=" + e + "\n";
	}
	return s;
}

static uint64_t parse_num(std::string_view v, uint64_t max, const char* key) {
	uint64_t n = 0;
	auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
	if (v.empty() || ec != std::errc() || p != v.data() + v.size() || n > max || (v.size() > 1 && v[0] == '0'))
		fail(strprintf("exit record: %s: not a number in range", key));
	return n;
}

ExitRecord parse_exit(std::string_view text) {
	if (text.size() > kMaxExitRecordBytes) fail("exit record: too long");
	ExitRecord r;
	std::set<std::string> seen;
	size_t line_no = 0;
	while (!text.empty()) {
		size_t nl = text.find('\n');
		std::string_view line = text.substr(0, nl);
		text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
		if (line_no++ == 0) {
			r.exit_code = static_cast<int>(parse_num(line, 255, "exit code"));
			continue;
		}
		size_t eq = line.find('=');
		if (eq == std::string_view::npos) fail("exit record: line without '='");
		std::string key(line.substr(0, eq));
		std::string_view v = line.substr(eq + 1);
		if (!seen.insert(key).second) fail("exit record: " + key + " given twice");
		if (key == "signal") r.signal = static_cast<int>(parse_num(v, 64, "signal"));
		else if (key == "stdout_bytes") r.stdout_bytes = parse_num(v, UINT64_MAX, "stdout_bytes");
		else if (key == "stderr_bytes") r.stderr_bytes = parse_num(v, UINT64_MAX, "stderr_bytes");
		else if (key == "stdout_truncated") r.stdout_truncated = parse_num(v, 1, "stdout_truncated");
		else if (key == "stderr_truncated") r.stderr_truncated = parse_num(v, 1, "stderr_truncated");
		else if (key == "error") {
			if (v.size() > kMaxErrorBytes) fail("exit record: error: too long");
			for (char ch : v)
				if (ch < 0x20 || ch >= 0x7f) fail("exit record: error: not printable");
			r.error = v;
		} else
			fail("exit record: unknown key \"" + key.substr(0, 32) + "\"");
	}
	if (line_no == 0) fail("exit record: empty");
	return r;
}

// ---- files -------------------------------------------------------------------

const char* file_status_name(FileStatus s) {
	switch (s) {
	case FileStatus::ok: return "ok";
	case FileStatus::missing: return "missing";
	case FileStatus::too_large: return "too_large";
	case FileStatus::not_regular: return "not_regular";
	case FileStatus::error: return "error";
	}
	return "unknown";
}

std::string encode_files_begin() {
	Writer w;
	w.u32(kFilesMagic);
	return std::move(w.str());
}

std::string encode_file_header(std::string_view name, FileStatus status, uint64_t size) {
	if (name.empty() || name.size() > kMaxPathBytes) fail("files: bad name length");
	Writer w;
	w.u16(static_cast<uint16_t>(name.size()));
	w.bytes(name);
	w.u8(static_cast<uint8_t>(status));
	w.u64(size);
	return std::move(w.str());
}

std::string encode_files_end() {
	Writer w;
	w.u16(0);
	return std::move(w.str());
}

FileStreamParser::FileStreamParser(std::vector<std::string> expected, uint64_t max_file, uint64_t max_total, Sink sink)
    : expected_(std::move(expected)), max_file_(max_file), max_total_(max_total), sink_(std::move(sink)) {}

// Moves bytes from `in` into buf_ until it holds n; true when it does.
bool FileStreamParser::need(std::string_view& in, size_t n) {
	size_t take = std::min(n - buf_.size(), in.size());
	buf_.append(in.substr(0, take));
	in.remove_prefix(take);
	return buf_.size() == n;
}

void FileStreamParser::feed(std::string_view in) {
	while (!in.empty()) {
		switch (state_) {
		case State::magic:
			if (!need(in, 4)) return;
			if (Reader(buf_, "files").u32() != kFilesMagic) fail("files: bad magic");
			buf_.clear();
			state_ = State::name_len;
			break;
		case State::name_len: {
			if (!need(in, 2)) return;
			uint16_t n = Reader(buf_, "files").u16();
			buf_.clear();
			if (n == 0) {
				if (index_ != expected_.size())
					fail(strprintf("files: stream ended after %zu of %zu files", index_, expected_.size()));
				state_ = State::done;
				break;
			}
			if (index_ >= expected_.size()) fail("files: more files than requested");
			if (n != expected_[index_].size()) fail(strprintf("files: record %zu: not the requested name", index_));
			left_ = n;
			state_ = State::name;
			break;
		}
		case State::name:
			if (!need(in, left_)) return;
			if (buf_ != expected_[index_]) fail(strprintf("files: record %zu: not the requested name", index_));
			name_ = std::move(buf_);
			buf_.clear();
			state_ = State::status;
			break;
		case State::status: {
			if (!need(in, 1)) return;
			uint8_t s = static_cast<uint8_t>(buf_[0]);
			buf_.clear();
			if (s > static_cast<uint8_t>(FileStatus::error)) fail(strprintf("files: %s: unknown status %u", name_.c_str(), s));
			status_ = static_cast<FileStatus>(s);
			state_ = State::size;
			break;
		}
		case State::size: {
			if (!need(in, 8)) return;
			uint64_t size = Reader(buf_, "files").u64();
			buf_.clear();
			if (status_ == FileStatus::ok) {
				if (size > max_file_) fail(strprintf("files: %s: %llu bytes, over the limit", name_.c_str(), static_cast<unsigned long long>(size)));
				if (size > max_total_ - total_) fail(strprintf("files: %s: over the total limit", name_.c_str()));
				total_ += size;
			} else if (status_ != FileStatus::too_large && size != 0) {
				fail(strprintf("files: %s: data with status %s", name_.c_str(), file_status_name(status_)));
			}
			if (sink_.begin) sink_.begin(index_, name_, status_, size);
			left_ = status_ == FileStatus::ok ? size : 0;
			state_ = State::data;
			if (left_ == 0) take_header();
			break;
		}
		case State::data: {
			size_t take = static_cast<size_t>(std::min<uint64_t>(left_, in.size()));
			if (sink_.data) sink_.data(index_, in.substr(0, take));
			in.remove_prefix(take);
			left_ -= take;
			if (left_ == 0) take_header();
			break;
		}
		case State::done:
			fail("files: data after the end record");
		}
	}
}

void FileStreamParser::take_header() {
	if (sink_.end) sink_.end(index_);
	index_++;
	state_ = State::name_len;
}

void FileStreamParser::finish() const {
	if (state_ != State::done) fail("files: stream ended early");
}

// ---- HMAC --------------------------------------------------------------------

ResultDigest::ResultDigest() {
	for (auto& s : sha_) s = std::make_unique<Sha256>();
}
ResultDigest::~ResultDigest() = default;

size_t ResultDigest::slot(uint32_t port) const {
	for (size_t i = 0; i < kHmacPorts.size(); i++)
		if (kHmacPorts[i] == port) return i;
	fail(strprintf("hmac: port %u is not covered", port));
}

void ResultDigest::add(uint32_t port, std::string_view data) {
	size_t i = slot(port);
	sha_[i]->update(data);
	count_[i] += data.size();
}

uint64_t ResultDigest::bytes(uint32_t port) const { return count_[slot(port)]; }

std::string ResultDigest::hmac_hex(std::string_view key) {
	Writer w;
	w.bytes("bencher-results-hmac-v1\n");
	for (size_t i = 0; i < kHmacPorts.size(); i++) {
		w.u32(kHmacPorts[i]);
		w.u64(count_[i]);
		Sha256Digest d = sha_[i]->finish();
		w.bytes(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
	}
	HmacSha256 h(key);
	h.update(w.str());
	return to_hex(h.finish());
}

std::string parse_hmac_line(std::string_view text) {
	if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
	if (text.size() != 64) fail("hmac: not 64 hex digits");
	for (char ch : text)
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) fail("hmac: not lowercase hex");
	return std::string(text);
}

}  // namespace bencher::results
