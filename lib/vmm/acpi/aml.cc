// aml.cc: the AML encoder of aml.hh. Opcodes and descriptor layouts from
// ACPI 6.5: 20.2 (AML grammar), 6.4 (resource data types).
#include "vmm/acpi/aml.hh"

#include "common/error.hh"

namespace bencher::vmm::acpi::aml {

namespace {

constexpr uint8_t kZeroOp = 0x00, kOneOp = 0x01, kNameOp = 0x08, kBytePrefix = 0x0a, kWordPrefix = 0x0b,
                  kDWordPrefix = 0x0c, kStringPrefix = 0x0d, kQWordPrefix = 0x0e, kScopeOp = 0x10, kBufferOp = 0x11,
                  kExtOpPrefix = 0x5b, kDeviceOp = 0x82, kRootChar = 0x5c, kDualNamePrefix = 0x2e,
                  kMultiNamePrefix = 0x2f;
// Resource descriptors: small items carry their length in the tag byte.
constexpr uint8_t kIoPort = 0x47, kEndTag = 0x79, kMemory32Fixed = 0x86, kExtendedInterrupt = 0x89;

bool seg_char(char c, bool first) {
	return (c >= 'A' && c <= 'Z') || c == '_' || (!first && c >= '0' && c <= '9');
}

// An opcode, a PkgLength and the body: the shape of every block.
Bytes block(const Bytes& op, const Bytes& body) { return cat({op, pkg_length(body.size()), body}); }

}  // namespace

void le(Bytes& out, uint64_t v, size_t n) {
	for (size_t i = 0; i < n; i++) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

Bytes cat(std::initializer_list<Bytes> parts) {
	Bytes out;
	for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
	return out;
}

// One byte holds up to 63 in bits 0-5; longer lengths put their low nibble
// in the lead byte (whose bits 6-7 count the bytes that follow) and the
// rest, 8 bits at a time, after it.
Bytes pkg_length(size_t body) {
	if (body + 1 <= 0x3f) return {static_cast<uint8_t>(body + 1)};
	for (size_t extra = 1; extra <= 3; extra++) {
		size_t total = body + 1 + extra;
		if (total >= (size_t{1} << (4 + 8 * extra))) continue;
		Bytes out{static_cast<uint8_t>(extra << 6 | (total & 0xf))};
		le(out, total >> 4, extra);
		return out;
	}
	fail(strprintf("AML: a block of %zu bytes is too long", body));
}

Bytes name_string(std::string_view path) {
	Bytes out;
	if (!path.empty() && path[0] == '\\') {
		out.push_back(kRootChar);
		path.remove_prefix(1);
	}
	Bytes segs;
	size_t n = 0;
	for (;;) {
		std::string_view seg = path.substr(0, path.find('.'));
		if (seg.size() != 4 || !seg_char(seg[0], true) || !seg_char(seg[1], false) || !seg_char(seg[2], false) ||
		    !seg_char(seg[3], false))
			fail("AML: \"" + std::string(seg) + "\": not a name segment");
		segs.insert(segs.end(), seg.begin(), seg.end());
		n++;
		if (seg.size() == path.size()) break;
		path.remove_prefix(5);
	}
	if (n > 255) fail("AML: a name of more than 255 segments");
	if (n == 2) out.push_back(kDualNamePrefix);
	if (n > 2) out.insert(out.end(), {kMultiNamePrefix, static_cast<uint8_t>(n)});
	return cat({out, segs});
}

Bytes integer(uint64_t v) {
	if (v == 0) return {kZeroOp};
	if (v == 1) return {kOneOp};
	Bytes out;
	auto prefixed = [&](uint8_t prefix, size_t n) {
		out.push_back(prefix);
		le(out, v, n);
		return out;
	};
	if (v <= 0xff) return prefixed(kBytePrefix, 1);
	if (v <= 0xffff) return prefixed(kWordPrefix, 2);
	if (v <= 0xffffffff) return prefixed(kDWordPrefix, 4);
	return prefixed(kQWordPrefix, 8);
}

Bytes string(std::string_view s) {
	Bytes out{kStringPrefix};
	for (char c : s) {
		if (c < 0x20 || c > 0x7e) fail("AML: a string with a non-printable character");
		out.push_back(static_cast<uint8_t>(c));
	}
	out.push_back(0);
	return out;
}

// Three letters of five bits each (A = 1) and four hex digits, stored big
// endian as a DWord.
Bytes eisa_id(std::string_view id) {
	auto hex = [](char c) -> int {
		if (c >= '0' && c <= '9') return c - '0';
		if (c >= 'A' && c <= 'F') return c - 'A' + 10;
		return -1;
	};
	bool ok = id.size() == 7;
	for (size_t i = 0; ok && i < 7; i++) ok = i < 3 ? (id[i] >= 'A' && id[i] <= 'Z') : hex(id[i]) >= 0;
	if (!ok) fail("AML: \"" + std::string(id) + "\": not an EISA id");
	uint32_t v = static_cast<uint32_t>((id[0] - '@') << 26 | (id[1] - '@') << 21 | (id[2] - '@') << 16 |
	                                   hex(id[3]) << 12 | hex(id[4]) << 8 | hex(id[5]) << 4 | hex(id[6]));
	return integer(__builtin_bswap32(v));
}

Bytes name(std::string_view path, const Bytes& value) { return cat({{kNameOp}, name_string(path), value}); }

Bytes device(std::string_view path, const Bytes& body) {
	return block({kExtOpPrefix, kDeviceOp}, cat({name_string(path), body}));
}

Bytes scope(std::string_view path, const Bytes& body) { return block({kScopeOp}, cat({name_string(path), body})); }

// A Buffer: its size as an integer, then the bytes. The EndTag's checksum
// byte is 0, which says "do not check" (as iasl writes it).
Bytes resource_template(const Bytes& descriptors) {
	Bytes data = cat({descriptors, {kEndTag, 0}});
	return block({kBufferOp}, cat({integer(data.size()), data}));
}

Bytes io(uint16_t base, uint8_t length) {
	Bytes out{kIoPort, 0x01};  // decodes 16 address bits
	le(out, base, 2);          // minimum
	le(out, base, 2);          // maximum
	out.push_back(1);          // alignment
	out.push_back(length);
	return out;
}

Bytes memory32_fixed(bool writable, uint32_t base, uint32_t length) {
	Bytes out{kMemory32Fixed};
	le(out, 9, 2);
	out.push_back(writable ? 1 : 0);
	le(out, base, 4);
	le(out, length, 4);
	return out;
}

Bytes interrupt(uint32_t gsi, bool edge, bool active_low) {
	Bytes out{kExtendedInterrupt};
	le(out, 6, 2);
	out.push_back(static_cast<uint8_t>(1 | (edge ? 2 : 0) | (active_low ? 4 : 0)));  // consumer, exclusive
	out.push_back(1);                                                              // one interrupt
	le(out, gsi, 4);
	return out;
}

}  // namespace bencher::vmm::acpi::aml
