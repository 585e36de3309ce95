# tests/: GoogleTest unit tests per library area and Bats suites per program.
# Bats files speak TAP through automake's tap-driver, so each case counts.

EXTRA_PROGRAMS += tests/unit/common_test
tests_unit_common_test_SOURCES = \
	tests/unit/common/digest_test.cc \
	tests/unit/common/error_cli_test.cc \
	tests/unit/common/error_of.hh \
	tests/unit/common/fd_test.cc \
	tests/unit/common/json_test.cc \
	tests/unit/common/size_test.cc \
	tests/unit/common/vsock_control_test.cc
tests_unit_common_test_CPPFLAGS = $(AM_CPPFLAGS) $(GTEST_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_common_test_LDADD = $(BENCHER_COMMON_LIBS) $(GTEST_LIBS)
TESTS += tests/unit/common_test

TESTS += tests/bats/lint.bats
# The unit tests and the fuzz replay again, under ASan and UBSan, in a build
# tree of their own (sanitize/); tests/fuzz/libfuzzer.tap fuzzes in fuzz/.
TESTS += tests/sanitize.tap
EXTRA_DIST += tests/sanitize.tap
clean-local:
	rm -rf sanitize fuzz
if BUILD_KERNEL
TESTS += tests/bats/kernel.bats
endif
EXTRA_DIST += tests/bats/lint.bats tests/bats/kernel.bats tests/bats/helpers.bash tests/summary tests/fnlength
