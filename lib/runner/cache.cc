// cache.cc: the rootfs cache key and the digest memo (see cache.hh).
#include "runner/cache.hh"

#include <fcntl.h>
#include <sys/stat.h>

#include <filesystem>

#include "common/digest.hh"
#include "common/error.hh"
#include "common/fd.hh"

namespace bencher::runner {

std::string rootfs_key(const RootfsKey& k) {
	std::string text = k.image_digest + "\n" + k.init_digest + "\n" + (k.disk.empty() ? "auto" : k.disk) + "\n" +
			   k.version + "\n";
	return Sha256::hex(text).substr(0, 32);
}

namespace {

std::string hash_fd(int fd, const std::string& what) {
	Sha256 h;
	char buf[1 << 16];
	for (;;) {
		size_t n = read_full(fd, buf, sizeof buf, what);
		if (n == 0) break;
		h.update(buf, n);
	}
	return to_hex(h.finish());
}

bool is_hex64(const std::string& s) {
	return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

std::string read_memo(const std::string& path) {
	try {
		std::string s = read_file(path, 128);
		if (!s.empty() && s.back() == '\n') s.pop_back();
		return is_hex64(s) ? s : "";
	} catch (const Error&) {
		return "";
	}
}

void write_memo(const std::string& dir, const std::string& path, const std::string& hex) {
	std::error_code ec;
	std::filesystem::create_directories(dir, ec);
	if (ec) return;
	try {
		AtomicFile f(path);
		write_all(f.fd(), hex + "\n", path);
		f.commit();
	} catch (const Error&) {
		// A cache we cannot write is a cache that misses next time.
	}
}

}  // namespace

std::string file_digest_memo(const std::string& file, const std::string& memo_dir) {
	UniqueFd fd = open_file(file, O_RDONLY);
	struct stat st {};
	if (fstat(fd.get(), &st) < 0) fail_errno("stat " + file);
	std::string memo = memo_dir + "/" +
			   strprintf("%llu-%llu-%lld-%lld.%09ld", static_cast<unsigned long long>(st.st_dev),
				     static_cast<unsigned long long>(st.st_ino), static_cast<long long>(st.st_size),
				     static_cast<long long>(st.st_mtim.tv_sec), st.st_mtim.tv_nsec);
	std::string hex = read_memo(memo);
	if (!hex.empty()) return hex;
	hex = hash_fd(fd.get(), file);
	write_memo(memo_dir, memo, hex);
	return hex;
}

}  // namespace bencher::runner
