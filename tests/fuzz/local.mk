# tests/fuzz/: libFuzzer targets. In `make check` each is built with g++ and
# replay.cc and run over its seed corpus, and (libfuzzer.tap) built with clang,
# libFuzzer, ASan and UBSan and fuzzed for FUZZ_CHECK_SECONDS; `make fuzz`
# fuzzes each for FUZZ_SECONDS.
#
# An area adds a target in its own local.mk:
#   EXTRA_PROGRAMS += tests/fuzz/NAME
#   tests_fuzz_NAME_SOURCES = tests/fuzz/NAME.cc tests/fuzz/replay.cc
#   tests_fuzz_NAME_LDADD = ...
#   FUZZ_TARGETS += tests/fuzz/NAME
FUZZ_TARGETS =
FUZZ_SECONDS = 60
TESTS += tests/fuzz/replay.tap tests/fuzz/libfuzzer.tap
# The targets are EXTRA_PROGRAMS (Makefile.am): replay.tap builds on them.
tests/fuzz/replay.log: $(FUZZ_TARGETS)
AM_TESTS_ENVIRONMENT += FUZZ_TARGETS='$(FUZZ_TARGETS)'; export FUZZ_TARGETS;
EXTRA_DIST += tests/fuzz/replay.tap tests/fuzz/libfuzzer.tap tests/fuzz/build-fuzzers tests/fuzz/corpus

fuzz:
	$(top_srcdir)/tests/fuzz/build-fuzzers --out $(abs_top_builddir)/fuzz --run $(FUZZ_SECONDS)
.PHONY: fuzz
