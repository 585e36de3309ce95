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
	lib/results/collector.cc lib/results/collector.hh
lib_libresults_a_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS) $(CRYPTO_CFLAGS)

bin_PROGRAMS += collect-results
collect_results_SOURCES = bin/collect-results/main.cc
collect_results_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS)
collect_results_LDADD = lib/libresults.a $(BENCHER_COMMON_LIBS)
dist_man_MANS += man/collect-results.1

TESTS += tests/bats/collect-results.bats
EXTRA_DIST += tests/bats/collect-results.bats tests/bats/collect-results-helpers.bash
