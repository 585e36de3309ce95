// receipt.cc: the run config's receipt and the choice of result sink (see
// receipt.hh).
#include "guest/receipt.hh"

#include <unistd.h>

#include <cstring>
#include <optional>

#include "common/error.hh"
#include "common/fd.hh"
#include "common/log.hh"
#include "vsock/control.hh"

namespace bencher::guest {

using results::RunConfig;

namespace {

void wipe(std::string& s) {
	explicit_bzero(s.data(), s.size());
	s.clear();
}

// Reads the run config over port 5004. Returns the wire bytes too (the HMAC
// covers them), or nothing when the port cannot be reached.
std::optional<std::pair<RunConfig, std::string>> config_from(Connector& c) {
	UniqueFd fd;
	try {
		fd = c.connect(vsock::kPortConfig);
	} catch (const Error& e) {
		BLOG_WARN("%s: falling back to the serial console", e.what());
		return std::nullopt;
	}
	std::string wire = read_all(fd.get(), results::kMaxConfigBytes, "run config");
	RunConfig cfg = results::decode_config(wire);
	if (cfg.hmac_key.empty()) fail("run config: no HMAC key");
	return std::make_pair(std::move(cfg), std::move(wire));
}

}  // namespace

Channel open_channel(Connector& c, const ChannelOptions& o) {
	Channel ch;
	std::optional<std::pair<RunConfig, std::string>> got;
	if (!o.serial) got = config_from(c);
	if (got) {
		ch.cfg = std::move(got->first);
		ch.sink = std::make_unique<VsockSink>(c, ch.cfg.hmac_key, got->second, o.corrupt_port);
		wipe(ch.cfg.hmac_key);
		return ch;
	}
	ch.cfg = results::decode_config(read_file(o.config_file, results::kMaxConfigBytes));
	if (o.remove_config_file) unlink(o.config_file.c_str());
	wipe(ch.cfg.hmac_key);
	ch.sink = std::make_unique<SerialSink>(o.console_fd);
	return ch;
}

}  // namespace bencher::guest
