// image.cc: index/manifest/config parsing and resolution (see image.hh).
#include "oci/image.hh"

#include <sys/utsname.h>

#include "common/error.hh"
#include "common/log.hh"

namespace bencher::oci {

std::string Platform::str() const {
	return os + "/" + architecture + (variant.empty() ? "" : "/" + variant);
}

Platform host_platform() {
	struct utsname u {};
	uname(&u);
	std::string m = u.machine;
	if (m == "x86_64") return {"linux", "amd64", ""};
	if (m == "aarch64" || m == "arm64") return {"linux", "arm64", ""};
	if (m == "i686" || m == "i386") return {"linux", "386", ""};
	if (m.compare(0, 5, "armv7") == 0) return {"linux", "arm", "v7"};
	if (m.compare(0, 5, "armv6") == 0) return {"linux", "arm", "v6"};
	return {"linux", m, ""};
}

Platform parse_platform(const std::string& text) {
	Platform p;
	size_t a = text.find('/');
	if (a == std::string::npos || a == 0) fail_usage("--platform: expected OS/ARCH[/VARIANT], got '" + text + "'");
	p.os = text.substr(0, a);
	size_t b = text.find('/', a + 1);
	p.architecture = text.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
	if (b != std::string::npos) p.variant = text.substr(b + 1);
	if (p.architecture.empty() || (b != std::string::npos && (p.variant.empty() || p.variant.find('/') != std::string::npos)))
		fail_usage("--platform: expected OS/ARCH[/VARIANT], got '" + text + "'");
	return p;
}

namespace {

std::string opt_string(json::Object& o, const char* key) {
	if (!o.has(key)) return "";
	json::Value v = o.value(key);
	if (json_is_null(v.get())) return "";
	return o.str(key);
}

std::optional<std::vector<std::string>> opt_strings_or_null(json::Object& o, const char* key) {
	if (!o.has(key)) return std::nullopt;
	if (json_is_null(o.value(key).get())) return std::nullopt;
	return o.strings(key);
}

Descriptor parse_descriptor(json::Object o, const std::string& what) {
	Descriptor d;
	d.media_type = opt_string(o, "mediaType");
	d.digest = o.str("digest");
	check_digest_syntax(d.digest, o.path());
	d.size = o.integer("size", 0, INT64_MAX);
	if (auto p = o.opt_object("platform")) {
		Platform pl;
		pl.os = p->str("os");
		pl.architecture = p->str("architecture");
		pl.variant = opt_string(*p, "variant");
		d.platform = pl;
	}
	if (auto a = o.opt_object("annotations")) {
		if (a->has("org.opencontainers.image.ref.name")) d.ref_name = a->str("org.opencontainers.image.ref.name");
	}
	(void)what;
	return d;
}

}  // namespace

Manifest parse_manifest(std::string_view text, const std::string& what) {
	if (text.size() > kMaxManifestBytes) fail(what + ": manifest too large", kExitUnsafe);
	json::Limits lim;
	lim.max_bytes = kMaxManifestBytes;
	lim.max_depth = 16;
	json::Value v = json::parse(text, what, lim);
	json::Object o = json::root_object(v, what);
	Manifest m;
	std::string mt = opt_string(o, "mediaType");
	if (o.has("schemaVersion") && o.integer("schemaVersion") != 2)
		fail(what + ": unsupported manifest schemaVersion (only 2)");
	if (o.has("manifests") || mt == media::kOciIndex || mt == media::kDockerList) {
		m.is_index = true;
		json::Array arr = o.array("manifests");
		if (arr.size() > 10000) fail(what + ": too many manifests", kExitUnsafe);
		for (size_t i = 0; i < arr.size(); i++) m.manifests.push_back(parse_descriptor(arr.object_at(i), what));
		return m;
	}
	if (!mt.empty() && mt != media::kOciManifest && mt != media::kDockerManifest)
		fail(what + ": unsupported manifest media type '" + mt + "'");
	if (!o.has("layers") || !o.has("config")) fail(what + ": not an image manifest or index (no layers/config)");
	m.config = parse_descriptor(o.object("config"), what);
	json::Array arr = o.array("layers");
	if (arr.size() > 1000) fail(what + ": too many layers", kExitUnsafe);
	for (size_t i = 0; i < arr.size(); i++) m.layers.push_back(parse_descriptor(arr.object_at(i), what));
	return m;
}

const Descriptor& select_platform(const Manifest& index, const Platform& want, const std::string& what) {
	const Descriptor* found = nullptr;
	std::string avail;
	for (const auto& d : index.manifests) {
		if (!d.platform) continue;
		const Platform& p = *d.platform;
		if (p.os == "unknown") continue;  // attestations
		avail += (avail.empty() ? "" : ", ") + p.str();
		if (p.os != want.os || p.architecture != want.architecture) continue;
		if (!want.variant.empty() && !p.variant.empty() && p.variant != want.variant) continue;
		if (!found || (!want.variant.empty() && p.variant == want.variant && found->platform->variant != want.variant))
			found = &d;
	}
	if (found) return *found;
	// An index without platforms (a plain OCI layout) with one image.
	if (index.manifests.size() == 1 && !index.manifests[0].platform) return index.manifests[0];
	fail(what + ": no image for platform " + want.str() + (avail.empty() ? "" : " (available: " + avail + ")"),
	     kExitNotFound);
}

void check_layer_media_type(const Descriptor& d, const std::string& what) {
	static const char* ok[] = {
	    "application/vnd.oci.image.layer.v1.tar",
	    "application/vnd.oci.image.layer.v1.tar+gzip",
	    "application/vnd.oci.image.layer.v1.tar+zstd",
	    "application/vnd.oci.image.layer.nondistributable.v1.tar",
	    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
	    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
	    "application/vnd.docker.image.rootfs.diff.tar.gzip",
	    "application/vnd.docker.image.rootfs.diff.tar",
	    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
	};
	for (const char* m : ok)
		if (d.media_type == m) return;
	fail(what + ": unknown layer media type '" + d.media_type + "'");
}

ImageConfig parse_config(std::string_view text, const std::string& what) {
	json::Limits lim;
	lim.max_bytes = kMaxConfigBytes;
	lim.max_depth = 32;
	json::Value v = json::parse(text, what, lim);
	json::Object o = json::root_object(v, what);
	ImageConfig c;
	c.platform.os = opt_string(o, "os");
	c.platform.architecture = opt_string(o, "architecture");
	c.platform.variant = opt_string(o, "variant");
	if (o.has("config") && !json_is_null(o.value("config").get())) {
		json::Object cfg = o.object("config");
		c.entrypoint = opt_strings_or_null(cfg, "Entrypoint");
		c.cmd = opt_strings_or_null(cfg, "Cmd");
		if (auto env = opt_strings_or_null(cfg, "Env")) c.env = *env;
		c.working_dir = opt_string(cfg, "WorkingDir");
		c.user = opt_string(cfg, "User");
	}
	if (o.has("rootfs")) {
		json::Object r = o.object("rootfs");
		if (auto ids = opt_strings_or_null(r, "diff_ids")) c.diff_ids = *ids;
		for (const auto& d : c.diff_ids) check_digest_syntax(d, what + ": rootfs.diff_ids");
	}
	return c;
}

json::Value config_summary(const ResolvedImage& image) {
	auto strs = [](const std::optional<std::vector<std::string>>& v) {
		if (!v) return json::Value::null();
		json::Value a = json::Value::array();
		for (const auto& s : *v) a.append(json::Value::string(s));
		return a;
	};
	const ImageConfig& c = image.config;
	json::Value o = json::Value::object();
	o.set("entrypoint", strs(c.entrypoint));
	o.set("cmd", strs(c.cmd));
	o.set("env", strs(c.env));
	o.set("working_dir", json::Value::string(c.working_dir));
	o.set("user", json::Value::string(c.user));
	o.set("image_digest", image.image_digest.empty() ? json::Value::null() : json::Value::string(image.image_digest));
	o.set("config_digest", json::Value::string(image.config_digest));
	json::Value p = json::Value::object();
	p.set("os", json::Value::string(c.platform.os));
	p.set("architecture", json::Value::string(c.platform.architecture));
	p.set("variant", json::Value::string(c.platform.variant));
	o.set("platform", p);
	if (image.estimate) {
		json::Value e = json::Value::object();
		e.set("bytes", json::Value::integer(static_cast<int64_t>(image.estimate->bytes)));
		e.set("entries", json::Value::integer(static_cast<int64_t>(image.estimate->entries)));
		o.set("estimate", e);
	}
	return o;
}

ResolvedImage resolve_from(ManifestStore& store, std::string root_bytes, std::string root_digest,
			   const Platform& want, const std::string& what) {
	std::string digest = std::move(root_digest);
	std::string bytes = std::move(root_bytes);
	Manifest m = parse_manifest(bytes, what + ": manifest " + short_digest(digest));
	for (int depth = 0; m.is_index; depth++) {
		if (depth >= 4) fail(what + ": indexes nested too deep", kExitUnsafe);
		const Descriptor& d = select_platform(m, want, what);
		digest = d.digest;
		bytes = store.fetch_manifest(d);
		m = parse_manifest(bytes, what + ": manifest " + short_digest(digest));
	}
	ResolvedImage img;
	img.image_digest = digest;
	img.config_digest = m.config.digest;
	std::string cfg = read_verified(store.open_blob(m.config), m.config.digest, m.config.size, kMaxConfigBytes,
					"config " + m.config.digest);
	img.config = parse_config(cfg, "config " + short_digest(m.config.digest));
	for (const auto& l : m.layers) {
		std::string lw = "layer " + l.digest;
		check_layer_media_type(l, lw);
		Layer layer;
		layer.digest = l.digest;
		layer.size = l.size;
		layer.what = lw;
		Descriptor copy = l;
		layer.open = [&store, copy] { return store.open_blob(copy); };
		img.layers.push_back(std::move(layer));
	}
	if (!img.config.platform.architecture.empty() && img.config.platform.architecture != want.architecture)
		BLOG_WARN("image is for %s, not %s", img.config.platform.str().c_str(), want.str().c_str());
	return img;
}

}  // namespace bencher::oci
