// registry.cc: the distribution-API client (see registry.hh).
#include "oci/registry.hh"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <mutex>

#include "common/error.hh"
#include "common/log.hh"
#include "common/size.hh"

namespace bencher::oci {

std::string RegistryRef::str() const {
	return host + "/" + repo + (digest.empty() ? ":" + tag : "@" + digest);
}

namespace {

bool valid_repo(const std::string& r) {
	if (r.empty() || r.size() > 255) return false;
	for (char c : r)
		if (!(std::islower((unsigned char)c) || std::isdigit((unsigned char)c) || c == '.' || c == '_' || c == '-' ||
		      c == '/'))
			return false;
	return r.front() != '/' && r.back() != '/' && r.find("//") == std::string::npos && r.find("..") == std::string::npos;
}

bool valid_tag(const std::string& t) {
	if (t.empty() || t.size() > 128) return false;
	for (char c : t)
		if (!(std::isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-')) return false;
	return t.front() != '.' && t.front() != '-';
}

bool valid_host(const std::string& h) {
	if (h.empty() || h.size() > 255) return false;
	for (char c : h)
		if (!(std::isalnum((unsigned char)c) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']')) return false;
	return true;
}

bool is_loopback(const std::string& hostport) {
	std::string h = hostport;
	if (!h.empty() && h[0] == '[') {
		h = h.substr(1, h.find(']') - 1);
	} else if (h.find(':') != std::string::npos) {
		h = h.substr(0, h.find(':'));
	}
	return h == "localhost" || h == "::1" || h.compare(0, 4, "127.") == 0;
}

std::string lower(std::string s) {
	for (auto& c : s) c = static_cast<char>(std::tolower((unsigned char)c));
	return s;
}

std::once_flag curl_once;

class Curl {
public:
	Curl() {
		std::call_once(curl_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
		h_ = curl_easy_init();
		if (!h_) fail("curl: cannot initialise", kExitRegistry);
	}
	~Curl() {
		curl_easy_cleanup(h_);
		curl_slist_free_all(headers_);
	}
	Curl(const Curl&) = delete;
	Curl& operator=(const Curl&) = delete;
	CURL* get() { return h_; }
	void header(const std::string& h) { headers_ = curl_slist_append(headers_, h.c_str()); }
	curl_slist* headers() { return headers_; }

private:
	CURL* h_;
	curl_slist* headers_ = nullptr;
};

struct Response {
	long status = 0;
	std::string content_type, www_authenticate, body;
};

// What a response body goes to: memory (bounded) or a callback.
struct Sink {
	size_t max = 0;
	std::string* mem = nullptr;
	std::function<void(const char*, size_t)> fn;
	bool overflow = false;
	std::exception_ptr error;
};

size_t write_cb(char* p, size_t size, size_t n, void* ud) {
	auto* s = static_cast<Sink*>(ud);
	size_t len = size * n;
	try {
		if (s->mem) {
			if (s->mem->size() + len > s->max) {
				s->overflow = true;
				return 0;
			}
			s->mem->append(p, len);
		} else if (s->fn) {
			s->fn(p, len);
		}
	} catch (...) {
		s->error = std::current_exception();
		return 0;
	}
	return len;
}

size_t header_cb(char* p, size_t size, size_t n, void* ud) {
	auto* r = static_cast<Response*>(ud);
	std::string line(p, size * n);
	size_t colon = line.find(':');
	if (colon != std::string::npos) {
		std::string key = lower(line.substr(0, colon));
		std::string val = line.substr(colon + 1);
		while (!val.empty() && (val.front() == ' ' || val.front() == '\t')) val.erase(0, 1);
		while (!val.empty() && (val.back() == '\r' || val.back() == '\n' || val.back() == ' ')) val.pop_back();
		if (key == "content-type") r->content_type = val;
		if (key == "www-authenticate") r->www_authenticate = val;
	} else if (line.compare(0, 5, "HTTP/") == 0) {
		// A new response (after a redirect): forget the previous headers.
		r->content_type.clear();
		r->www_authenticate.clear();
	}
	return size * n;
}

struct Progress {
	std::string label;
	curl_off_t last = -1;
};

int progress_cb(void* ud, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
	auto* p = static_cast<Progress*>(ud);
	if (now == p->last) return 0;
	p->last = now;
	std::string line = "\r" + program_name() + ": " + p->label + " " + format_size(static_cast<uint64_t>(now));
	if (total > 0) line += strprintf(" / %s (%d%%)", format_size(static_cast<uint64_t>(total)).c_str(), (int)(now * 100 / total));
	line += "\033[K";
	if (write(2, line.data(), line.size()) < 0) {
	}
	return 0;
}

class Registry : public ManifestStore, public Source {
public:
	Registry(RegistryRef ref, RegistryOptions opt) : ref_(std::move(ref)), opt_(std::move(opt)) {
		if (opt_.insecure && !is_loopback(ref_.host))
			fail_usage("--insecure: plain http is allowed to loopback registries only, not " + ref_.host);
		base_ = std::string(opt_.insecure ? "http://" : "https://") + ref_.host + "/v2/" + ref_.repo;
	}

	ResolvedImage resolve(const Platform& want) override {
		std::string ref = ref_.digest.empty() ? ref_.tag : ref_.digest;
		Descriptor d;
		d.digest = ref_.digest;
		std::string digest;
		std::string bytes = get_manifest(ref, d, &digest);
		ResolvedImage img = resolve_from(*this, std::move(bytes), digest, want, ref_.str());
		// Pull every layer into the cache before anything streams it.
		for (auto& l : img.layers) {
			Descriptor ld;
			ld.digest = l.digest;
			ld.size = l.size;
			ensure_cached(ld, "layer");
		}
		return img;
	}

	std::string fetch_manifest(const Descriptor& d) override {
		std::string digest;
		return get_manifest(d.digest, d, &digest);
	}

	std::unique_ptr<Reader> open_blob(const Descriptor& d) override {
		std::string path = ensure_cached(d, "blob");
		auto fd = std::make_shared<UniqueFd>(open_file(path, O_RDONLY));
		struct stat st {};
		fstat(fd->get(), &st);
		return std::make_unique<FdRangeReader>(fd, 0, st.st_size, path);
	}

private:
	std::string get_manifest(const std::string& ref, const Descriptor& d, std::string* digest) {
		Response r;
		std::string url = base_ + "/manifests/" + ref;
		std::string accept = std::string("Accept: ") + media::kOciIndex + ", " + media::kOciManifest + ", " +
				     media::kDockerList + ", " + media::kDockerManifest;
		request(url, {accept}, r, kMaxManifestBytes, nullptr, "");
		if (r.status == 404) fail(ref_.str() + ": manifest " + ref + " not found", kExitNotFound);
		if (r.status != 200) fail(strprintf("%s: manifest %s: HTTP %ld", ref_.str().c_str(), ref.c_str(), r.status), kExitRegistry);
		*digest = digest_of(r.body);
		if (!d.digest.empty() && *digest != d.digest)
			fail("manifest " + d.digest + ": digest mismatch: content hashes to " + *digest, kExitIntegrity);
		if (d.size >= 0 && r.body.size() != static_cast<size_t>(d.size))
			fail(strprintf("manifest %s: size mismatch: got %zu bytes, descriptor says %lld", d.digest.c_str(),
				       r.body.size(), (long long)d.size),
			     kExitIntegrity);
		return std::move(r.body);
	}

	std::string ensure_cached(const Descriptor& d, const char* kind) {
		check_digest_syntax(d.digest, kind);
		std::string dir = opt_.cache_dir + "/sha256";
		std::string path = dir + "/" + d.digest.substr(7);
		struct stat st {};
		if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (d.size < 0 || st.st_size == d.size)) {
			if (std::string(kind) == "layer") BLOG_INFO("%s %s: cached", kind, d.digest.c_str());
			return path;
		}
		make_dirs(dir);
		AtomicFile out(path, 0644);
		Sha256 sha;
		uint64_t got = 0;
		std::string what = std::string(kind) + " " + d.digest;
		Response r;
		auto sink = [&](const char* p, size_t n) {
			got += n;
			if (d.size >= 0 && got > static_cast<uint64_t>(d.size))
				fail(strprintf("%s: size mismatch: more than the %lld bytes the descriptor says", what.c_str(),
					       (long long)d.size),
				     kExitIntegrity);
			sha.update(p, n);
			write_all(out.fd(), p, n, "write " + out.temp_path());
		};
		BLOG_INFO("%s %s: downloading", kind, d.digest.c_str());
		request(base_ + "/blobs/" + d.digest, {}, r, 0, sink, short_digest(d.digest));
		if (r.status == 404) fail(what + ": not found in " + ref_.host + "/" + ref_.repo, kExitNotFound);
		if (r.status != 200) fail(strprintf("%s: HTTP %ld", what.c_str(), r.status), kExitRegistry);
		if (d.size >= 0 && got != static_cast<uint64_t>(d.size))
			fail(strprintf("%s: size mismatch: got %llu bytes, descriptor says %lld", what.c_str(),
				       (unsigned long long)got, (long long)d.size),
			     kExitIntegrity);
		std::string h = "sha256:" + to_hex(sha.finish());
		if (h != d.digest) fail(what + ": digest mismatch: content hashes to " + h, kExitIntegrity);
		out.commit();
		return path;
	}

	static void make_dirs(const std::string& dir) {
		for (size_t i = 1; i <= dir.size(); i++) {
			if (i < dir.size() && dir[i] != '/') continue;
			std::string p = dir.substr(0, i);
			if (::mkdir(p.c_str(), 0755) < 0 && errno != EEXIST) fail_errno("mkdir " + p);
		}
	}

	// One request with the auth dance: on a 401 with a Bearer challenge, get
	// a token for its realm and scopes and try once more.
	void request(const std::string& url, const std::vector<std::string>& extra, Response& r, size_t max,
		     std::function<void(const char*, size_t)> fn, const std::string& progress_label) {
		for (int attempt = 0; attempt < 2; attempt++) {
			r = Response{};
			perform(url, extra, r, max, fn, progress_label, token_);
			if (r.status != 401 || attempt == 1) return;
			Challenge c = parse_challenge(r.www_authenticate);
			if (lower(c.scheme) != "bearer" || c.realm.empty())
				fail(ref_.str() + ": unauthorized (" + (r.www_authenticate.empty() ? "no challenge" : r.www_authenticate) + ")",
				     kExitRegistry);
			if (c.scopes.empty()) c.scopes.push_back("repository:" + ref_.repo + ":pull");
			token_ = fetch_token(c);
		}
	}

	void perform(const std::string& url, const std::vector<std::string>& extra, Response& r, size_t max,
		     const std::function<void(const char*, size_t)>& fn, const std::string& progress_label,
		     const std::string& token, const std::string* post = nullptr) {
		Curl c;
		for (const auto& h : extra) c.header(h);
		if (!token.empty()) c.header("Authorization: Bearer " + token);
		Sink sink;
		sink.max = max;
		if (fn) {
			sink.fn = fn;
		} else {
			sink.mem = &r.body;
		}
		Progress prog;
		prog.label = progress_label;
		CURL* h = c.get();
		curl_easy_setopt(h, CURLOPT_URL, url.c_str());
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, c.headers());
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
		curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
		curl_easy_setopt(h, CURLOPT_HEADERDATA, &r);
		curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
		curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, opt_.insecure ? "http,https" : "https");
		curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, opt_.insecure ? "http,https" : "https");
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_USERAGENT, "oci-unpack (bencher-runner)");
		if (post) {
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, post->c_str());
		}
		if (opt_.progress && !progress_label.empty()) {
			curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, progress_cb);
			curl_easy_setopt(h, CURLOPT_XFERINFODATA, &prog);
			curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
		}
		CURLcode rc = curl_easy_perform(h);
		if (opt_.progress && !progress_label.empty() && prog.last >= 0) {
			if (write(2, "\n", 1) < 0) {
			}
		}
		if (sink.error) std::rethrow_exception(sink.error);
		if (sink.overflow) fail(strprintf("%s: response larger than %zu bytes", url.c_str(), max), kExitUnsafe);
		if (rc != CURLE_OK) fail(url + ": " + curl_easy_strerror(rc), kExitRegistry);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
	}

	static std::string escape(const std::string& s) {
		char* e = curl_easy_escape(nullptr, s.c_str(), static_cast<int>(s.size()));
		std::string out = e ? e : "";
		curl_free(e);
		return out;
	}

	// The token endpoint: GET with one scope parameter per scope; if the
	// server does not offer GET, the OAuth2 POST form.
	std::string fetch_token(const Challenge& c) {
		if (!opt_.insecure && c.realm.compare(0, 8, "https://") != 0)
			fail(ref_.str() + ": token realm " + c.realm + " is not https", kExitRegistry);
		std::string q;
		if (!c.service.empty()) q += "service=" + escape(c.service);
		for (const auto& s : c.scopes) q += (q.empty() ? "" : "&") + std::string("scope=") + escape(s);
		Response r;
		std::string url = c.realm + (c.realm.find('?') == std::string::npos ? "?" : "&") + q;
		perform(url, {}, r, 1u << 20, nullptr, "", "");
		if (r.status == 404 || r.status == 405 || r.status == 400) {
			std::string joined;
			for (const auto& s : c.scopes) joined += (joined.empty() ? "" : " ") + s;
			std::string form = "grant_type=client_credentials&client_id=bencher-runner";
			if (!c.service.empty()) form += "&service=" + escape(c.service);
			form += "&scope=" + escape(joined);
			r = Response{};
			perform(c.realm, {"Content-Type: application/x-www-form-urlencoded"}, r, 1u << 20, nullptr, "", "", &form);
		}
		if (r.status != 200)
			fail(strprintf("%s: token request to %s: HTTP %ld", ref_.str().c_str(), c.realm.c_str(), r.status), kExitRegistry);
		json::Value v = json::parse(r.body, "token response");
		json::Object o = json::root_object(v, "token response");
		std::string t = o.has("token") ? o.str("token") : o.has("access_token") ? o.str("access_token") : "";
		if (t.empty()) fail(ref_.str() + ": token response without a token", kExitRegistry);
		for (char ch : t)
			if (ch == '\r' || ch == '\n') fail(ref_.str() + ": malformed token", kExitRegistry);
		return t;
	}

	RegistryRef ref_;
	RegistryOptions opt_;
	std::string base_;
	std::string token_;
};

}  // namespace

bool looks_like_registry_ref(const std::string& text) {
	size_t slash = text.find('/');
	if (slash == std::string::npos) return false;
	std::string first = text.substr(0, slash);
	if (first.empty() || first[0] == '.') return false;  // ./dir, ../dir
	return first == "localhost" || first.find('.') != std::string::npos || first.find(':') != std::string::npos;
}

RegistryRef parse_registry_ref(const std::string& text) {
	RegistryRef r;
	std::string rest = text;
	if (looks_like_registry_ref(text)) {
		size_t slash = text.find('/');
		r.host = text.substr(0, slash);
		rest = text.substr(slash + 1);
	} else {
		r.host = "registry-1.docker.io";
		if (rest.find('/') == std::string::npos) rest = "library/" + rest;
	}
	if (r.host == "docker.io") r.host = "registry-1.docker.io";
	size_t at = rest.find('@');
	if (at != std::string::npos) {
		r.digest = rest.substr(at + 1);
		rest = rest.substr(0, at);
		check_digest_syntax(r.digest, text);
	}
	size_t colon = rest.rfind(':');
	if (colon != std::string::npos && rest.find('/', colon) == std::string::npos) {
		r.tag = rest.substr(colon + 1);
		rest = rest.substr(0, colon);
		if (!valid_tag(r.tag)) fail_usage(text + ": invalid tag '" + r.tag + "'");
	}
	if (r.tag.empty() && r.digest.empty()) r.tag = "latest";
	r.repo = rest;
	if (!valid_host(r.host)) fail_usage(text + ": invalid registry host '" + r.host + "'");
	if (!valid_repo(r.repo)) fail_usage(text + ": invalid repository name '" + r.repo + "'");
	return r;
}

std::string default_cache_dir() {
	const char* x = std::getenv("XDG_CACHE_HOME");
	if (x && *x == '/') return std::string(x) + "/bencher-runner/blobs";
	const char* home = std::getenv("HOME");
	if (!home || !*home) fail("cannot find a cache directory: set XDG_CACHE_HOME or HOME, or use --cache-dir");
	return std::string(home) + "/.cache/bencher-runner/blobs";
}

Challenge parse_challenge(const std::string& header) {
	Challenge c;
	size_t i = 0;
	while (i < header.size() && header[i] != ' ') i++;
	c.scheme = header.substr(0, i);
	while (i < header.size()) {
		while (i < header.size() && (header[i] == ' ' || header[i] == ',')) i++;
		size_t eq = header.find('=', i);
		if (eq == std::string::npos) break;
		std::string key = lower(header.substr(i, eq - i));
		i = eq + 1;
		std::string val;
		if (i < header.size() && header[i] == '"') {
			i++;
			while (i < header.size() && header[i] != '"') {
				if (header[i] == '\\' && i + 1 < header.size()) i++;
				val += header[i++];
			}
			i++;
		} else {
			while (i < header.size() && header[i] != ',') val += header[i++];
		}
		if (key == "realm") c.realm = val;
		if (key == "service") c.service = val;
		if (key == "scope") {
			size_t s = 0;
			while (s < val.size()) {
				size_t e = val.find(' ', s);
				if (e == std::string::npos) e = val.size();
				if (e > s) c.scopes.push_back(val.substr(s, e - s));
				s = e + 1;
			}
		}
	}
	return c;
}

std::unique_ptr<Source> open_registry(const RegistryRef& ref, const RegistryOptions& options) {
	return std::make_unique<Registry>(ref, options);
}

}  // namespace bencher::oci
