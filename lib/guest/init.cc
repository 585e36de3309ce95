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
#include "guest/modules.hh"
#include "guest/receipt.hh"
#include "guest/root.hh"
#include "guest/system.hh"
#include "vsock/control.hh"

namespace bencher::guest {

namespace {

// The rest of the results once the workload is over (or never started).
void finish_run(const results::RunConfig& cfg, const results::ExitRecord& rec, ResultSink& sink) {
	sink.close(vsock::kPortStdout);
	sink.close(vsock::kPortStderr);
	send_files(cfg, sink);
	sink.send(vsock::kPortExitCode, results::format_exit(rec));
	sink.close(vsock::kPortExitCode);
	sink.finish();
}

// A virtio-fs root that cannot be set up is the run's setup failure (125),
// reported on the results channel like a user or workdir that cannot be
// applied, so the host sees why rather than a missing exit code.
bool enter_root(const results::RunConfig& cfg, ResultSink& sink) {
	try {
		apply_plan(root_plan(cfg));
		return true;
	} catch (const Error& e) {
		results::ExitRecord rec;
		rec.exit_code = kSetupFailed;
		rec.error = e.what();
		std::string line = "bencher-init: " + rec.error + "\n";
		rec.stderr_bytes = line.size();
		sink.send(vsock::kPortStderr, line.substr(0, cfg.max_output_bytes));
		rec.stderr_truncated = line.size() > cfg.max_output_bytes;
		finish_run(cfg, rec, sink);
		return false;
	}
}

}  // namespace

void run_and_report(const results::RunConfig& cfg, const WorkloadSettings& settings, ResultSink& sink) {
	finish_run(cfg, run_workload(cfg, settings, sink), sink);
}

int init_main(const InitOptions& o) {
	bool guest = !o.test_mode;
	if (guest) boot_timer_mark(kBootTimerValue);
	// Nobody, root included, gets at init's memory (the HMAC key) through
	// ptrace, /proc/1/mem or /proc/1/environ without CAP_SYS_PTRACE.
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, nullptr);
	if (guest) {
		guest_mounts();
		// Booted from an initramfs with a modular kernel: its drivers first.
		load_modules();
	}

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
	// Outside a guest (test mode) the host's root is the workload's.
	if (guest && !ch.cfg.root_virtiofs.empty() && !enter_root(ch.cfg, *ch.sink)) return 0;
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
