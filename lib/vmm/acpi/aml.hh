// aml.hh: just enough ACPI Machine Language (ACPI 6.5, chapters 19-20) for
// the DSDT of tables.hh to declare devices: names, integers, strings,
// EISA ids, Device and Scope blocks, and resource templates with I/O ports,
// fixed memory and interrupts. Each function returns its encoding; a block
// takes its body already encoded. The bytes are those iasl emits for the
// same ASL, so a table disassembles to what it was meant to say.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <vector>

namespace bencher::vmm::acpi::aml {

using Bytes = std::vector<uint8_t>;

// The PkgLength of a block whose body is `body` bytes: it counts itself.
Bytes pkg_length(size_t body);
// A NameString: "\\_SB_", "COM1", "\\_SB_.V000"; each segment exactly four
// characters, the first a letter or '_', the rest letters, digits or '_'.
Bytes name_string(std::string_view path);
// The shortest integer encoding: ZeroOp, OneOp, Byte/Word/DWord/QWordPrefix.
Bytes integer(uint64_t v);
Bytes string(std::string_view s);  // printable ASCII
// EisaId("PNP0501"): three capitals and four hex digits, compressed.
Bytes eisa_id(std::string_view id);

// Name(path, value), Device(path) { body }, Scope(path) { body }.
Bytes name(std::string_view path, const Bytes& value);
Bytes device(std::string_view path, const Bytes& body);
Bytes scope(std::string_view path, const Bytes& body);

// ResourceTemplate() { descriptors }: a Buffer ending with an EndTag.
Bytes resource_template(const Bytes& descriptors);
// IO(Decode16, base, base, 1, length).
Bytes io(uint16_t base, uint8_t length);
// Memory32Fixed(ReadWrite or ReadOnly, base, length).
Bytes memory32_fixed(bool writable, uint32_t base, uint32_t length);
// Interrupt(ResourceConsumer, Edge or Level, ActiveHigh or ActiveLow,
// Exclusive) { gsi }: an extended interrupt descriptor for one GSI.
Bytes interrupt(uint32_t gsi, bool edge, bool active_low);

// The parts one after another.
Bytes cat(std::initializer_list<Bytes> parts);
// Appends the low `n` bytes of `v`, little endian (as all of ACPI is).
void le(Bytes& out, uint64_t v, size_t n);

}  // namespace bencher::vmm::acpi::aml
