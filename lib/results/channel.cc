// channel.cc: accept policy, port demux and HMAC (see channel.hh).
#include "results/channel.hh"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "common/error.hh"
#include "common/log.hh"

namespace bencher::results {

namespace {

using vsock::ControlMsg;
using vsock::MsgType;

constexpr size_t kReadChunk = 64 << 10;
constexpr size_t kMaxHmacLine = 128;
constexpr uint32_t kResultPorts[] = {vsock::kPortStdout, vsock::kPortStderr, vsock::kPortExitCode, vsock::kPortHmac,
                                     vsock::kPortFiles};
// What the HMAC covers besides the config: checked once all of these ended.
constexpr uint32_t kCoveredPorts[] = {vsock::kPortStdout, vsock::kPortStderr, vsock::kPortExitCode,
                                      vsock::kPortFiles};

}  // namespace

void set_nonblock(int fd) {
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

AcceptPolicy::Decision AcceptPolicy::decide(uint32_t port) {
	if (port == vsock::kPortConfig && !config_sent_) {
		config_sent_ = true;
		return Decision::config;
	}
	bool result = std::find(std::begin(kResultPorts), std::end(kResultPorts), port) != std::end(kResultPorts);
	if (result && config_sent_ && taken_.insert(port).second) return Decision::result;
	refused_++;
	return Decision::refuse;
}

Channel::Channel(const RunConfig& config, Sink sink)
    : key_(config.hmac_key), config_wire_(encode_config(config)), sink_(std::move(sink)) {}

void Channel::control(UniqueFd& ctl) {
	ControlMsg m;
	UniqueFd fd;
	try {
		if (!vsock::recv_msg(ctl.get(), m, fd)) {
			ctl.reset();
			return;
		}
	} catch (const Error& e) {
		if (errno == EAGAIN) return;
		BLOG_ERROR("%s: closing the control channel", e.what());
		ctl.reset();
		return;
	}
	if (m.type != static_cast<uint16_t>(MsgType::guest_connect)) {
		BLOG_WARN("vsock control: unexpected %s message, ignored", vsock::msg_type_name(m.type));
		return;
	}
	connect(m, std::move(fd), ctl.get());
}

void Channel::connect(const ControlMsg& m, UniqueFd fd, int ctl) {
	ControlMsg reply;
	reply.conn_id = m.conn_id;
	reply.host_port = m.host_port;
	reply.guest_port = m.guest_port;
	AcceptPolicy::Decision d = policy_.decide(m.host_port);
	if (d == AcceptPolicy::Decision::refuse) {
		BLOG_WARN("refused guest connection to port %u (from guest port %u)", m.host_port, m.guest_port);
		reply.type = static_cast<uint16_t>(MsgType::refuse);
		vsock::send_msg(ctl, reply);
		return;
	}
	reply.type = static_cast<uint16_t>(MsgType::accept);
	vsock::send_msg(ctl, reply);
	if (d == AcceptPolicy::Decision::config) {
		serve_config(fd.get());
		return;  // the connection closes here
	}
	set_nonblock(fd.get());
	BLOG_INFO("accepted guest connection to port %u", m.host_port);
	conns_[m.host_port] = Conn{std::move(fd), false};
}

void Channel::serve_config(int fd) {
	transport_ = Transport::vsock;
	if (sink_.config_sent) sink_.config_sent();
	digest_.add(vsock::kPortConfig, config_wire_);
	try {
		write_all(fd, config_wire_, "run config");
		shutdown(fd, SHUT_WR);
	} catch (const Error& e) {
		BLOG_ERROR("%s", e.what());
	}
	BLOG_INFO("run config sent (%zu bytes)", config_wire_.size());
}

void Channel::readable(uint32_t port) {
	auto it = conns_.find(port);
	if (it == conns_.end() || !it->second.fd || it->second.eof) return;
	char buf[kReadChunk];
	ssize_t n = read(it->second.fd.get(), buf, sizeof buf);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
	if (n < 0) {
		BLOG_WARN("%s", errno_message(strprintf("port %u", port), errno).c_str());
		eof(port);
	} else if (n == 0) {
		eof(port);
	} else {
		data(port, std::string_view(buf, static_cast<size_t>(n)));
	}
	maybe_check_hmac();
}

void Channel::add_exit(std::string_view d) {
	if (exit_text_.size() + d.size() > kMaxExitRecordBytes) exit_overflow_ = true;
	else exit_text_.append(d);
}

void Channel::data(uint32_t port, std::string_view d) {
	if (port != vsock::kPortHmac) digest_.add(port, d);
	switch (port) {
	case vsock::kPortStdout: sink_.out(d); break;
	case vsock::kPortStderr: sink_.err(d); break;
	case vsock::kPortExitCode: add_exit(d); break;
	case vsock::kPortFiles: sink_.files(d); break;
	case vsock::kPortHmac:
		if (hmac_line_.size() + d.size() > kMaxHmacLine) {
			hmac_line_ = "overflow";
			hmac_done_ = true;
		} else {
			hmac_line_.append(d);
			if (hmac_line_.find('\n') != std::string::npos) hmac_done_ = true;
		}
		break;
	}
}

void Channel::eof(uint32_t port) {
	Conn& c = conns_[port];
	c.eof = true;
	c.fd.reset();
	if (port == vsock::kPortHmac) hmac_done_ = true;
	if (port == vsock::kPortExitCode && !exit_text_.empty() && sink_.exit_received) sink_.exit_received();
}

void Channel::serial_record(char type, std::string_view payload) {
	if (transport_ == Transport::none) transport_ = Transport::serial;
	if (transport_ != Transport::serial) return;  // vsock won: ignore console forgeries
	switch (type) {
	case 'O': sink_.out(payload); break;
	case 'E': sink_.err(payload); break;
	case 'X':
		add_exit(payload);
		if (sink_.exit_received) sink_.exit_received();
		break;
	case 'F': sink_.files(payload); break;
	}
}

// The HMAC is checked once everything it covers has ended; then init gets
// its acknowledgement ("ok") and may power off knowing nothing is in flight.
void Channel::maybe_check_hmac() {
	auto it = conns_.find(vsock::kPortHmac);
	if (it == conns_.end() || !hmac_done_ || hmac_ != HmacStatus::missing) return;
	// Closed without a word (the VM was stopped): missing, not failed.
	if (hmac_line_.empty()) return;
	for (uint32_t p : kCoveredPorts) {
		auto c = conns_.find(p);
		if (c != conns_.end() && !c->second.eof) return;
	}
	std::string expected = digest_.hmac_hex(key_);
	try {
		hmac_ = equal_ct(parse_hmac_line(hmac_line_), expected) ? HmacStatus::passed : HmacStatus::failed;
	} catch (const Error&) {
		hmac_ = HmacStatus::failed;
	}
	if (sink_.hmac_checked) sink_.hmac_checked(hmac_);
	if (it->second.fd) {
		(void)!send(it->second.fd.get(), "ok\n", 3, MSG_NOSIGNAL | MSG_DONTWAIT);
		it->second.fd.reset();
		it->second.eof = true;
	}
}

void Channel::poll_set(std::vector<pollfd>& fds, std::vector<uint32_t>& ports) const {
	for (const auto& [port, c] : conns_) {
		if (!c.fd || c.eof || (port == vsock::kPortHmac && hmac_done_)) continue;
		fds.push_back({c.fd.get(), POLLIN, 0});
		ports.push_back(port);
	}
}

bool Channel::quiet() const {
	return std::all_of(conns_.begin(), conns_.end(), [](const auto& c) { return c.second.eof; });
}

std::optional<ExitRecord> Channel::exit_record(bool serial_ended, std::string& error) const {
	auto exit_conn = conns_.find(vsock::kPortExitCode);
	bool complete = (transport_ == Transport::vsock && exit_conn != conns_.end() && exit_conn->second.eof) ||
	                (transport_ == Transport::serial && serial_ended);
	error.clear();
	if (exit_overflow_) {
		error = "exit record too long";
	} else if (!exit_text_.empty() && complete) {
		try {
			return parse_exit(exit_text_);
		} catch (const Error& e) {
			error = e.what();
		}
	} else if (!exit_text_.empty()) {
		error = "exit record incomplete";
	}
	return std::nullopt;
}

}  // namespace bencher::results
