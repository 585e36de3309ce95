// digest.cc: libcrypto EVP wrappers.
#include "common/digest.hh"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/random.h>

#include <cerrno>

#include "common/error.hh"

namespace bencher {

struct Sha256::Impl {
	EVP_MD_CTX* ctx = nullptr;
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
	impl_->ctx = EVP_MD_CTX_new();
	if (impl_->ctx == nullptr || EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr) != 1)
		fail("sha256: cannot initialise libcrypto digest");
}

Sha256::~Sha256() { EVP_MD_CTX_free(impl_->ctx); }

void Sha256::update(const void* data, size_t len) {
	if (EVP_DigestUpdate(impl_->ctx, data, len) != 1) fail("sha256: update failed");
}

Sha256Digest Sha256::finish() {
	Sha256Digest d{};
	unsigned int n = 0;
	if (EVP_DigestFinal_ex(impl_->ctx, d.data(), &n) != 1 || n != d.size()) fail("sha256: final failed");
	return d;
}

std::string Sha256::hex(std::string_view data) {
	Sha256 h;
	h.update(data);
	return to_hex(h.finish());
}

// EVP_MAC is OpenSSL 3; HMAC_CTX is deprecated there, so use EVP_MAC.
struct HmacSha256::Impl {
	EVP_MAC* mac = nullptr;
	EVP_MAC_CTX* ctx = nullptr;
};

HmacSha256::HmacSha256(std::string_view key) : impl_(std::make_unique<Impl>()) {
	impl_->mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
	if (impl_->mac == nullptr) fail("hmac: HMAC not available in libcrypto");
	impl_->ctx = EVP_MAC_CTX_new(impl_->mac);
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string("digest", digest, 0),
	    OSSL_PARAM_construct_end(),
	};
	if (impl_->ctx == nullptr ||
	    EVP_MAC_init(impl_->ctx, reinterpret_cast<const unsigned char*>(key.data()), key.size(), params) != 1)
		fail("hmac: cannot initialise");
}

HmacSha256::~HmacSha256() {
	EVP_MAC_CTX_free(impl_->ctx);
	EVP_MAC_free(impl_->mac);
}

void HmacSha256::update(const void* data, size_t len) {
	if (EVP_MAC_update(impl_->ctx, static_cast<const unsigned char*>(data), len) != 1)
		fail("hmac: update failed");
}

Sha256Digest HmacSha256::finish() {
	Sha256Digest d{};
	size_t n = 0;
	if (EVP_MAC_final(impl_->ctx, d.data(), &n, d.size()) != 1 || n != d.size()) fail("hmac: final failed");
	return d;
}

std::string to_hex(const uint8_t* data, size_t len) {
	static const char digits[] = "0123456789abcdef";
	std::string s(len * 2, '0');
	for (size_t i = 0; i < len; i++) {
		s[2 * i] = digits[data[i] >> 4];
		s[2 * i + 1] = digits[data[i] & 15];
	}
	return s;
}

bool equal_ct(std::string_view a, std::string_view b) {
	if (a.size() != b.size()) return false;
	return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void random_bytes(void* buf, size_t len) {
	auto* p = static_cast<uint8_t*>(buf);
	while (len > 0) {
		ssize_t n = ::getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR) continue;
			fail_errno("getrandom");
		}
		p += n;
		len -= static_cast<size_t>(n);
	}
}

}  // namespace bencher
