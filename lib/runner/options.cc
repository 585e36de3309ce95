// options.cc: the runner's option table and its checks (see options.hh).
// Parse first, check after: like the shell parser it replaces, the last
// value of a repeated option wins and is checked once, after the loop.
#include "runner/options.hh"

#include <functional>

#include "common/error.hh"
#include "common/size.hh"

namespace bencher::runner {

namespace {

// The raw text of the options checked after the loop.
struct Raw {
	std::string timeout = "300", vcpus = "1", memory = "512", iterations = "1";
};

struct Spec {
	const char* name;
	bool run_only;
	bool has_value;
	std::function<void(Options&, Raw&, const std::string&)> set;
};

[[noreturn]] void bad_value(const char* option, const std::string& v, const char* want) {
	fail_usage(std::string(option) + ": '" + v + "': " + want);
}

void set_env(Options& o, const std::string& v) {
	// Docker refuses a variable without a name, and a bare K (the host's
	// value in docker run) has no host to come from here.
	size_t eq = v.find('=');
	if (eq == std::string::npos || eq == 0) bad_value("--env", v, "expected K=V");
	o.env.push_back(v);
}

const std::vector<Spec>& option_table() {
	using O = Options;
	using R = Raw;
	using S = const std::string;
	static const std::vector<Spec> table = {
	    {"--image", false, true, [](O& o, R&, S& v) { o.image = v; }},
	    {"--disk", false, true, [](O& o, R&, S& v) { o.disk = v; }},
	    {"--insecure-registry", false, false, [](O& o, R&, S&) { o.insecure = true; }},
	    {"--log-level", false, true, [](O& o, R&, S& v) { o.log_level = v; }},
	    {"--entrypoint", true, true, [](O& o, R&, S& v) { o.entrypoint = v; }},
	    {"--cmd", true, true,
	     [](O& o, R&, S& v) {
		     if (!o.cmd) o.cmd.emplace();
		     o.cmd->push_back(v);
	     }},
	    {"--env", true, true, [](O& o, R&, S& v) { set_env(o, v); }},
	    {"--workdir", true, true, [](O& o, R&, S& v) { o.workdir = v; }},
	    {"--user", true, true, [](O& o, R&, S& v) { o.user = v; }},
	    {"--timeout", true, true, [](O&, R& r, S& v) { r.timeout = v; }},
	    {"--vcpus", true, true, [](O&, R& r, S& v) { r.vcpus = v; }},
	    {"--memory", true, true, [](O&, R& r, S& v) { r.memory = v; }},
	    {"--output", true, true, [](O& o, R&, S& v) { o.outputs.push_back(v); }},
	    {"--output-dir", true, true, [](O& o, R&, S& v) { o.output_dir = v; }},
	    {"--max-output-size", true, true, [](O& o, R&, S& v) { o.max_output = v; }},
	    {"--iterations", true, true, [](O&, R& r, S& v) { r.iterations = v; }},
	    {"--allow-failure", true, false, [](O& o, R&, S&) { o.allow_failure = true; }},
	    {"--kernel", true, true, [](O& o, R&, S& v) { o.kernel = v; }},
	    {"--results", true, true, [](O& o, R&, S& v) { o.results = v; }},
	    {"--keep", true, false, [](O& o, R&, S&) { o.keep = true; }},
	    {"--dry-run", true, false, [](O& o, R&, S&) { o.dry_run = true; }},
	};
	return table;
}

const Spec* find_option(const std::string& name, Verb verb) {
	for (const Spec& s : option_table())
		if (name == s.name && (verb == Verb::run || !s.run_only)) return &s;
	return nullptr;
}

// A whole number in [min, max], or nothing: digits only, as the shell's
// test(1) took them, and never past what the VM's tools accept.
std::optional<uint64_t> whole_number(const std::string& v, uint64_t min, uint64_t max) {
	if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
	uint64_t n = 0;
	for (char c : v) {
		n = n * 10 + static_cast<uint64_t>(c - '0');
		if (n > max) return std::nullopt;
	}
	if (n < min) return std::nullopt;
	return n;
}

void check_run(Options& o, const Raw& r) {
	if (o.image.empty()) fail_usage("run: --image is required");
	// collect-results takes at most 10^7 seconds.
	auto t = whole_number(r.timeout, 0, 10'000'000);
	if (!t) bad_value("--timeout", r.timeout, "expected seconds");
	auto v = whole_number(r.vcpus, 1, 32);
	if (!v) bad_value("--vcpus", r.vcpus, "expected 1 to 32");
	auto m = whole_number(r.memory, 64, uint64_t{1} << 30);
	if (!m) bad_value("--memory", r.memory, "expected MiB, at least 64");
	auto i = whole_number(r.iterations, 1, UINT32_MAX);
	if (!i) bad_value("--iterations", r.iterations, "expected a positive count");
	o.timeout_s = *t;
	o.vcpus = *v;
	o.memory_mib = *m;
	o.iterations = *i;
	try {
		o.max_output_bytes = parse_size(o.max_output, "--max-output-size");
		if (o.max_output_bytes > INT64_MAX) fail("too large");
	} catch (const Error&) {
		bad_value("--max-output-size", o.max_output, "expected a size like 25M");
	}
	// Docker refuses a relative working directory too; caught here, it is a
	// usage error rather than a failure inside collect-results.
	if (!o.workdir.empty() && o.workdir[0] != '/') bad_value("--workdir", o.workdir, "expected an absolute path");
}

}  // namespace

Options parse_options(const std::vector<std::string>& in) {
	if (in.empty() || (in[0] != "run" && in[0] != "prepare")) fail_usage("expected run or prepare");
	Options o;
	Raw raw;
	o.verb = in[0] == "run" ? Verb::run : Verb::prepare;
	const std::string verb = in[0];
	std::vector<std::string> args(in.begin() + 1, in.end());
	size_t i = 0;
	for (; i < args.size(); i++) {
		std::string a = args[i];
		size_t eq = a.find('=');
		if (a.compare(0, 2, "--") == 0 && eq != std::string::npos) {
			// --name=value is --name value, whatever the option.
			args[i] = a.substr(0, eq);
			args.insert(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, a.substr(eq + 1));
			a = args[i];
		}
		if (a == "-h" || a == "--help") {
			o.help = true;
			return o;
		}
		if (a == "--" && o.verb == Verb::run) {
			i++;
			break;
		}
		const Spec* s = find_option(a, o.verb);
		if (!s) fail_usage(verb + ": " + a + ": unknown option");
		std::string value;
		if (s->has_value) {
			if (i + 1 >= args.size()) fail_usage(a + ": missing value");
			value = args[++i];
		}
		s->set(o, raw, value);
	}
	if (i < args.size()) fail_usage("run: unexpected argument: " + args[i]);
	if (o.verb == Verb::prepare) {
		if (o.image.empty()) fail_usage("prepare: --image is required");
		return o;
	}
	check_run(o, raw);
	return o;
}

std::string shell_quote(std::string_view s) {
	std::string q = "'";
	for (char c : s) {
		if (c == '\'')
			q += "'\\''";
		else
			q += c;
	}
	return q + "'";
}

std::string shell_assignments(const Options& o) {
	std::string out;
	auto put = [&](const char* name, const std::string& v) { out += std::string(name) + "=" + shell_quote(v) + "\n"; };
	auto flag = [&](const char* name, bool b) { put(name, b ? "1" : "0"); };
	flag("help", o.help);
	put("image", o.image);
	put("disk", o.disk);
	flag("insecure", o.insecure);
	put("log_level", o.log_level);
	if (o.verb == Verb::prepare) return out;
	put("timeout", std::to_string(o.timeout_s));
	put("vcpus", std::to_string(o.vcpus));
	put("memory", std::to_string(o.memory_mib));
	put("output_dir", o.output_dir);
	put("max_output", o.max_output);
	put("iterations", std::to_string(o.iterations));
	flag("allow_failure", o.allow_failure);
	put("kernel", o.kernel);
	put("results", o.results);
	flag("keep", o.keep);
	flag("dry_run", o.dry_run);
	return out;
}

}  // namespace bencher::runner
