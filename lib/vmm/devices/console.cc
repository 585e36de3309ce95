// console.cc: the bounded console sink of console.hh.
#include "vmm/devices/console.hh"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.hh"

namespace bencher::vmm {

namespace {
constexpr char kPanicMarker[] = "Kernel panic - not syncing";
constexpr size_t kPanicLen = sizeof kPanicMarker - 1;
}  // namespace

void Console::put(uint8_t c) {
	std::lock_guard lock(mu_);
	bytes_++;
	// The marker has no repeated prefix, so a mismatch restarts the match.
	if (static_cast<char>(c) == kPanicMarker[match_]) {
		if (++match_ == kPanicLen) {
			panic_ = true;
			match_ = 0;
		}
	} else {
		match_ = static_cast<char>(c) == kPanicMarker[0] ? 1 : 0;
	}
	if (written_ + buf_.size() >= limit_) return;
	buf_.push_back(static_cast<char>(c));
	if (c == '\n' || buf_.size() >= 4096) flush_locked();
}

void Console::flush() {
	std::lock_guard lock(mu_);
	flush_locked();
}

void Console::flush_locked() {
	size_t off = 0;
	while (off < buf_.size()) {
		ssize_t n = ::write(fd_, buf_.data() + off, buf_.size() - off);
		if (n < 0 && errno == EINTR) continue;
		if (n <= 0) {
			// A console that stops taking output must not stop the guest.
			BLOG_WARN("console: %s; the rest of the guest's output is dropped",
			          n < 0 ? strerror(errno) : "no progress");
			limit_ = written_;
			break;
		}
		off += static_cast<size_t>(n);
		written_ += static_cast<uint64_t>(n);
	}
	buf_.clear();
}

}  // namespace bencher::vmm
