// init.cc: the order of bencher-init's run (see init.hh).
#include "guest/init.hh"

#include <openssl/crypto.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdlib>

#include "common/error.hh"
#include "common/size.hh"
#include "guest/connector.hh"
#include "guest/files.hh"
#include "guest/receipt.hh"
#include "guest/system.hh"
#include "vsock/control.hh"

namespace bencher::guest {

void run_and_report(const results::RunConfig& cfg, const WorkloadSettings& settings, ResultSink& sink) {
	results::ExitRecord rec = run_workload(cfg, settings, sink);
	sink.close(vsock::kPortStdout);
	sink.close(vsock::kPortStderr);
	send_files(cfg, sink);
	sink.send(vsock::kPortExitCode, results::format_exit(rec));
	sink.close(vsock::kPortExitCode);
	sink.finish();
}

int init_main(const InitOptions& o) {
	bool guest = !o.test_mode;
	if (guest) boot_timer_mark(kBootTimerValue);
	// Nobody, root included, gets at init's memory (the HMAC key) through
	// ptrace, /proc/1/mem or /proc/1/environ without CAP_SYS_PTRACE.
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, nullptr);
	if (guest) guest_mounts();

	Connector conn(o.test_mode ? o.control_fd : -1);
	ChannelOptions co;
	co.serial = o.serial;
	if (!o.config_file.empty()) co.config_file = o.config_file;
	co.remove_config_file = guest;
	co.corrupt_port = o.test_mode ? o.corrupt_port : 0;
	Channel ch = open_channel(conn, co);

	WorkloadSettings ws;
	ws.in_guest = guest;
	if (o.test_mode) ws.control_fd = o.control_fd;
	run_and_report(ch.cfg, ws, *ch.sink);
	return 0;
}

int connect_mode(const InitOptions& o) {
	int cfd = o.control_fd;
	if (cfd < 0)
		if (const char* e = getenv("BENCHER_TEST_CONTROL_FD"))
			cfd = static_cast<int>(parse_uint(e, "BENCHER_TEST_CONTROL_FD", 0, 1 << 20));
	Connector c(cfd);
	// A refusal is an Error: main reports it and exits 1.
	UniqueFd fd = c.connect(o.connect_port);
	std::string data = read_all(0, 1 << 20, "stdin");
	write_all(fd.get(), data, "connection");
	return 0;
}

}  // namespace bencher::guest
