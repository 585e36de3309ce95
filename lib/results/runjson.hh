// runjson.hh: run.json, the run config as the runner writes it for
// collect-results (host side only: it uses jansson, which bencher-init does
// not link).
//   {"argv": ["cmd", "arg"], "env": ["K=V"], "workdir": "/", "user": "1000:1000",
//    "files": ["/tmp/out.json"], "cgroup": "bench", "max_output_bytes": N,
//    "max_file_bytes": N, "max_files_total_bytes": N,
//    "root": {"virtiofs": "TAG"},
//    "mounts": [{"tag": "TAG", "path": "/abs/path", "writable": false}]}
// "root" absent: the ext4 root on /dev/vda. "mounts" need a virtio-fs root;
// "writable" defaults to false.
#pragma once

#include <string>

#include "results/protocol.hh"

namespace bencher::results {

// Loads and validates run.json (no HMAC key: collect-results adds its own).
RunConfig load_run_json(const std::string& path);

}  // namespace bencher::results
