# bin/bencher-vmm/local.mk: build rules for bin/bencher-vmm (see Makefile.am).
# lib/vmm is laid out like kvmtool: kvm/ (ioctl wrappers), boot/ (loaders,
# zero page, MP table), acpi/ (the ACPI tables and a small AML encoder
# for the DSDT), bus.cc (port I/O and MMIO ranges to devices),
# devices/ (console, serial, i8042, boot timer), virtio/ (queue, mmio
# transport, block, fs: virtio-fs handed to a vhost-user backend, vsock/:
# packet, connection, muxer, device), vhost/ (the vhost-user frontend),
# sandbox/,
# and vm.cc, the build-and-run sequence.
noinst_LIBRARIES += lib/libvmm.a
lib_libvmm_a_SOURCES = \
	lib/vmm/memory.cc lib/vmm/memory.hh \
	lib/vmm/config.cc lib/vmm/config.hh \
	lib/vmm/inputs.cc lib/vmm/inputs.hh \
	lib/vmm/bus.cc lib/vmm/bus.hh \
	lib/vmm/event_loop.cc lib/vmm/event_loop.hh \
	lib/vmm/kvm/kvm.cc lib/vmm/kvm/kvm.hh \
	lib/vmm/boot/loader.cc lib/vmm/boot/loader.hh \
	lib/vmm/boot/layout.cc lib/vmm/boot/layout.hh \
	lib/vmm/boot/cpu.cc lib/vmm/boot/cpu.hh \
	lib/vmm/acpi/aml.cc lib/vmm/acpi/aml.hh \
	lib/vmm/acpi/tables.cc lib/vmm/acpi/tables.hh \
	lib/vmm/devices/console.cc lib/vmm/devices/console.hh \
	lib/vmm/devices/serial.cc lib/vmm/devices/serial.hh \
	lib/vmm/devices/i8042.cc lib/vmm/devices/i8042.hh \
	lib/vmm/devices/boot_timer.cc lib/vmm/devices/boot_timer.hh \
	lib/vmm/virtio/queue.cc lib/vmm/virtio/queue.hh \
	lib/vmm/virtio/mmio.cc lib/vmm/virtio/mmio.hh \
	lib/vmm/virtio/block.cc lib/vmm/virtio/block.hh \
	lib/vmm/vhost/protocol.cc lib/vmm/vhost/protocol.hh \
	lib/vmm/vhost/frontend.cc lib/vmm/vhost/frontend.hh \
	lib/vmm/virtio/fs.cc lib/vmm/virtio/fs.hh \
	lib/vmm/virtio/vsock/packet.cc lib/vmm/virtio/vsock/packet.hh \
	lib/vmm/virtio/vsock/stream.cc lib/vmm/virtio/vsock/stream.hh \
	lib/vmm/virtio/vsock/connection.cc lib/vmm/virtio/vsock/connection.hh \
	lib/vmm/virtio/vsock/muxer.cc lib/vmm/virtio/vsock/muxer.hh \
	lib/vmm/virtio/vsock/device.cc lib/vmm/virtio/vsock/device.hh \
	lib/vmm/sandbox/sandbox.cc lib/vmm/sandbox/sandbox.hh \
	lib/vmm/vm.cc lib/vmm/vm.hh
lib_libvmm_a_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS) $(SECCOMP_CFLAGS) $(CAP_CFLAGS)

VMM_LIBS = lib/libvmm.a $(BENCHER_COMMON_LIBS) $(SECCOMP_LIBS) $(CAP_LIBS) -lpthread

bin_PROGRAMS += bencher-vmm
bencher_vmm_SOURCES = bin/bencher-vmm/main.cc
bencher_vmm_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS)
bencher_vmm_LDADD = $(VMM_LIBS)

# Helpers for the KVM boot tests (tests/bats/kvm/vmm.bats): a static guest
# init, the host end of the vsock control channel, and virtiofsd started on
# directories for --virtiofs.
check_PROGRAMS += tests/vmm/guest-test-init tests/vmm/vsock-test-host tests/vmm/virtiofs-test-host
tests_vmm_guest_test_init_SOURCES = tests/vmm/guest-test-init.c
tests_vmm_guest_test_init_LDFLAGS = -static
tests_vmm_vsock_test_host_SOURCES = tests/vmm/vsock-test-host.cc
tests_vmm_vsock_test_host_LDADD = $(BENCHER_COMMON_LIBS)
tests_vmm_virtiofs_test_host_SOURCES = tests/vmm/virtiofs-test-host.cc
tests_vmm_virtiofs_test_host_LDADD = $(BENCHER_COMMON_LIBS)

TESTS += tests/bats/vmm.bats
EXTRA_DIST += tests/bats/vmm.bats tests/bats/vmm-helpers.bash tests/bats/kvm/vmm.bats tests/bats/kvm/vmm-stop.bats \
	tests/bats/kvm/virtiofs.bats \
	bench/vmm-boot

EXTRA_PROGRAMS += tests/unit/vmm_test
tests_unit_vmm_test_SOURCES = tests/unit/vmm/boot_test.cc tests/unit/vmm/acpi_test.cc tests/unit/vmm/virtio_test.cc \
	tests/unit/vmm/devices_test.cc tests/unit/vmm/event_loop_test.cc tests/unit/vmm/vsock_test.cc \
	tests/unit/vmm/vsock_connection_test.cc tests/unit/vmm/vhost_test.cc \
	tests/unit/vmm/fake_memory.hh
tests_unit_vmm_test_CPPFLAGS = $(AM_CPPFLAGS) $(GTEST_CFLAGS) -I$(top_srcdir)/tests/unit/vmm
tests_unit_vmm_test_LDADD = $(VMM_LIBS) $(GTEST_LIBS)
TESTS += tests/unit/vmm_test
dist_man_MANS += man/bencher-vmm.1 man/bencher-vsock.7

# Fuzz targets over the paths a hostile guest drives (tests/fuzz/).
EXTRA_PROGRAMS += tests/fuzz/vmm_virtqueue tests/fuzz/vmm_vsock
tests_fuzz_vmm_virtqueue_SOURCES = tests/fuzz/vmm_virtqueue.cc tests/fuzz/replay.cc
tests_fuzz_vmm_virtqueue_LDADD = $(VMM_LIBS)
tests_fuzz_vmm_vsock_SOURCES = tests/fuzz/vmm_vsock.cc tests/fuzz/replay.cc
tests_fuzz_vmm_vsock_LDADD = $(VMM_LIBS)
EXTRA_PROGRAMS += tests/fuzz/vmm_vhost
tests_fuzz_vmm_vhost_SOURCES = tests/fuzz/vmm_vhost.cc tests/fuzz/replay.cc
tests_fuzz_vmm_vhost_LDADD = $(VMM_LIBS)
FUZZ_TARGETS += tests/fuzz/vmm_virtqueue tests/fuzz/vmm_vsock tests/fuzz/vmm_vhost
