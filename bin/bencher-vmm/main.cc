// bencher-vmm: boot a kernel in a minimal, sandboxed KVM VM (see
// bencher-vmm(1)). Thin: options and the report here, the VM in lib/vmm.
#include <fcntl.h>
#include <unistd.h>

#include "common/error.hh"
#include "common/fd.hh"
#include "common/log.hh"
#include "vmm/config.hh"
#include "vmm/vm.hh"

int main(int argc, char** argv) {
	uint64_t start = bencher::vmm::monotonic_ns();
	return bencher::run_main("bencher-vmm", [&] {
		using namespace bencher;
		log::init_from_env();
		vmm::Options o = vmm::parse_args(argc, argv);
		if (!o.config_path.empty()) vmm::merge_json(o, read_file(o.config_path, 1 << 20), o.config_path);
		const vmm::VmConfig c = vmm::finalize(o);
		// The report's destination is opened now: after setup no path is opened.
		UniqueFd report;
		if (!c.report.path.empty()) {
			report = open_file(c.report.path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		} else if (c.report.fd >= 0) {
			int fd = fcntl(c.report.fd, F_DUPFD_CLOEXEC, 3);
			if (fd < 0) fail_errno(strprintf("report: fd %d", c.report.fd));
			report.reset(fd);
		}
		vmm::Report r;
		try {
			r = vmm::run_vm(c, start);
		} catch (const Error& e) {
			r.run_ms = static_cast<double>(vmm::monotonic_ns() - start) / 1e6;
			r.exit_code = e.exit_code();
			if (report) write_all(report.get(), vmm::report_json(r), "report");
			throw;
		}
		if (report) write_all(report.get(), vmm::report_json(r), "report");
		if (!r.detail.empty()) BLOG_ERROR("%s", r.detail.c_str());
		BLOG_INFO("outcome %s, exit %d, run %.1f ms", r.outcome.c_str(), r.exit_code, r.run_ms);
		return r.exit_code;
	});
}
