# bin/bencher-plan/local.mk: bencher-runner's planner (bencher-plan), its
# library lib/librunner.a (options, Docker's run rules, the cache key), unit
# tests, man page and fuzz target.
noinst_LIBRARIES += lib/librunner.a
lib_librunner_a_SOURCES = \
	lib/runner/cache.cc lib/runner/cache.hh \
	lib/runner/cli.cc lib/runner/cli.hh \
	lib/runner/options.cc lib/runner/options.hh \
	lib/runner/plan.cc lib/runner/plan.hh
lib_librunner_a_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS) $(CRYPTO_CFLAGS)

bin_PROGRAMS += bencher-plan
bencher_plan_SOURCES = bin/bencher-plan/main.cc
bencher_plan_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS)
bencher_plan_LDADD = lib/librunner.a $(BENCHER_COMMON_LIBS)
# Static: the runner starts it twice a run, and in the TCG test host, where
# every instruction is emulated, loading libcrypto and libstdc++ costs more
# than the planning (bench/runner).
bencher_plan_LDFLAGS = -static -pthread
dist_man_MANS += man/bencher-plan.1

EXTRA_PROGRAMS += tests/unit/runner_test
tests_unit_runner_test_SOURCES = \
	tests/unit/runner/cache_test.cc \
	tests/unit/runner/options_test.cc \
	tests/unit/runner/plan_test.cc
tests_unit_runner_test_CPPFLAGS = $(AM_CPPFLAGS) $(GTEST_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_runner_test_LDADD = lib/librunner.a $(BENCHER_COMMON_LIBS) $(GTEST_LIBS)
TESTS += tests/unit/runner_test

# The part that reads oci-unpack's output: image JSON, so hostile in the end.
EXTRA_PROGRAMS += tests/fuzz/runner_plan
tests_fuzz_runner_plan_SOURCES = tests/fuzz/runner_plan.cc tests/fuzz/replay.cc
tests_fuzz_runner_plan_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS)
tests_fuzz_runner_plan_LDADD = lib/librunner.a $(BENCHER_COMMON_LIBS)
FUZZ_TARGETS += tests/fuzz/runner_plan
