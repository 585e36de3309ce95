# init/local.mk: bencher-init, the guest's PID 1. A static binary (the image
# may have no libc, or another one), installed as a guest binary under
# $(pkglibexecdir); mkrootfs --init copies it to /bencher/init. Its logic is
# lib/libguest.a, unit-tested by tests/unit/guest_test over a fake sink.
noinst_LIBRARIES += lib/libguest.a
lib_libguest_a_SOURCES = \
	lib/guest/cgroup.cc lib/guest/cgroup.hh \
	lib/guest/connector.cc lib/guest/connector.hh \
	lib/guest/files.cc lib/guest/files.hh \
	lib/guest/init.cc lib/guest/init.hh \
	lib/guest/modules.cc lib/guest/modules.hh \
	lib/guest/receipt.cc lib/guest/receipt.hh \
	lib/guest/root.cc lib/guest/root.hh \
	lib/guest/sink.cc lib/guest/sink.hh \
	lib/guest/system.cc lib/guest/system.hh \
	lib/guest/workload.cc lib/guest/workload.hh
lib_libguest_a_CPPFLAGS = $(AM_CPPFLAGS) $(CRYPTO_CFLAGS)

pkglibexec_PROGRAMS += bencher-init
bencher_init_SOURCES = init/main.cc
bencher_init_CPPFLAGS = $(AM_CPPFLAGS) $(CRYPTO_CFLAGS)
bencher_init_LDFLAGS = -static -pthread
bencher_init_LDADD = lib/libguest.a lib/libresults.a lib/libbencher.a $(CRYPTO_LIBS) -ldl
dist_man_MANS += man/bencher-init.8

EXTRA_PROGRAMS += tests/unit/guest_test
tests_unit_guest_test_SOURCES = \
	tests/unit/guest/fake_sink.hh \
	tests/unit/guest/files_test.cc \
	tests/unit/guest/receipt_test.cc \
	tests/unit/guest/root_test.cc \
	tests/unit/guest/workload_test.cc
tests_unit_guest_test_CPPFLAGS = $(AM_CPPFLAGS) $(GTEST_CFLAGS) $(CRYPTO_CFLAGS)
tests_unit_guest_test_LDADD = lib/libguest.a lib/libresults.a $(BENCHER_COMMON_LIBS) $(GTEST_LIBS)
TESTS += tests/unit/guest_test
