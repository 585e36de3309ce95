# bin/bencher-vmtest/local.mk: vmtest's front end (bencher-vmtest), its
# library lib/libvmtest.a (vmtest.toml, the command line, the reports, the
# virtiofsd shares and the pipeline), unit and bats tests, man page and fuzz
# target.
noinst_LIBRARIES += lib/libvmtest.a
lib_libvmtest_a_SOURCES = \
	lib/vmtest/cli.cc lib/vmtest/cli.hh \
	lib/vmtest/config.cc lib/vmtest/config.hh \
	lib/vmtest/pipeline.cc lib/vmtest/pipeline.hh \
	lib/vmtest/report.cc lib/vmtest/report.hh \
	lib/vmtest/run.cc \
	lib/vmtest/share.cc lib/vmtest/share.hh
lib_libvmtest_a_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS) $(TOMLPP_CFLAGS)
# libinitramfs (lib/vmtest/local.mk): the initramfs and the kernel check.
VMTEST_LIBS = lib/libvmtest.a lib/libresults.a $(INITRAMFS_LIBS) $(TOMLPP_LIBS)

bin_PROGRAMS += bencher-vmtest
bencher_vmtest_SOURCES = bin/bencher-vmtest/main.cc
bencher_vmtest_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS)
bencher_vmtest_LDADD = $(VMTEST_LIBS)
dist_man_MANS += man/bencher-vmtest.1

TESTS += tests/bats/vmtest.bats
EXTRA_DIST += tests/bats/vmtest.bats tests/bats/kvm/vmtest.bats tests/vmtest/junit.xsd bench/vmtest

EXTRA_PROGRAMS += tests/unit/vmtest_test
tests_unit_vmtest_test_SOURCES = \
	tests/unit/vmtest/cli_test.cc \
	tests/unit/vmtest/config_test.cc \
	tests/unit/vmtest/report_test.cc
tests_unit_vmtest_test_CPPFLAGS = $(AM_CPPFLAGS) $(GTEST_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_vmtest_test_LDADD = $(VMTEST_LIBS) $(GTEST_LIBS)
TESTS += tests/unit/vmtest_test

# vmtest.toml is the user's, but a file can come from anywhere (a CI
# checkout): TOML parsing and every check after it, fuzzed.
EXTRA_PROGRAMS += tests/fuzz/vmtest_config
tests_fuzz_vmtest_config_SOURCES = tests/fuzz/vmtest_config.cc tests/fuzz/replay.cc
tests_fuzz_vmtest_config_CPPFLAGS = $(AM_CPPFLAGS) $(TOMLPP_CFLAGS)
tests_fuzz_vmtest_config_LDADD = $(VMTEST_LIBS)
FUZZ_TARGETS += tests/fuzz/vmtest_config
