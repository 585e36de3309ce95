// size.hh: human sizes on command lines and in configs ("512M", "1G", "1.5G").
// Units are binary (K = 1024); a bare number is in `default_unit` bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace bencher {

// Parses "4096", "512K", "512M", "1G", "2T", "1.5G", "64MiB", "64MB" (case
// insensitive suffix). Throws Error naming `what` for empty, negative,
// malformed or overflowing input.
uint64_t parse_size(std::string_view text, std::string_view what, uint64_t default_unit = 1);

// The shortest exact form: 536870912 -> "512M", 1000 -> "1000".
std::string format_size(uint64_t bytes);

// Parses a non-negative decimal integer in [min, max]; throws naming `what`.
uint64_t parse_uint(std::string_view text, std::string_view what, uint64_t min = 0, uint64_t max = UINT64_MAX);

}  // namespace bencher
