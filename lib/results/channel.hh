// channel.hh: collect-results' side of the results channel. The accept
// policy (the config port first and once, then each result port once), the
// demux of ports 5000-5005 and of the serial fallback's records, and the HMAC
// over everything received. Guest data arrives here first: bounded, and never
// trusted beyond what the HMAC vouches for.
#pragma once

#include <poll.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/fd.hh"
#include "results/protocol.hh"
#include "results/verdict.hh"
#include "vsock/control.hh"

namespace bencher::results {

// O_NONBLOCK on, for fds the poll loop reads.
void set_nonblock(int fd);

// Who may connect. bencher-init opens every connection before the workload
// starts, so a second one to any port, a result port before the config, or an
// unknown port is a workload trying to take or add a channel: refused.
class AcceptPolicy {
public:
	enum class Decision { refuse, config, result };
	// Decides and records: an accepted port is taken from then on.
	Decision decide(uint32_t port);
	uint64_t refused() const { return refused_; }

private:
	bool config_sent_ = false;
	std::set<uint32_t> taken_;
	uint64_t refused_ = 0;
};

class Channel {
public:
	struct Sink {
		std::function<void(std::string_view)> out, err, files;  // the workload's streams and files
		std::function<void()> config_sent, exit_received;      // stage marks
		std::function<void(HmacStatus)> hmac_checked;          // passed or failed, once
	};
	// `config` carries the HMAC key (empty for no HMAC).
	Channel(const RunConfig& config, Sink sink);

	// One message from the control socket; resets `ctl` at its end or on a
	// malformed message.
	void control(UniqueFd& ctl);
	// A guest connection the VMM passed on: refused, served the config, or
	// kept for reading.
	void connect(const vsock::ControlMsg& m, UniqueFd fd, int ctl);
	// Reads what one connection has.
	void readable(uint32_t port);
	// The serial fallback's records (types O, E, X, F), ignored once vsock won.
	void serial_record(char type, std::string_view payload);

	// The connections still to read, for poll().
	void poll_set(std::vector<pollfd>& fds, std::vector<uint32_t>& ports) const;
	// Every accepted connection has ended.
	bool quiet() const;

	// At the end: the exit record, if a complete and well-formed one arrived
	// (`ended` says whether the serial fallback reached its end record);
	// otherwise the reason in `error` (empty when nothing arrived at all).
	std::optional<ExitRecord> exit_record(bool serial_ended, std::string& error) const;
	Transport transport() const { return transport_; }
	// Over serial there is no key to check against: unavailable.
	HmacStatus hmac() const { return transport_ == Transport::serial ? HmacStatus::unavailable : hmac_; }
	uint64_t refused() const { return policy_.refused(); }

private:
	struct Conn {
		UniqueFd fd;
		bool eof = false;
	};
	void serve_config(int fd);
	void data(uint32_t port, std::string_view d);
	void add_exit(std::string_view d);
	void eof(uint32_t port);
	void maybe_check_hmac();

	std::string key_;
	std::string config_wire_;
	Sink sink_;
	AcceptPolicy policy_;
	ResultDigest digest_;
	std::map<uint32_t, Conn> conns_;
	Transport transport_ = Transport::none;
	std::string exit_text_;
	bool exit_overflow_ = false;
	std::string hmac_line_;
	bool hmac_done_ = false;
	HmacStatus hmac_ = HmacStatus::missing;
};

}  // namespace bencher::results
