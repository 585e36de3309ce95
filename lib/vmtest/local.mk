# lib/vmtest/local.mk: what bencher-vmtest needs to boot any kernel: the kernel
# release, the module closure and the kernel check (kmod), and the initramfs
# writer (libarchive). bencher-vmtest links $(INITRAMFS_LIBS).
noinst_LIBRARIES += lib/libinitramfs.a
lib_libinitramfs_a_SOURCES = \
	lib/vmtest/initramfs.cc lib/vmtest/initramfs.hh \
	lib/vmtest/kmod.cc lib/vmtest/kmod.hh
lib_libinitramfs_a_CPPFLAGS = $(AM_CPPFLAGS) $(ARCHIVE_CFLAGS)
INITRAMFS_LIBS = lib/libinitramfs.a $(BENCHER_COMMON_LIBS) $(ARCHIVE_LIBS)

EXTRA_PROGRAMS += tests/unit/initramfs_test
tests_unit_initramfs_test_SOURCES = \
	tests/unit/vmtest/initramfs_test.cc \
	tests/unit/vmtest/kmod_test.cc \
	tests/unit/vmtest/kernels.hh
tests_unit_initramfs_test_CPPFLAGS = $(AM_CPPFLAGS) $(GTEST_CFLAGS) $(ARCHIVE_CFLAGS)
tests_unit_initramfs_test_LDADD = lib/libguest.a $(INITRAMFS_LIBS) $(GTEST_LIBS)
TESTS += tests/unit/initramfs_test

EXTRA_PROGRAMS += tests/fuzz/vmtest_modules_dep
tests_fuzz_vmtest_modules_dep_SOURCES = tests/fuzz/vmtest_modules_dep.cc tests/fuzz/replay.cc
tests_fuzz_vmtest_modules_dep_LDADD = $(INITRAMFS_LIBS)
FUZZ_TARGETS += tests/fuzz/vmtest_modules_dep

# The KVM suite's initramfs builder (tests/bats/kvm/initramfs.bats).
check_PROGRAMS += tests/vmtest/initramfs-tool
tests_vmtest_initramfs_tool_SOURCES = tests/vmtest/initramfs-tool.cc
tests_vmtest_initramfs_tool_LDADD = $(INITRAMFS_LIBS)
EXTRA_DIST += tests/bats/kvm/initramfs.bats
