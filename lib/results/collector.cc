// collector.cc: the collect-results session (see collector.hh). One thread,
// one poll(): the signalfd, the control socket, COMMAND's stdout (the
// console, for the serial fallback) and the guest's connections.
#include "results/collector.hh"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cstdio>

#include "common/error.hh"
#include "common/fd.hh"
#include "common/log.hh"
#include "results/channel.hh"
#include "results/mirror.hh"
#include "results/serial.hh"
#include "results/supervisor.hh"
#include "vsock/control.hh"

namespace bencher::results {

namespace {

constexpr size_t kReadChunk = 64 << 10;
// What poll() slots other than guest connections (ports >= 5000) stand for.
constexpr uint32_t kSlotSignal = 0, kSlotControl = 1, kSlotConsole = 2;

// One of the workload's streams as we pass it on: limited, and a write that
// fails on our side drops the rest of that stream, never the run.
struct StreamOut {
	int fd;
	const char* name;
	OutputLimiter limit;
	uint64_t received = 0;
	bool write_failed = false;

	void emit(std::string_view data) {
		received += data.size();
		size_t take = limit.admit(data.size());
		if (take == 0 || write_failed) return;
		try {
			write_all(fd, data.data(), take, name);
		} catch (const Error& e) {
			BLOG_WARN("%s: the rest of the workload's output on it is dropped", e.what());
			write_failed = true;
		}
	}
	StreamFigures figures() const { return {limit.passed, received, limit.truncated()}; }
};

// The run config as sent: the caller's, with this run's HMAC key.
RunConfig keyed(const CollectOptions& o) {
	RunConfig c = o.config;
	if (!o.hmac_key.empty()) {
		c.hmac_key = o.hmac_key;
	} else {
		c.hmac_key.resize(32);
		random_bytes(c.hmac_key.data(), c.hmac_key.size());
	}
	validate(c);
	return c;
}

class Session {
public:
	explicit Session(const CollectOptions& o);
	int run();

private:
	Channel::Sink channel_sink();
	void start();
	bool finished() const;
	void poll_once();
	int wait_ms() const;
	void console_readable();
	void console_text(std::string_view text);
	void report_transport();
	RunSummary summarize();

	const CollectOptions& o_;
	RunConfig config_;
	StageMarks marks_;
	StreamOut out_{1, "stdout", {}};
	StreamOut err_{2, "stderr", {}};
	FileMirror mirror_;
	Channel channel_;
	SerialParser serial_;
	Supervisor sup_;
	UniqueFd ctl_, console_, console_log_;
};

Session::Session(const CollectOptions& o)
    : o_(o),
      config_(keyed(o)),
      mirror_(config_, o.output_dir),
      channel_(config_, channel_sink()),
      serial_(SerialParser::Sink{[this](char type, std::string_view p) { channel_.serial_record(type, p); },
                                 [this](std::string_view text) { console_text(text); }}),
      sup_(Supervisor::Options{o.command, o.vsock_fd, o.timeout_s, o.kill_grace_s, o.drain_s}) {
	marks_.start = o.started_us ? o.started_us : realtime_us();
	out_.limit.limit = err_.limit.limit = config_.max_output_bytes;
	if (!o.console_log.empty()) console_log_ = open_file(o.console_log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
}

Channel::Sink Session::channel_sink() {
	return Channel::Sink{
	    [this](std::string_view d) { out_.emit(d); },
	    [this](std::string_view d) { err_.emit(d); },
	    [this](std::string_view d) { mirror_.feed(d); },
	    [this] { marks_.config_sent = realtime_us(); },
	    [this] { marks_.exit_received = realtime_us(); },
	    [notice = o_.hmac_notice](HmacStatus h) {
		    if (h == HmacStatus::passed) {
			    if (notice) std::fprintf(stderr, "[HMAC] verification passed\n");
		    } else
			    std::fprintf(stderr, "%s: warning: [HMAC] verification FAILED: the results may have been tampered with\n",
			                 program_name().c_str());
		    std::fflush(stderr);
	    },
	};
}

void Session::start() {
	UniqueFd vmm_end;
	vsock::control_pair(ctl_, vmm_end);
	int cp[2];
	if (pipe2(cp, O_CLOEXEC) < 0) fail_errno("pipe");
	console_.reset(cp[0]);
	marks_.chain_start = realtime_us();
	sup_.start(std::move(vmm_end), UniqueFd(cp[1]));
	set_nonblock(ctl_.get());
	set_nonblock(console_.get());
}

bool Session::finished() const {
	if (!sup_.exited()) return false;
	return sup_.drain_over() || (!console_ && channel_.quiet());
}

int Session::wait_ms() const {
	auto next = sup_.next_deadline();
	if (!next) return -1;
	auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*next - Supervisor::Clock::now()).count() + 1;
	return ms < 0 ? 0 : static_cast<int>(ms);
}

void Session::poll_once() {
	std::vector<pollfd> fds{{sup_.signal_fd(), POLLIN, 0}};
	std::vector<uint32_t> slots{kSlotSignal};
	if (ctl_) {
		fds.push_back({ctl_.get(), POLLIN, 0});
		slots.push_back(kSlotControl);
	}
	if (console_) {
		fds.push_back({console_.get(), POLLIN, 0});
		slots.push_back(kSlotConsole);
	}
	channel_.poll_set(fds, slots);
	int r = poll(fds.data(), fds.size(), wait_ms());
	if (r < 0 && errno == EINTR) return;
	if (r < 0) fail_errno("poll");
	for (size_t i = 0; i < fds.size(); i++) {
		if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
		switch (slots[i]) {
		case kSlotSignal:
			sup_.on_signal();
			if (sup_.exited() && !marks_.command_exit) marks_.command_exit = realtime_us();
			break;
		case kSlotControl:
			if (ctl_) channel_.control(ctl_);
			break;
		case kSlotConsole:
			if (console_) console_readable();
			break;
		default: channel_.readable(slots[i]);
		}
	}
}

void Session::console_readable() {
	char buf[kReadChunk];
	ssize_t n = read(console_.get(), buf, sizeof buf);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
	if (n <= 0) {
		serial_.finish();
		console_.reset();
		return;
	}
	serial_.feed(std::string_view(buf, static_cast<size_t>(n)));
}

void Session::console_text(std::string_view text) {
	if (!console_log_) return;
	try {
		write_all(console_log_.get(), text, "console log");
	} catch (const Error& e) {
		BLOG_WARN("%s", e.what());
		console_log_.reset();
	}
}

void Session::report_transport() {
	if (channel_.transport() == Transport::serial) {
		std::fprintf(stderr, "[HMAC] unavailable (serial transport)\n");
		if (serial_.lost() || serial_.damaged())
			BLOG_WARN("serial: %llu records lost, %llu damaged", static_cast<unsigned long long>(serial_.lost()),
			          static_cast<unsigned long long>(serial_.damaged()));
	} else if (channel_.transport() == Transport::vsock && channel_.hmac() == HmacStatus::missing) {
		std::fprintf(stderr, "%s: warning: [HMAC] no HMAC received: the results are unverified\n",
		             program_name().c_str());
	}
}

RunSummary Session::summarize() {
	RunSummary s;
	std::string exit_error;
	s.exit = channel_.exit_record(serial_.ended(), exit_error);
	if (!exit_error.empty()) BLOG_WARN("%s", exit_error.c_str());
	mirror_.finish(channel_.transport() != Transport::none, s.exit.has_value() || !exit_error.empty());
	s.chain = load_chain_reports(o_.vmm_report_path, o_.cgroup_stats_path);
	s.timed_out = sup_.timed_out();
	s.cancelled = sup_.cancel_signal() != 0;
	s.transport = channel_.transport();
	s.hmac = channel_.hmac();
	s.verdict = decide({s.timed_out, sup_.cancel_signal(), s.exit ? std::optional(s.exit->exit_code) : std::nullopt,
	                    sup_.exec_error().empty(), sup_.status(), s.chain.guest_panicked, s.hmac, o_.require_hmac});
	if (!s.exit && !s.timed_out && !s.cancelled) {
		if (s.verdict.status == exit_codes::kCollectCommandFailed)
			BLOG_ERROR("COMMAND failed (status %d) before the guest reported an exit code", sup_.status());
		else
			BLOG_ERROR("the guest reported no exit code");
	}
	s.out = out_.figures();
	s.err = err_.figures();
	s.files = mirror_.to_json();
	s.files_error = mirror_.error();
	s.wall_ms = sup_.wall_ms();
	s.command_status = sup_.status();
	s.refused = channel_.refused();
	s.error = !sup_.exec_error().empty() ? sup_.exec_error() : exit_error;
	return s;
}

int Session::run() {
	start();
	while (!finished()) {
		sup_.tick();
		if (!finished()) poll_once();
	}
	if (console_) serial_.finish();
	report_transport();
	RunSummary s = summarize();
	if (stdout_truncated(s))
		BLOG_WARN("stdout truncated at %llu bytes", static_cast<unsigned long long>(config_.max_output_bytes));
	if (stderr_truncated(s))
		BLOG_WARN("stderr truncated at %llu bytes", static_cast<unsigned long long>(config_.max_output_bytes));
	if (o_.runner.given()) s.runner = runner_json(o_.runner, marks_, realtime_us());
	if (!o_.out_path.empty()) json::save_file(o_.out_path, results_json(s), true);
	if (o_.metrics) {
		std::fprintf(stderr, "%s\n", metrics_line(s).c_str());
		std::fflush(stderr);
	}
	return s.verdict.status;
}

}  // namespace

int collect(const CollectOptions& opts) {
	Session s(opts);
	return s.run();
}

}  // namespace bencher::results
