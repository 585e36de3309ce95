// sandbox.hh: what the VMM gives up once the VM is built. Capabilities go
// first (per thread, so before the vCPU threads start); the seccomp
// allowlist is installed for every thread at once (TSYNC) just before the
// guest runs. A syscall outside the list kills the process.
#pragma once

namespace bencher::vmm::sandbox {

void drop_capabilities();
void apply_seccomp();

}  // namespace bencher::vmm::sandbox
