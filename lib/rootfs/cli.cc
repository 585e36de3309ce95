// cli.cc: mkrootfs's options (see cli.hh and mkrootfs(1)).
#include "rootfs/cli.hh"

#include <cstdlib>

#include "common/cli.hh"
#include "common/error.hh"
#include "common/json.hh"
#include "common/size.hh"

namespace bencher::rootfs {

namespace {

const char kHelp[] =
    "Usage: mkrootfs [OPTION]... -o IMAGE [SOURCE]\n"
    "Write an ext4 root file system image from a tar stream or a directory.\n"
    "SOURCE is a tar file (plain, gzip, bzip2, xz, zstd, lz4), a directory,\n"
    "or '-' / nothing for a tar stream on stdin.\n"
    "\n"
    "  -o, --output IMAGE     the image file to write (replaced atomically)\n"
    "      --init FILE        install FILE as /bencher/init (0755) and create\n"
    "                         the mount points /proc /sys /dev /run /tmp\n"
    "  -s, --size SIZE        file system size (default: content + headroom)\n"
    "      --headroom SIZE|N% free space on top of the content (default 256M)\n"
    "      --inodes N         number of inodes (default: automatic)\n"
    "  -L, --label LABEL      volume label (up to 16 bytes)\n"
    "  -U, --uuid UUID        file system UUID (default: random, or derived from\n"
    "                         SOURCE_DATE_EPOCH when that is set)\n"
    "      --no-journal       no journal\n"
    "      --estimate-from FILE  size the image for a piped stream from the\n"
    "                         estimate in oci-unpack's --config-out FILE (written\n"
    "                         with --estimate), and write the stream straight in\n"
    "      --spool-dir DIR    where to spool a piped stream for sizing\n"
    "                         (default: the output's directory)\n"
    "      --log-level LEVEL  error, warn, info, debug\n"
    "  -h, --help             this help\n"
    "      --version          version\n"
    "\n"
    "SOURCE_DATE_EPOCH sets every time stamp mkrootfs creates; with --uuid the\n"
    "image is byte-identical for the same input and options.\n"
    "Exit status: 0 ok, 1 failure (the image is not written), 2 usage.\n";

void parse_headroom(const std::string& v, SizeRequest& size) {
	if (!v.empty() && v.back() == '%') {
		size.headroom_percent = static_cast<unsigned>(parse_uint(v.substr(0, v.size() - 1), "--headroom", 0, 10000));
		if (!size.headroom_percent) size.headroom = 0;
	} else {
		size.headroom = parse_size(v, "--headroom");
		size.headroom_percent = 0;
	}
}

}  // namespace

StreamSize load_stream_size(const std::string& path) {
	json::Limits lim;
	lim.max_bytes = 8u << 20;
	json::Value v = json::load_file(path, lim);
	json::Object root = json::root_object(v, path);
	std::optional<json::Object> e = root.opt_object("estimate");
	if (!e) fail(path + ": no estimate in it (oci-unpack --estimate --config-out FILE writes one)");
	StreamSize s;
	s.bytes = static_cast<uint64_t>(e->integer("bytes", 0, int64_t{1} << 50));
	s.entries = static_cast<uint64_t>(e->integer("entries", 0, UINT32_MAX));
	return s;
}

BuildOptions parse_args(int argc, char** argv) {
	BuildOptions o;
	std::string estimate_from;
	cli::Parser p({"mkrootfs", kHelp});
	p.options_anywhere();
	p.value("output", 'o', [&](const std::string& v) { o.output = v; });
	p.value("init", 0, [&](const std::string& v) { o.init = v; });
	p.value("size", 's', [&](const std::string& v) {
		o.size.size = parse_size(v, "--size");
		if (o.size.size < (4 << 20)) fail_usage("--size: at least 4M");
	});
	p.value("headroom", 0, [&](const std::string& v) { parse_headroom(v, o.size); });
	p.value("inodes", 0, [&](const std::string& v) { o.size.inodes = parse_uint(v, "--inodes", 64, UINT32_MAX / 2); });
	p.value("label", 'L', [&](const std::string& v) {
		if (v.size() > 16) fail_usage("--label: at most 16 bytes");
		o.label = v;
	});
	p.value("uuid", 'U', [&](const std::string& v) { o.uuid = parse_uuid(v); });
	p.flag("no-journal", 0, [&] { o.size.journal = false; });
	p.value("estimate-from", 0, [&](const std::string& v) { estimate_from = v; });
	p.value("spool-dir", 0, [&](const std::string& v) { o.spool_dir = v; });
	std::vector<std::string> args = p.parse(argc, argv);
	if (o.output.empty()) fail_usage("-o IMAGE is required");
	if (args.size() > 1) fail_usage("at most one SOURCE");
	if (!args.empty()) o.source = args[0];
	if (const char* sde = std::getenv("SOURCE_DATE_EPOCH"); sde && *sde)
		o.source_date_epoch = static_cast<int64_t>(parse_uint(sde, "SOURCE_DATE_EPOCH", 0, (uint64_t{1} << 34) - 1));
	if (!estimate_from.empty()) o.estimate = load_stream_size(estimate_from);
	return o;
}

}  // namespace bencher::rootfs
