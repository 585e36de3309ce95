// unpack.cc: oci-unpack's command line and run (see unpack.hh).
#include "oci/unpack.hh"

#include <archive.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstring>

#include "common/cli.hh"
#include "common/error.hh"
#include "common/fd.hh"
#include "common/log.hh"
#include "common/size.hh"
#include "oci/estimate.hh"
#include "oci/flatten.hh"
#include "oci/registry.hh"
#include "oci/source.hh"

namespace bencher::oci {

namespace {

const char kHelp[] =
    "Usage: oci-unpack [OPTIONS] IMAGE\n"
    "Flatten an OCI or Docker image into one tar stream on stdout.\n"
    "\n"
    "IMAGE is one of:\n"
    "  DIR, DIR:TAG, DIR@sha256:HEX    an OCI image layout directory\n"
    "  FILE[:TAG]                      a docker-save or oci-archive tarball\n"
    "  DIR[:TAG]                       an unpacked docker-save directory\n"
    "  docker://HOST[:PORT]/REPO[:TAG|@DIGEST], HOST/REPO[:TAG]   a registry\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE       write the tar stream to FILE (atomically)\n"
    "      --output-dir DIR    extract the flattened tree to DIR (debugging)\n"
    "      --config-out FILE   write the image config summary as JSON\n"
    "      --config-only       with --config-out: resolve the image and write its\n"
    "                          config summary only, reading no layer\n"
    "      --estimate          with --config-out: add an estimate of the flattened\n"
    "                          tree's size, for mkrootfs --estimate-from\n"
    "      --digest DIGEST     take the image with this manifest digest (or, for\n"
    "                          a classic docker-save image, config digest), as an\n"
    "                          earlier --config-out named it; a tag is not looked up\n"
    "      --platform OS/ARCH[/VARIANT]  pick from a multi-platform image\n"
    "      --insecure          plain http to a loopback registry\n"
    "      --cache-dir DIR     blob cache (default ~/.cache/bencher-runner/blobs)\n"
    "      --max-size SIZE     uncompressed bytes allowed (default 64G, with at\n"
    "                          most 200x expansion per layer); when given, the\n"
    "                          ratio check is off\n"
    "      --log-level LEVEL   error, warn, info or debug\n"
    "      --help, --version\n"
    "\n"
    "Exit status: 0 ok, 1 failure, 2 usage, 3 not found, 4 digest/size mismatch\n"
    "or corrupt blob, 5 unsafe content, 6 registry or network failure.\n";

bool exists(const std::string& p) {
	struct stat st {};
	return ::stat(p.c_str(), &st) == 0;
}

std::string absolute(const std::string& p) {
	if (!p.empty() && p[0] == '/') return p;
	char buf[PATH_MAX];
	if (!getcwd(buf, sizeof buf)) fail_errno("getcwd");
	return std::string(buf) + "/" + p;
}

std::unique_ptr<Source> open_remote(const std::string& text, const UnpackOptions& o) {
	RegistryRef ref = parse_registry_ref(text);
	if (!o.digest.empty()) {
		// The tag may have moved since the digest was taken: never ask for it.
		ref.digest = o.digest;
		ref.tag.clear();
	}
	RegistryOptions ro;
	ro.insecure = o.insecure;
	ro.cache_dir = o.cache_dir.empty() ? default_cache_dir() : absolute(o.cache_dir);
	ro.progress = isatty(2);
	return open_registry(ref, ro);
}

// The archive the flattened image goes to: a tar stream on `fd`, or the
// current directory.
archive* open_stream(int fd) {
	archive* a = archive_write_new();
	if (!a) fail("out of memory");
	archive_write_set_format_pax_restricted(a);
	// SCHILY.xattr only: GNU tar reads it and warns about LIBARCHIVE.xattr.
	archive_write_set_format_option(a, "pax", "xattrheader", "SCHILY");
	// No padding after the end-of-archive blocks, to a file or a pipe alike.
	archive_write_set_bytes_in_last_block(a, 1);
	if (archive_write_open_fd(a, fd) != ARCHIVE_OK) {
		std::string msg = archive_error_string(a) ? archive_error_string(a) : "failed";
		archive_write_free(a);
		fail("open output: " + msg);
	}
	return a;
}

archive* open_disk() {
	archive* a = archive_write_disk_new();
	if (!a) fail("out of memory");
	int flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_XATTR |
		    ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
		    ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_UNLINK;
	if (geteuid() == 0) flags |= ARCHIVE_EXTRACT_OWNER;
	archive_write_disk_set_options(a, flags);
	archive_write_disk_set_standard_lookup(a);
	return a;
}

FlattenOptions flatten_options(const UnpackOptions& o) {
	FlattenOptions fo;
	if (o.max_size) {
		// An explicit bound replaces the ratio heuristic: a huge, very
		// compressible layer is then the user's informed call.
		fo.max_size = o.max_size;
		fo.max_ratio = UINT64_MAX;
	}
	fo.disk = !o.output_dir.empty();
	return fo;
}

}  // namespace

UnpackOptions parse_args(int argc, char** argv) {
	UnpackOptions o;
	cli::Parser p({"oci-unpack", kHelp});
	p.options_anywhere();
	p.value("output", 'o', [&](const std::string& v) { o.output = v; })
	    .value("output-dir", 0, [&](const std::string& v) { o.output_dir = v; })
	    .value("config-out", 0, [&](const std::string& v) { o.config_out = v; })
	    .flag("config-only", 0, [&] { o.config_only = true; })
	    .flag("estimate", 0, [&] { o.estimate = true; })
	    .value("digest", 0, [&](const std::string& v) {
		    try {
			    check_digest_syntax(v, "--digest");
		    } catch (const Error& e) {
			    fail_usage(e.what());
		    }
		    o.digest = v;
	    })
	    .value("platform", 0, [&](const std::string& v) { o.platform = parse_platform(v); })
	    .flag("insecure", 0, [&] { o.insecure = true; })
	    .value("cache-dir", 0, [&](const std::string& v) { o.cache_dir = v; })
	    .value("max-size", 0, [&](const std::string& v) { o.max_size = parse_size(v, "--max-size"); });
	std::vector<std::string> args = p.parse(argc, argv);
	if (args.size() != 1) fail_usage("expected one IMAGE");
	o.image = args[0];
	if (!o.output.empty() && !o.output_dir.empty()) fail_usage("--output and --output-dir exclude each other");
	if (o.config_only && o.config_out.empty()) fail_usage("--config-only needs --config-out FILE");
	if (o.estimate && o.config_out.empty()) fail_usage("--estimate needs --config-out FILE");
	if (o.config_only && !(o.output.empty() && o.output_dir.empty()))
		fail_usage("--config-only writes no tar stream: drop --output/--output-dir");
	bool to_stdout = o.output.empty() && o.output_dir.empty() && !o.config_only;
	if (to_stdout && isatty(1)) fail_usage("refusing to write a tar stream to a terminal (use -o FILE or a pipe)");
	return o;
}

std::unique_ptr<Source> open_image(const UnpackOptions& o) {
	std::string s = o.image;
	if (s.compare(0, 9, "docker://") == 0) return open_remote(s.substr(9), o);
	for (const char* prefix : {"oci:", "oci-archive:", "docker-archive:"}) {
		size_t n = std::strlen(prefix);
		if (s.compare(0, n, prefix) == 0) {
			s = s.substr(n);
			break;
		}
	}
	if (exists(s)) return open_local(s, "", o.digest);
	size_t at = s.rfind('@');
	if (at != std::string::npos && exists(s.substr(0, at))) {
		std::string digest = s.substr(at + 1);
		check_digest_syntax(digest, o.image);
		return open_local(s.substr(0, at), "", o.digest.empty() ? digest : o.digest);
	}
	// FILE:TAG, where TAG may itself hold colons (docker-save's REPO:TAG).
	for (size_t c = s.find(':'); c != std::string::npos; c = s.find(':', c + 1))
		if (c > 0 && exists(s.substr(0, c)))
			return open_local(s.substr(0, c), o.digest.empty() ? s.substr(c + 1) : "", o.digest);
	if (looks_like_registry_ref(s)) return open_remote(s, o);
	fail(o.image + ": no such image file or directory (registry images need a HOST/ prefix or docker://)",
	     kExitNotFound);
}

void unpack(UnpackOptions o) {
	FlattenOptions fo = flatten_options(o);
	std::unique_ptr<Source> src = open_image(o);  // the layers read through it
	ResolvedImage img = src->resolve(o.platform);
	if (o.estimate) img.estimate = estimate_tree(img.layers);
	if (o.config_only) {
		// The runner's cache lookup: the digest and config, no layer read.
		json::save_file(o.config_out, config_summary(img));
		return;
	}
	std::unique_ptr<AtomicFile> file;
	archive* a;
	if (o.output_dir.empty()) {
		if (!o.output.empty()) file = std::make_unique<AtomicFile>(o.output, 0644);
		a = open_stream(file ? file->fd() : 1);
	} else {
		// Paths named on the command line keep meaning what they meant.
		if (!o.config_out.empty()) o.config_out = absolute(o.config_out);
		if (::mkdir(o.output_dir.c_str(), 0755) < 0 && errno != EEXIST) fail_errno("mkdir " + o.output_dir);
		if (::chdir(o.output_dir.c_str()) < 0) fail_errno("chdir " + o.output_dir);
		a = open_disk();
	}
	bool closed = false;
	ScopeGuard cleanup([&] {
		// A failure must not look complete: no end-of-archive blocks.
		if (!closed) archive_write_fail(a);
		archive_write_free(a);
	});
	FlattenStats st = flatten(img.layers, a, fo);
	if (!o.config_out.empty()) json::save_file(o.config_out, config_summary(img));
	if (archive_write_close(a) != ARCHIVE_OK)
		fail(std::string("finish output: ") + (archive_error_string(a) ? archive_error_string(a) : "failed"));
	closed = true;
	if (file) file->commit();
	BLOG_INFO("%llu entries in, %llu out, %s of file data", (unsigned long long)st.entries_in,
		  (unsigned long long)st.entries_out, format_size(st.bytes_out).c_str());
}

}  // namespace bencher::oci
