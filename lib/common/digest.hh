// digest.hh: SHA-256 and HMAC-SHA256 over OpenSSL libcrypto, incremental,
// for blob verification (oci-unpack) and the results HMAC (bencher-init,
// collect-results).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace bencher {

using Sha256Digest = std::array<uint8_t, 32>;

class Sha256 {
public:
	Sha256();
	~Sha256();
	Sha256(const Sha256&) = delete;
	Sha256& operator=(const Sha256&) = delete;
	void update(const void* data, size_t len);
	void update(std::string_view s) { update(s.data(), s.size()); }
	Sha256Digest finish();
	static std::string hex(std::string_view data);

private:
	struct Impl;
	std::unique_ptr<Impl> impl_;
};

class HmacSha256 {
public:
	explicit HmacSha256(std::string_view key);
	~HmacSha256();
	HmacSha256(const HmacSha256&) = delete;
	HmacSha256& operator=(const HmacSha256&) = delete;
	void update(const void* data, size_t len);
	void update(std::string_view s) { update(s.data(), s.size()); }
	Sha256Digest finish();

private:
	struct Impl;
	std::unique_ptr<Impl> impl_;
};

std::string to_hex(const uint8_t* data, size_t len);
inline std::string to_hex(const Sha256Digest& d) { return to_hex(d.data(), d.size()); }
// Constant-time comparison, for MACs.
bool equal_ct(std::string_view a, std::string_view b);
// Fills buf from the kernel's CSPRNG (getrandom); throws on failure.
void random_bytes(void* buf, size_t len);

}  // namespace bencher
