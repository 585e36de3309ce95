// runner_plan: fuzzes the planner's reading of oci-unpack's config summary
// (lib/runner/plan), which carries image-supplied strings, and the plan and
// run.json built from it, with and without command-line overrides. Errors are
// fine; crashes, hangs and unbounded memory are not.
// fuzz-sources: lib/runner/plan.cc lib/runner/options.cc lib/common/error.cc lib/common/json.cc lib/common/fd.cc lib/common/size.cc lib/common/log.cc
// fuzz-pkgs: jansson
#include <cstdint>
#include <string>

#include "common/error.hh"
#include "runner/plan.hh"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
	using namespace bencher::runner;
	std::string in(reinterpret_cast<const char*>(data), size);
	ImageConfig image;
	try {
		image = parse_image_config(in, "fuzz");
	} catch (const bencher::Error&) {
		return 0;
	}
	Options plain;
	plain.image = "fuzz";
	Options over = plain;
	over.entrypoint = "";
	over.cmd = std::vector<std::string>{"x"};
	over.env = {"A=1", "PATH=/x", "A=2"};
	over.workdir = "/w";
	over.user = "1:2";
	for (const Options* o : {&plain, &over}) {
		try {
			(void)bencher::json::dump(dry_run_json(plan_run(image, *o), "/r", "/k"));
		} catch (const bencher::Error&) {
		}
	}
	return 0;
}
