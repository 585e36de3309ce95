# bin/collect-results/local.mk: the results channel's host end (collect-results),
# its library lib/libresults.a (shared with bencher-init), their unit and bats
# tests, man page and fuzz targets.
noinst_LIBRARIES += lib/libresults.a
lib_libresults_a_SOURCES = \
	lib/results/codec.cc lib/results/codec.hh \
	lib/results/protocol.cc lib/results/protocol.hh \
	lib/results/serial.cc lib/results/serial.hh \
	lib/results/user.cc lib/results/user.hh \
	lib/results/runjson.cc lib/results/runjson.hh \
	lib/results/verdict.cc lib/results/verdict.hh \
	lib/results/report.cc lib/results/report.hh \
	lib/results/mirror.cc lib/results/mirror.hh \
	lib/results/channel.cc lib/results/channel.hh \
	lib/results/supervisor.cc lib/results/supervisor.hh \
	lib/results/cli.cc lib/results/cli.hh \
	lib/results/collector.cc lib/results/collector.hh
lib_libresults_a_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS) $(CRYPTO_CFLAGS)

bin_PROGRAMS += collect-results
collect_results_SOURCES = bin/collect-results/main.cc
collect_results_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS)
collect_results_LDADD = lib/libresults.a $(BENCHER_COMMON_LIBS)
dist_man_MANS += man/collect-results.1 man/bencher-exit.7

TESTS += tests/bats/collect-results.bats
EXTRA_DIST += tests/bats/collect-results.bats tests/bats/collect-results-helpers.bash \
	tests/bats/kvm/results.bats

EXTRA_PROGRAMS += tests/unit/results_test
tests_unit_results_test_SOURCES = \
	tests/unit/results/channel_test.cc \
	tests/unit/results/codec_test.cc \
	tests/unit/results/mirror_test.cc \
	tests/unit/results/protocol_test.cc \
	tests/unit/results/report_test.cc \
	tests/unit/results/runjson_test.cc \
	tests/unit/results/serial_test.cc \
	tests/unit/results/supervisor_test.cc \
	tests/unit/results/user_test.cc \
	tests/unit/results/verdict_test.cc
tests_unit_results_test_CPPFLAGS = $(AM_CPPFLAGS) $(GTEST_CFLAGS)
tests_unit_results_test_LDADD = lib/libresults.a $(BENCHER_COMMON_LIBS) $(GTEST_LIBS)
TESTS += tests/unit/results_test

# Fuzz targets over the host-side parsers of guest data (tests/fuzz/).
EXTRA_PROGRAMS += tests/fuzz/results_config tests/fuzz/results_serial tests/fuzz/results_files tests/fuzz/results_hmac \
	tests/fuzz/results_mirror
tests_fuzz_results_config_SOURCES = tests/fuzz/results_config.cc tests/fuzz/replay.cc
tests_fuzz_results_config_LDADD = lib/libresults.a $(BENCHER_COMMON_LIBS)
tests_fuzz_results_serial_SOURCES = tests/fuzz/results_serial.cc tests/fuzz/replay.cc
tests_fuzz_results_serial_LDADD = lib/libresults.a $(BENCHER_COMMON_LIBS)
tests_fuzz_results_files_SOURCES = tests/fuzz/results_files.cc tests/fuzz/replay.cc
tests_fuzz_results_files_LDADD = lib/libresults.a $(BENCHER_COMMON_LIBS)
tests_fuzz_results_hmac_SOURCES = tests/fuzz/results_hmac.cc tests/fuzz/replay.cc
tests_fuzz_results_hmac_LDADD = lib/libresults.a $(BENCHER_COMMON_LIBS)
tests_fuzz_results_mirror_SOURCES = tests/fuzz/results_mirror.cc tests/fuzz/replay.cc
tests_fuzz_results_mirror_LDADD = lib/libresults.a $(BENCHER_COMMON_LIBS)
FUZZ_TARGETS += tests/fuzz/results_config tests/fuzz/results_serial tests/fuzz/results_files tests/fuzz/results_hmac \
	tests/fuzz/results_mirror
