// Unit tests for lib/oci/image and the parsing half of lib/oci/registry:
// manifests, indexes, configs, platform choice, references, auth challenges,
// and the hostile forms of each.
#include <gtest/gtest.h>

#include "common/error.hh"
#include "oci/image.hh"
#include "oci/registry.hh"

using namespace bencher;
using namespace bencher::oci;

namespace {
const std::string kD1 = "sha256:" + std::string(64, 'a');
const std::string kD2 = "sha256:" + std::string(64, 'b');

int code_of(const std::function<void()>& f) {
	try {
		f();
	} catch (const Error& e) {
		return e.exit_code();
	}
	return 0;
}
}  // namespace

TEST(Manifest, ImageManifest) {
	std::string text = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
	  "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" + kD1 + R"(","size":12},
	  "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" + kD2 + R"(","size":34}],
	  "annotations":{"x":"y"}})";
	Manifest m = parse_manifest(text, "m");
	EXPECT_FALSE(m.is_index);
	EXPECT_EQ(m.config.digest, kD1);
	ASSERT_EQ(m.layers.size(), 1u);
	EXPECT_EQ(m.layers[0].size, 34);
	check_layer_media_type(m.layers[0], "l");
}

TEST(Manifest, DockerSchema2AndList) {
	std::string text = R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
	  "config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":")" + kD1 + R"(","size":5},
	  "layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":")" + kD2 + R"(","size":6}]})";
	Manifest m = parse_manifest(text, "m");
	EXPECT_FALSE(m.is_index);
	check_layer_media_type(m.layers.at(0), "l");
	std::string list = R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json",
	  "manifests":[{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":")" + kD1 +
			   R"(","size":1,"platform":{"os":"linux","architecture":"amd64"}},
	  {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + kD2 +
			   R"(","size":1,"platform":{"os":"unknown","architecture":"unknown"}}]})";
	Manifest l = parse_manifest(list, "l");
	ASSERT_TRUE(l.is_index);
	EXPECT_EQ(select_platform(l, {"linux", "amd64", ""}, "l").digest, kD1);
}

TEST(Manifest, IndexAndPlatform) {
	std::string text = R"({"schemaVersion":2,"manifests":[
	  {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + kD1 + R"(","size":1,
	   "platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
	  {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + kD2 + R"(","size":1,
	   "platform":{"os":"linux","architecture":"amd64"}}]})";
	Manifest m = parse_manifest(text, "i");
	ASSERT_TRUE(m.is_index);
	EXPECT_EQ(select_platform(m, {"linux", "amd64", ""}, "i").digest, kD2);
	EXPECT_EQ(select_platform(m, {"linux", "arm64", ""}, "i").digest, kD1);
	EXPECT_EQ(select_platform(m, {"linux", "arm64", "v8"}, "i").digest, kD1);
	EXPECT_EQ(code_of([&] { select_platform(m, {"linux", "s390x", ""}, "i"); }), kExitNotFound);
}

TEST(Manifest, HostileOrMalformed) {
	EXPECT_NE(code_of([] { parse_manifest("{", "m"); }), 0);
	EXPECT_NE(code_of([] { parse_manifest("[]", "m"); }), 0);
	EXPECT_NE(code_of([] { parse_manifest(R"({"schemaVersion":1,"fsLayers":[]})", "m"); }), 0);
	EXPECT_NE(code_of([] { parse_manifest(R"({"config":{"digest":"md5:abc","size":1},"layers":[]})", "m"); }), 0);
	EXPECT_NE(code_of([] { parse_manifest(R"({"config":{"digest":")" + kD1 + R"(","size":-1},"layers":[]})", "m"); }), 0);
	EXPECT_NE(code_of([] { parse_manifest(R"({"mediaType":"text/html","config":{},"layers":[]})", "m"); }), 0);
	EXPECT_EQ(code_of([] { parse_manifest(std::string(5u << 20, ' '), "m"); }), kExitUnsafe);
	std::string deep(1000, '[');
	EXPECT_NE(code_of([&] { parse_manifest(deep, "m"); }), 0);
	Descriptor d;
	d.media_type = "application/x-unknown";
	EXPECT_NE(code_of([&] { check_layer_media_type(d, "l"); }), 0);
}

TEST(Config, FieldsAndSummary) {
	std::string text = R"({"architecture":"amd64","os":"linux","config":{"Entrypoint":["/bin/sh","-c"],
	  "Cmd":null,"Env":["A=1"],"WorkingDir":"/w","User":"1000:1000","Labels":{"k":"v"}},
	  "rootfs":{"type":"layers","diff_ids":[")" + kD1 + R"("]},"history":[]})";
	ImageConfig c = parse_config(text, "c");
	ASSERT_TRUE(c.entrypoint);
	EXPECT_EQ(c.entrypoint->size(), 2u);
	EXPECT_FALSE(c.cmd);
	EXPECT_EQ(c.working_dir, "/w");
	EXPECT_EQ(c.user, "1000:1000");
	ResolvedImage img;
	img.config = c;
	img.image_digest = kD2;
	img.config_digest = kD1;
	std::string j = json::dump(config_summary(img));
	EXPECT_EQ(j, R"({"entrypoint":["/bin/sh","-c"],"cmd":null,"env":["A=1"],"working_dir":"/w","user":"1000:1000",)"
		     R"("image_digest":")" + kD2 + R"(","config_digest":")" + kD1 +
			 R"(","platform":{"os":"linux","architecture":"amd64","variant":""}})");
	EXPECT_NE(code_of([] { parse_config(R"({"config":{"Env":"notalist"}})", "c"); }), 0);
	EXPECT_NE(code_of([] { parse_config(R"({"rootfs":{"diff_ids":["nope"]}})", "c"); }), 0);
}

TEST(Platform, Parse) {
	Platform p = parse_platform("linux/arm/v7");
	EXPECT_EQ(p.architecture, "arm");
	EXPECT_EQ(p.variant, "v7");
	EXPECT_EQ(code_of([] { parse_platform("linux"); }), kExitUsage);
	EXPECT_EQ(code_of([] { parse_platform("linux/"); }), kExitUsage);
	EXPECT_EQ(code_of([] { parse_platform("linux/arm/v7/x"); }), kExitUsage);
}

TEST(Registry, References) {
	RegistryRef r = parse_registry_ref("127.0.0.1:5000/team/app:v1");
	EXPECT_EQ(r.host, "127.0.0.1:5000");
	EXPECT_EQ(r.repo, "team/app");
	EXPECT_EQ(r.tag, "v1");
	r = parse_registry_ref("localhost/app@" + kD1);
	EXPECT_EQ(r.digest, kD1);
	EXPECT_TRUE(r.tag.empty());
	r = parse_registry_ref("busybox");
	EXPECT_EQ(r.host, "registry-1.docker.io");
	EXPECT_EQ(r.repo, "library/busybox");
	EXPECT_EQ(r.tag, "latest");
	EXPECT_TRUE(looks_like_registry_ref("ghcr.io/x/y"));
	EXPECT_FALSE(looks_like_registry_ref("images/busybox"));
	EXPECT_FALSE(looks_like_registry_ref("./images/busybox"));
	EXPECT_FALSE(looks_like_registry_ref("../x.y/busybox"));
	EXPECT_EQ(code_of([] { parse_registry_ref("host.io/UPPER"); }), kExitUsage);
	EXPECT_EQ(code_of([] { parse_registry_ref("host.io/a/../b"); }), kExitUsage);
	EXPECT_EQ(code_of([] { parse_registry_ref("host.io/a:bad tag"); }), kExitUsage);
	EXPECT_NE(code_of([] { parse_registry_ref("host.io/a@sha256:short"); }), 0);
}

TEST(Registry, Challenge) {
	Challenge c = parse_challenge(
	    R"(Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a:pull repository:b:pull")");
	EXPECT_EQ(c.scheme, "Bearer");
	EXPECT_EQ(c.realm, "https://auth.example/token");
	EXPECT_EQ(c.service, "registry.example");
	EXPECT_EQ(c.scopes, (std::vector<std::string>{"repository:a:pull", "repository:b:pull"}));
	c = parse_challenge(R"(Bearer realm="x",scope="a",scope="b")");
	EXPECT_EQ(c.scopes.size(), 2u);
	c = parse_challenge("Basic realm=\"r\"");
	EXPECT_EQ(c.scheme, "Basic");
	c = parse_challenge("garbage");
	EXPECT_TRUE(c.realm.empty());
}
