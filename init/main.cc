// bencher-init: PID 1 of the guest. Gets the run config from collect-results
// over vsock (port 5004), opens the result ports, runs the workload as its
// child and streams back stdout, stderr, the exit code, files and an HMAC
// over all of it, then powers the VM off. A static binary (no NSS: users come
// from the image's /etc/passwd and /etc/group). --test-mode runs it as an
// ordinary process speaking the VMM's side of lib/vsock/control.hh. This
// main only reads the command line; the run is lib/guest.
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/cli.hh"
#include "common/error.hh"
#include "common/log.hh"
#include "common/size.hh"
#include "guest/init.hh"
#include "guest/system.hh"

using namespace bencher;

namespace {

const char kHelp[] =
    "Usage: bencher-init                 (as the guest's PID 1)\n"
    "       bencher-init --test-mode --control-fd N [--serial --config-file FILE]\n"
    "       bencher-init --connect PORT [--control-fd N]\n"
    "The guest end of the results channel: gets the run config over vsock,\n"
    "runs the workload and streams its results to collect-results.\n"
    "\n"
    "      --test-mode          run as an ordinary process: no mounts, no reboot;\n"
    "                           connections go over the control socket at --control-fd\n"
    "      --control-fd N       the lib/vsock control socket (test mode)\n"
    "      --serial             use the serial fallback (records on stdout)\n"
    "      --config-file FILE   run config for the serial fallback (default /bencher/run.cfg)\n"
    "      --test-corrupt PORT  test mode: flip the first byte sent on PORT after hashing it\n"
    "      --connect PORT       connect to host port PORT, copy stdin to it and exit\n"
    "                           (1 if the host refuses)\n"
    "      --log-level LEVEL    error, warn (default), info or debug\n"
    "  -h, --help               show this help\n"
    "      --version            show the version\n";

}  // namespace

int main(int argc, char** argv) {
	guest::InitOptions o;
	int rc = run_main("bencher-init", [&] {
		log::init_from_env();
		cli::Parser p({"bencher-init", kHelp});
		p.flag("test-mode", 0, [&] { o.test_mode = true; });
		p.value("control-fd", 0, [&](const std::string& v) { o.control_fd = static_cast<int>(parse_uint(v, "--control-fd", 0, 1 << 20)); });
		p.flag("serial", 0, [&] { o.serial = true; });
		p.value("config-file", 0, [&](const std::string& v) { o.config_file = v; });
		p.value("test-corrupt", 0, [&](const std::string& v) { o.corrupt_port = static_cast<uint32_t>(parse_uint(v, "--test-corrupt", 1, 65535)); });
		p.value("connect", 0, [&](const std::string& v) { o.connect_port = static_cast<uint32_t>(parse_uint(v, "--connect", 1, UINT32_MAX)); });
		// The kernel passes unknown command-line words to init as arguments;
		// as PID 1 they are ignored rather than fatal.
		std::vector<std::string> rest = getpid() == 1 ? std::vector<std::string>() : p.parse(argc, argv);
		if (!rest.empty()) fail_usage("unexpected argument \"" + rest[0] + "\"");
		if (o.connect_port) return guest::connect_mode(o);
		if (o.test_mode && o.control_fd < 0 && !o.serial) fail_usage("--test-mode needs --control-fd N (or --serial)");
		if (!o.test_mode && getpid() != 1) fail_usage("not PID 1: use --test-mode outside a guest");
		if (!o.test_mode && o.corrupt_port) fail_usage("--test-corrupt needs --test-mode");
		return guest::init_main(o);
	});
	if (getpid() == 1) guest::power_off();
	return rc;
}
