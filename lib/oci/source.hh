// source.hh: images on the local disk: an OCI image layout directory, a
// `docker save` tarball or its unpacked directory (classic and OCI-layout
// forms), and an oci-archive tarball. Tarballs are read in place (members
// are located once and read with pread) unless compressed, in which case
// their members are first copied out to a temporary directory.
#pragma once

#include <memory>
#include <string>

#include "oci/image.hh"

namespace bencher::oci {

// Files of an image, addressed by relative path.
class FileTree {
public:
	virtual ~FileTree() = default;
	virtual bool exists(const std::string& rel) = 0;
	virtual int64_t size(const std::string& rel) = 0;                // -1 if missing
	virtual std::unique_ptr<Reader> open(const std::string& rel) = 0;  // throws (exit 3) if missing
	// The whole file, refusing more than max bytes.
	std::string read(const std::string& rel, size_t max);
};

std::unique_ptr<FileTree> open_dir_tree(const std::string& dir);
std::unique_ptr<FileTree> open_tar_tree(const std::string& file);

// `tag` or `digest` (at most one) selects an image among several: a manifest
// digest, or for a classic docker-save image (no manifests) a config digest.
std::unique_ptr<Source> open_local(const std::string& path, const std::string& tag, const std::string& digest);

}  // namespace bencher::oci
