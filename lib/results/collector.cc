// collector.cc: the collect-results event loop (see collector.hh). One
// thread, one poll(): the control socket, the accepted connections, COMMAND's
// stdout (the console, for the serial fallback), a signalfd and deadlines.
#include "results/collector.hh"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <optional>

#include "common/error.hh"
#include "common/fd.hh"
#include "common/json.hh"
#include "common/log.hh"
#include "results/codec.hh"
#include "results/report.hh"
#include "results/serial.hh"
#include "vsock/control.hh"

namespace bencher::results {

namespace {

using Clock = std::chrono::steady_clock;
using vsock::ControlMsg;
using vsock::MsgType;

constexpr size_t kReadChunk = 64 << 10;
constexpr size_t kMaxHmacLine = 128;

const uint32_t kResultPorts[] = {vsock::kPortStdout, vsock::kPortStderr, vsock::kPortExitCode, vsock::kPortHmac,
                                 vsock::kPortFiles};

struct Conn {
	UniqueFd fd;
	bool eof = false;
};

struct FileResult {
	std::string path;
	std::optional<FileStatus> status;  // unset: never received
	uint64_t size = 0;
	uint64_t received = 0;
	bool complete = false;
	std::string data;                  // base64 mode
	std::string output;                // --output-dir mode: relative path written
	UniqueFd fd;
	std::string tmp_name;
	UniqueFd dir;
	std::string error;
};

struct StreamOut {
	int fd;                      // 1 or 2
	OutputLimiter limit;
	uint64_t received = 0;
	bool write_failed = false;
};

void set_nonblock(int fd) {
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

double ms_since(Clock::time_point t) {
	return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

class Session {
public:
	explicit Session(const CollectOptions& o);
	int run();

private:
	void spawn();
	void loop();
	bool finished() const;
	void handle_control();
	void handle_conn(uint32_t port);
	void conn_data(uint32_t port, std::string_view data);
	void conn_eof(uint32_t port);
	void handle_signal();
	void handle_console();
	void serial_record(char type, std::string_view payload);
	void emit(StreamOut& s, std::string_view data);
	void files_data(std::string_view data);
	void maybe_finish_hmac();
	void stop_command(bool hard);
	void finish_files();

	// files
	void file_begin(size_t i, FileStatus st, uint64_t size);
	void file_data(size_t i, std::string_view data);
	void file_end(size_t i);
	void file_abort(FileResult& f, const std::string& why);

	const CollectOptions& o_;
	RunConfig config_;
	std::string config_wire_;
	ResultDigest digest_;

	UniqueFd ctl_;
	UniqueFd console_;
	UniqueFd sigfd_;
	UniqueFd console_log_;
	UniqueFd out_dir_;
	pid_t pid_ = -1;
	bool command_exited_ = false;
	int command_status_ = -1;  // shell-style: code or 128+signal
	std::string command_error_;

	bool config_sent_ = false;
	std::map<uint32_t, Conn> conns_;
	uint64_t next_conn_ = 0;
	uint64_t refused_ = 0;
	std::string transport_;

	StreamOut out_{1, {}, 0, false};
	StreamOut err_{2, {}, 0, false};
	std::string exit_text_;
	bool exit_overflow_ = false;
	std::string hmac_line_;
	bool hmac_done_ = false;
	std::string hmac_status_ = "missing";
	std::optional<FileStreamParser> files_parser_;
	std::string files_error_;
	std::vector<FileResult> files_;
	uint64_t files_bytes_ = 0;

	std::optional<SerialParser> serial_;

	Clock::time_point start_;
	double wall_ms_ = 0;
	StageMarks marks_;
	std::optional<Clock::time_point> timeout_at_, kill_at_, drain_until_;
	bool timed_out_ = false;
	int cancel_signal_ = 0;
	bool term_sent_ = false;
	bool killed_ = false;
};

Session::Session(const CollectOptions& o) : o_(o), config_(o.config) {
	marks_.start = o.started_us ? o.started_us : realtime_us();
	if (!o.hmac_key.empty()) {
		config_.hmac_key = o.hmac_key;
	} else {
		config_.hmac_key.resize(32);
		random_bytes(config_.hmac_key.data(), config_.hmac_key.size());
	}
	validate(config_);
	config_wire_ = encode_config(config_);
	out_.limit.limit = err_.limit.limit = config_.max_output_bytes;
	for (const auto& f : config_.files) {
		FileResult r;
		r.path = f;
		files_.push_back(std::move(r));
	}
	files_parser_.emplace(config_.files, config_.max_file_bytes, config_.max_files_total_bytes,
	                      FileStreamParser::Sink{
	                          [this](size_t i, const std::string&, FileStatus st, uint64_t size) { file_begin(i, st, size); },
	                          [this](size_t i, std::string_view d) { file_data(i, d); },
	                          [this](size_t i) { file_end(i); },
	                      });
	serial_.emplace(SerialParser::Sink{
	    [this](char type, std::string_view payload) { serial_record(type, payload); },
	    [this](std::string_view text) {
		    if (console_log_) {
			    try {
				    write_all(console_log_.get(), text, "console log");
			    } catch (const Error& e) {
				    BLOG_WARN("%s", e.what());
				    console_log_.reset();
			    }
		    }
	    },
	});
	if (!o.console_log.empty())
		console_log_ = open_file(o.console_log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (!o.output_dir.empty()) {
		if (mkdir(o.output_dir.c_str(), 0755) < 0 && errno != EEXIST) fail_errno("mkdir " + o.output_dir);
		out_dir_ = open_file(o.output_dir, O_RDONLY | O_DIRECTORY);
	}
}

void Session::spawn() {
	UniqueFd vmm_end;
	vsock::control_pair(ctl_, vmm_end);
	int cp[2], ep[2];
	if (pipe2(cp, O_CLOEXEC) < 0) fail_errno("pipe");
	console_.reset(cp[0]);
	UniqueFd console_w(cp[1]);
	if (pipe2(ep, O_CLOEXEC) < 0) fail_errno("pipe");
	UniqueFd err_r(ep[0]), err_w(ep[1]);

	std::vector<char*> argv;
	for (const auto& a : o_.command) argv.push_back(const_cast<char*>(a.c_str()));
	argv.push_back(nullptr);

	start_ = Clock::now();
	marks_.chain_start = realtime_us();
	pid_ = fork();
	if (pid_ < 0) fail_errno("fork");
	if (pid_ == 0) {
		// Child: only async-signal-safe calls until exec.
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, nullptr);
		signal(SIGPIPE, SIG_DFL);
		setpgid(0, 0);
		int v = fcntl(vmm_end.get(), F_DUPFD, 10);
		int c = fcntl(console_w.get(), F_DUPFD, 10);
		if (v < 0 || c < 0 || dup2(c, 1) < 0 || dup2(v, o_.vsock_fd) < 0) {
			int e = errno;
			(void)!write(err_w.get(), &e, sizeof e);
			_exit(127);
		}
		close(c);
		close(v);
		execvp(argv[0], argv.data());
		int e = errno;
		(void)!write(err_w.get(), &e, sizeof e);
		_exit(127);
	}
	setpgid(pid_, pid_);
	vmm_end.reset();
	console_w.reset();
	err_w.reset();
	int e = 0;
	size_t n = read_full(err_r.get(), &e, sizeof e, "exec status");
	if (n == sizeof e) {
		command_error_ = errno_message("cannot run " + o_.command[0], e);
		BLOG_ERROR("%s", command_error_.c_str());
	}
	set_nonblock(ctl_.get());
	set_nonblock(console_.get());
	if (o_.timeout_s > 0)
		timeout_at_ = start_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.timeout_s));
}

bool Session::finished() const {
	if (!command_exited_) return false;
	if (drain_until_ && Clock::now() >= *drain_until_) return true;
	if (console_) return false;
	for (const auto& [port, c] : conns_)
		if (!c.eof) return false;
	return true;
}

void Session::stop_command(bool hard) {
	if (command_exited_ || pid_ <= 0) return;
	if (!hard && !term_sent_) {
		BLOG_INFO("sending SIGTERM to COMMAND");
		kill(-pid_, SIGTERM);
		term_sent_ = true;
		kill_at_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.kill_grace_s));
		return;
	}
	if (!killed_) {
		BLOG_INFO("sending SIGKILL to COMMAND");
		kill(-pid_, SIGKILL);
		killed_ = true;
		kill_at_.reset();
	}
}

void Session::handle_signal() {
	signalfd_siginfo si;
	ssize_t n = read(sigfd_.get(), &si, sizeof si);
	if (n != sizeof si) return;
	if (si.ssi_signo == SIGCHLD) {
		int st;
		pid_t p;
		while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
			if (p != pid_) continue;
			command_exited_ = true;
			wall_ms_ = ms_since(start_);
			marks_.command_exit = realtime_us();
			command_status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			BLOG_INFO("COMMAND exited with status %d after %.0f ms", command_status_, wall_ms_);
			// Whatever it left in flight may still be read, for a while.
			drain_until_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.drain_s));
			kill_at_.reset();
		}
		return;
	}
	// SIGTERM/SIGINT/SIGHUP: cancel. A second one kills at once.
	if (cancel_signal_ == 0) {
		cancel_signal_ = static_cast<int>(si.ssi_signo);
		BLOG_WARN("cancelled by signal %d: stopping COMMAND", cancel_signal_);
		stop_command(false);
	} else {
		stop_command(true);
	}
}

void Session::handle_control() {
	ControlMsg m;
	UniqueFd fd;
	try {
		if (!vsock::recv_msg(ctl_.get(), m, fd)) {
			ctl_.reset();
			return;
		}
	} catch (const Error& e) {
		if (errno == EAGAIN) return;
		BLOG_ERROR("%s: closing the control channel", e.what());
		ctl_.reset();
		return;
	}
	if (m.type != static_cast<uint16_t>(MsgType::guest_connect)) {
		BLOG_WARN("vsock control: unexpected %s message, ignored", vsock::msg_type_name(m.type));
		return;
	}
	ControlMsg reply;
	reply.conn_id = m.conn_id;
	reply.host_port = m.host_port;
	reply.guest_port = m.guest_port;
	uint32_t port = m.host_port;
	bool is_result = false;
	for (uint32_t p : kResultPorts) is_result |= p == port;
	bool ok = false;
	if (port == vsock::kPortConfig && !config_sent_) ok = true;
	else if (is_result && config_sent_ && conns_.find(port) == conns_.end()) ok = true;
	if (!ok) {
		refused_++;
		BLOG_WARN("refused guest connection to port %u (from guest port %u)", port, m.guest_port);
		reply.type = static_cast<uint16_t>(MsgType::refuse);
		vsock::send_msg(ctl_.get(), reply);
		return;
	}
	reply.type = static_cast<uint16_t>(MsgType::accept);
	vsock::send_msg(ctl_.get(), reply);
	if (port == vsock::kPortConfig) {
		config_sent_ = true;
		marks_.config_sent = realtime_us();
		transport_ = "vsock";
		digest_.add(port, config_wire_);
		try {
			write_all(fd.get(), config_wire_, "run config");
			shutdown(fd.get(), SHUT_WR);
		} catch (const Error& e) {
			BLOG_ERROR("%s", e.what());
		}
		BLOG_INFO("run config sent (%zu bytes)", config_wire_.size());
		return;  // the connection closes here
	}
	set_nonblock(fd.get());
	BLOG_INFO("accepted guest connection to port %u", port);
	conns_[port] = Conn{std::move(fd), false};
}

void Session::emit(StreamOut& s, std::string_view data) {
	s.received += data.size();
	size_t take = s.limit.admit(data.size());
	if (take == 0 || s.write_failed) return;
	try {
		write_all(s.fd, data.data(), take, s.fd == 1 ? "stdout" : "stderr");
	} catch (const Error& e) {
		BLOG_WARN("%s: the rest of the workload's output on it is dropped", e.what());
		s.write_failed = true;
	}
}

void Session::file_abort(FileResult& f, const std::string& why) {
	if (f.error.empty()) f.error = why;
	f.fd.reset();
	if (f.dir && !f.tmp_name.empty()) unlinkat(f.dir.get(), f.tmp_name.c_str(), 0);
	f.tmp_name.clear();
	f.data.clear();
}

// Opens, below --output-dir, the guest path's mirror for writing: every
// directory opened with O_NOFOLLOW, so nothing escapes the output directory.
void Session::file_begin(size_t i, FileStatus st, uint64_t size) {
	FileResult& f = files_[i];
	f.status = st;
	f.size = size;
	if (st != FileStatus::ok) {
		BLOG_WARN("file %s: %s", f.path.c_str(), file_status_name(st));
		return;
	}
	if (!out_dir_) return;
	try {
		UniqueFd dir(fcntl(out_dir_.get(), F_DUPFD_CLOEXEC, 0));
		std::string rel = f.path.substr(1);
		size_t start = 0;
		for (;;) {
			size_t slash = rel.find('/', start);
			if (slash == std::string::npos) break;
			std::string comp = rel.substr(start, slash - start);
			if (mkdirat(dir.get(), comp.c_str(), 0755) < 0 && errno != EEXIST) fail_errno("mkdir " + comp);
			dir = open_at(dir.get(), comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
			start = slash + 1;
		}
		std::string base = rel.substr(start);
		f.tmp_name = "." + base + ".part";
		f.fd = open_at(dir.get(), f.tmp_name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0644);
		f.dir = std::move(dir);
		f.output = rel;
	} catch (const Error& e) {
		file_abort(f, std::string("cannot write to the output directory: ") + e.what());
		BLOG_WARN("file %s: %s", f.path.c_str(), f.error.c_str());
	}
}

void Session::file_data(size_t i, std::string_view data) {
	FileResult& f = files_[i];
	f.received += data.size();
	if (!f.error.empty()) return;
	if (f.fd) {
		try {
			write_all(f.fd.get(), data, f.path);
		} catch (const Error& e) {
			file_abort(f, e.what());
		}
	} else if (!out_dir_) {
		f.data.append(data);
	}
}

void Session::file_end(size_t i) {
	FileResult& f = files_[i];
	f.complete = true;
	if (f.fd && f.error.empty()) {
		f.fd.reset();
		std::string base = f.tmp_name.substr(1, f.tmp_name.size() - 6);
		if (renameat(f.dir.get(), f.tmp_name.c_str(), f.dir.get(), base.c_str()) < 0)
			file_abort(f, errno_message("rename", errno));
		f.tmp_name.clear();
	}
}

void Session::files_data(std::string_view data) {
	if (!files_error_.empty()) return;
	try {
		files_parser_->feed(data);
	} catch (const Error& e) {
		files_error_ = e.what();
		BLOG_WARN("%s: output files dropped", e.what());
		for (auto& f : files_)
			if (!f.complete) file_abort(f, "files stream broken");
	}
}

void Session::conn_data(uint32_t port, std::string_view data) {
	if (port != vsock::kPortHmac) digest_.add(port, data);
	switch (port) {
	case vsock::kPortStdout: emit(out_, data); break;
	case vsock::kPortStderr: emit(err_, data); break;
	case vsock::kPortExitCode:
		if (exit_text_.size() + data.size() > kMaxExitRecordBytes) exit_overflow_ = true;
		else exit_text_.append(data);
		break;
	case vsock::kPortFiles: files_data(data); break;
	case vsock::kPortHmac:
		if (hmac_line_.size() + data.size() > kMaxHmacLine) {
			hmac_line_ = "overflow";
			hmac_done_ = true;
		} else {
			hmac_line_.append(data);
			if (hmac_line_.find('\n') != std::string::npos) hmac_done_ = true;
		}
		break;
	}
}

void Session::conn_eof(uint32_t port) {
	Conn& c = conns_[port];
	c.eof = true;
	c.fd.reset();
	if (port == vsock::kPortHmac) hmac_done_ = true;
	if (port == vsock::kPortExitCode && !exit_text_.empty()) marks_.exit_received = realtime_us();
}

// The HMAC is checked once everything it covers has ended; then init gets
// its acknowledgement ("ok") and may power off knowing nothing is in flight.
void Session::maybe_finish_hmac() {
	auto it = conns_.find(vsock::kPortHmac);
	if (it == conns_.end() || !hmac_done_ || hmac_status_ != "missing") return;
	// Closed without a word (the VM was stopped): missing, not failed.
	if (hmac_line_.empty()) return;
	for (uint32_t p : {vsock::kPortStdout, vsock::kPortStderr, vsock::kPortExitCode, vsock::kPortFiles}) {
		auto c = conns_.find(p);
		if (c != conns_.end() && !c->second.eof) return;
	}
	std::string expected = digest_.hmac_hex(config_.hmac_key);
	try {
		std::string got = parse_hmac_line(hmac_line_);
		hmac_status_ = equal_ct(got, expected) ? "passed" : "failed";
	} catch (const Error&) {
		hmac_status_ = "failed";
	}
	if (hmac_status_ == "passed")
		std::fprintf(stderr, "[HMAC] verification passed\n");
	else
		std::fprintf(stderr, "%s: warning: [HMAC] verification FAILED: the results may have been tampered with\n",
		             program_name().c_str());
	std::fflush(stderr);
	if (it->second.fd) {
		(void)!send(it->second.fd.get(), "ok\n", 3, MSG_NOSIGNAL | MSG_DONTWAIT);
		it->second.fd.reset();
		it->second.eof = true;
	}
}

void Session::handle_conn(uint32_t port) {
	Conn& c = conns_[port];
	char buf[kReadChunk];
	ssize_t n = read(c.fd.get(), buf, sizeof buf);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
	if (n < 0) {
		BLOG_WARN("%s", errno_message(strprintf("port %u", port), errno).c_str());
		conn_eof(port);
	} else if (n == 0) {
		conn_eof(port);
	} else {
		conn_data(port, std::string_view(buf, static_cast<size_t>(n)));
	}
	maybe_finish_hmac();
}

void Session::serial_record(char type, std::string_view payload) {
	if (transport_.empty()) transport_ = "serial";
	if (transport_ != "serial") return;  // vsock won: ignore console forgeries
	switch (type) {
	case 'O': emit(out_, payload); break;
	case 'E': emit(err_, payload); break;
	case 'X':
		if (exit_text_.size() + payload.size() > kMaxExitRecordBytes) exit_overflow_ = true;
		else exit_text_.append(payload);
		marks_.exit_received = realtime_us();
		break;
	case 'F': files_data(payload); break;
	}
}

void Session::handle_console() {
	char buf[kReadChunk];
	ssize_t n = read(console_.get(), buf, sizeof buf);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
	if (n <= 0) {
		serial_->finish();
		console_.reset();
		return;
	}
	serial_->feed(std::string_view(buf, static_cast<size_t>(n)));
}

void Session::loop() {
	for (;;) {
		auto now = Clock::now();
		if (timeout_at_ && now >= *timeout_at_ && !command_exited_) {
			timeout_at_.reset();
			timed_out_ = true;
			BLOG_WARN("timeout after %g s: stopping COMMAND", o_.timeout_s);
			stop_command(false);
		}
		if (kill_at_ && now >= *kill_at_) stop_command(true);
		if (finished()) return;

		std::vector<pollfd> pfds;
		std::vector<int> what;  // -1 signal, -2 control, -3 console, else port
		pfds.push_back({sigfd_.get(), POLLIN, 0});
		what.push_back(-1);
		if (ctl_) {
			pfds.push_back({ctl_.get(), POLLIN, 0});
			what.push_back(-2);
		}
		if (console_) {
			pfds.push_back({console_.get(), POLLIN, 0});
			what.push_back(-3);
		}
		for (auto& [port, c] : conns_)
			if (c.fd && !c.eof && !(port == vsock::kPortHmac && hmac_done_)) {
				pfds.push_back({c.fd.get(), POLLIN, 0});
				what.push_back(static_cast<int>(port));
			}
		int wait_ms = -1;
		for (const auto& d : {timeout_at_, kill_at_, drain_until_}) {
			if (!d) continue;
			auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*d - now).count() + 1;
			if (ms < 0) ms = 0;
			if (wait_ms < 0 || ms < wait_ms) wait_ms = static_cast<int>(ms);
		}
		int r = poll(pfds.data(), pfds.size(), wait_ms);
		if (r < 0 && errno == EINTR) continue;
		if (r < 0) fail_errno("poll");
		for (size_t i = 0; i < pfds.size(); i++) {
			if (!(pfds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
			switch (what[i]) {
			case -1: handle_signal(); break;
			case -2: if (ctl_) handle_control(); break;
			case -3: if (console_) handle_console(); break;
			default: {
				auto it = conns_.find(static_cast<uint32_t>(what[i]));
				if (it != conns_.end() && it->second.fd && !it->second.eof) handle_conn(it->first);
			}
			}
		}
	}
}

void Session::finish_files() {
	if (!files_error_.empty()) return;
	bool complete = files_parser_->complete();
	if (!complete && !config_.files.empty()) {
		if (transport_ == "vsock" || transport_ == "serial") {
			files_error_ = "files stream ended early";
			if (!exit_text_.empty()) BLOG_WARN("files: stream ended early");
		}
	}
	for (auto& f : files_)
		if (!f.complete) file_abort(f, f.status ? "incomplete" : "not received");
}

int Session::run() {
	sigset_t set;
	sigemptyset(&set);
	for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, s);
	if (sigprocmask(SIG_BLOCK, &set, nullptr) < 0) fail_errno("sigprocmask");
	sigfd_.reset(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
	if (!sigfd_) fail_errno("signalfd");
	signal(SIGPIPE, SIG_IGN);

	spawn();
	loop();
	if (!command_exited_) {
		// finished() only returns with COMMAND gone; kept for safety.
		stop_command(true);
	}
	if (wall_ms_ == 0) wall_ms_ = ms_since(start_);
	if (serial_ && console_) serial_->finish();
	finish_files();

	if (transport_ == "serial") {
		hmac_status_ = "unavailable";
		std::fprintf(stderr, "[HMAC] unavailable (serial transport)\n");
		if (serial_->lost() || serial_->damaged())
			BLOG_WARN("serial: %llu records lost, %llu damaged", static_cast<unsigned long long>(serial_->lost()),
			          static_cast<unsigned long long>(serial_->damaged()));
	} else if (transport_ == "vsock" && hmac_status_ == "missing") {
		std::fprintf(stderr, "%s: warning: [HMAC] no HMAC received: the results are unverified\n", program_name().c_str());
	}

	std::optional<ExitRecord> rec;
	std::string exit_error;
	bool have_exit = (transport_ == "vsock" && conns_.count(vsock::kPortExitCode) && conns_[vsock::kPortExitCode].eof) ||
	                 (transport_ == "serial" && serial_->ended());
	if (exit_overflow_) exit_error = "exit record too long";
	else if (!exit_text_.empty() && have_exit) {
		try {
			rec = parse_exit(exit_text_);
		} catch (const Error& e) {
			exit_error = e.what();
		}
	} else if (!exit_text_.empty()) {
		exit_error = "exit record incomplete";
	}
	if (!exit_error.empty()) BLOG_WARN("%s", exit_error.c_str());

	int status;
	if (timed_out_) status = kExitTimeout;
	else if (cancel_signal_) status = 128 + cancel_signal_;
	else if (rec) status = rec->exit_code;
	else if (!command_error_.empty() || command_status_ != 0) status = kExitCommandFailed;
	else status = kExitNoExitCode;
	if (!rec && !timed_out_ && !cancel_signal_) {
		if (status == kExitCommandFailed)
			BLOG_ERROR("COMMAND failed (status %d) before the guest reported an exit code", command_status_);
		else
			BLOG_ERROR("the guest reported no exit code");
	}
	if (o_.require_hmac && hmac_status_ != "passed" && status != kExitTimeout && !cancel_signal_)
		status = kExitHmacFailed;

	// --- reports -----------------------------------------------------------
	json::Value vmm = json::Value::null();
	json::Value boot = json::Value::null();
	if (!o_.vmm_report_path.empty()) {
		try {
			json::Value r = json::load_file(o_.vmm_report_path);
			if (!json_is_object(r.get())) fail(o_.vmm_report_path + ": not a JSON object");
			vmm = rounded_object(r);
			boot = rounded_ms(json_object_get(r.get(), "boot_to_init_ms"));
		} catch (const Error& e) {
			BLOG_WARN("vmm report: %s", e.what());
		}
	}
	json::Value cg = json::Value::object();
	bool have_cg = false;
	if (!o_.cgroup_stats_path.empty()) {
		try {
			json::Value r = json::load_file(o_.cgroup_stats_path);
			if (!json_is_object(r.get())) fail(o_.cgroup_stats_path + ": not a JSON object");
			for (const char* k : {"cgroup_version", "memory_peak_bytes", "memory_max_bytes", "cpu_usage_usec",
			                      "cpu_user_usec", "cpu_system_usec", "nr_throttled", "pids_max"}) {
				json_t* v = json_object_get(r.get(), k);
				if (v && json_is_integer(v)) {
					cg.set(k, json::Value::integer(json_integer_value(v)));
					have_cg = true;
				}
			}
		} catch (const Error& e) {
			BLOG_WARN("cgroup stats: %s", e.what());
		}
	}

	auto stream_json = [&](const StreamOut& s, bool guest_trunc, uint64_t produced, bool have) {
		json::Value v = json::Value::object();
		v.set("bytes", json::Value::integer(static_cast<int64_t>(s.limit.passed)));
		v.set("received", json::Value::integer(static_cast<int64_t>(s.received)));
		v.set("produced", have ? json::Value::integer(static_cast<int64_t>(produced)) : json::Value::null());
		v.set("truncated", json::Value::boolean(guest_trunc || s.limit.truncated()));
		return v;
	};
	bool out_trunc = (rec && rec->stdout_truncated) || out_.limit.truncated();
	bool err_trunc = (rec && rec->stderr_truncated) || err_.limit.truncated();
	if (out_trunc) BLOG_WARN("stdout truncated at %llu bytes", static_cast<unsigned long long>(config_.max_output_bytes));
	if (err_trunc) BLOG_WARN("stderr truncated at %llu bytes", static_cast<unsigned long long>(config_.max_output_bytes));

	json::Value runner = o_.runner.given() ? runner_json(o_.runner, marks_, realtime_us()) : json::Value();
	if (!o_.out_path.empty()) {
		json::Value r = json::Value::object();
		r.set("exit_code", rec ? json::Value::integer(rec->exit_code) : json::Value::null());
		r.set("signal", rec && rec->signal ? json::Value::integer(rec->signal) : json::Value::null());
		r.set("timed_out", json::Value::boolean(timed_out_));
		r.set("cancelled", json::Value::boolean(cancel_signal_ != 0));
		r.set("status", json::Value::integer(status));
		r.set("transport", transport_.empty() ? json::Value::null() : json::Value::string(transport_));
		r.set("truncated", json::Value::boolean(out_trunc || err_trunc));
		r.set("stdout", stream_json(out_, rec && rec->stdout_truncated, rec ? rec->stdout_bytes : 0, rec.has_value()));
		r.set("stderr", stream_json(err_, rec && rec->stderr_truncated, rec ? rec->stderr_bytes : 0, rec.has_value()));
		json::Value files = json::Value::array();
		for (const auto& f : files_) {
			json::Value v = json::Value::object();
			v.set("path", json::Value::string(f.path));
			std::string st = f.status ? file_status_name(*f.status) : "not_received";
			if (f.status == FileStatus::ok && !f.error.empty()) st = "error";
			v.set("status", json::Value::string(st));
			if (f.status == FileStatus::ok || f.status == FileStatus::too_large)
				v.set("size", json::Value::integer(static_cast<int64_t>(f.size)));
			if (f.status == FileStatus::ok && f.error.empty()) {
				if (out_dir_) v.set("output", json::Value::string(o_.output_dir + "/" + f.output));
				else v.set("base64", json::Value::string(base64_encode(f.data)));
			}
			if (!f.error.empty()) v.set("error", json::Value::string(f.error));
			files.append(std::move(v));
		}
		r.set("files", std::move(files));
		if (!files_error_.empty()) r.set("files_error", json::Value::string(files_error_));
		r.set("hmac", json::Value::string(hmac_status_));
		r.set("wall_clock_ms", json::Value::integer(static_cast<int64_t>(wall_ms_)));
		r.set("boot_to_init_ms", boot);
		r.set("vmm", vmm);
		r.set("cgroup", have_cg ? cg : json::Value::null());
		r.set("command_status", command_status_ >= 0 ? json::Value::integer(command_status_) : json::Value::null());
		r.set("refused_connections", json::Value::integer(static_cast<int64_t>(refused_)));
		std::string err = !command_error_.empty() ? command_error_ : exit_error;
		if (rec && !rec->error.empty()) err = rec->error;
		r.set("error", err.empty() ? json::Value::null() : json::Value::string(err));
		if (runner) r.set("runner", runner);
		json::save_file(o_.out_path, r, true);
	}
	if (o_.metrics) {
		json::Value m = json::Value::object();
		m.set("wall_clock_ms", json::Value::integer(static_cast<int64_t>(wall_ms_)));
		m.set("timed_out", json::Value::boolean(timed_out_));
		m.set("cancelled", json::Value::boolean(cancel_signal_ != 0));
		m.set("transport", json::Value::string(transport_.empty() ? "none" : transport_));
		m.set("boot_to_init_ms", boot);
		if (have_cg) {
			for (const char* k : {"cgroup_version", "memory_peak_bytes", "memory_max_bytes", "cpu_usage_usec",
			                      "cpu_user_usec", "cpu_system_usec", "nr_throttled", "pids_max"}) {
				json_t* v = json_object_get(cg.get(), k);
				if (v) m.set(k, json::Value::borrow(v));
			}
		}
		if (runner) m.set("runner", runner);
		std::fprintf(stderr, "---BENCHER_METRICS:%s---\n", json::dump(m).c_str());
		std::fflush(stderr);
	}
	return status;
}

}  // namespace

int collect(const CollectOptions& opts) {
	Session s(opts);
	return s.run();
}

}  // namespace bencher::results
