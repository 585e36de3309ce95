# bin/oci-unpack/local.mk: build rules for oci-unpack and lib/oci (see Makefile.am).
noinst_LIBRARIES += lib/liboci.a
lib_liboci_a_SOURCES = \
	lib/oci/blob.cc lib/oci/blob.hh \
	lib/oci/estimate.cc lib/oci/estimate.hh \
	lib/oci/flatten.cc lib/oci/flatten.hh \
	lib/oci/image.cc lib/oci/image.hh \
	lib/oci/registry.cc lib/oci/registry.hh \
	lib/oci/source.cc lib/oci/source.hh \
	lib/oci/unpack.cc lib/oci/unpack.hh
lib_liboci_a_CPPFLAGS = $(AM_CPPFLAGS) $(ARCHIVE_CFLAGS) $(CURL_CFLAGS) $(JANSSON_CFLAGS) $(CRYPTO_CFLAGS)
OCI_LIBS = lib/liboci.a $(BENCHER_COMMON_LIBS) $(ARCHIVE_LIBS) $(CURL_LIBS) -lpthread

bin_PROGRAMS += oci-unpack
oci_unpack_SOURCES = bin/oci-unpack/main.cc
oci_unpack_CPPFLAGS = $(AM_CPPFLAGS)
oci_unpack_LDADD = $(OCI_LIBS)

TESTS += tests/bats/oci-unpack.bats
EXTRA_DIST += tests/bats/oci-unpack.bats tests/bats/images.bash bench/oci-unpack

EXTRA_PROGRAMS += tests/unit/oci_test
tests_unit_oci_test_SOURCES = tests/unit/oci/flatten_test.cc tests/unit/oci/image_test.cc tests/unit/oci/select_test.cc \
	tests/unit/oci/test_util.hh
tests_unit_oci_test_CPPFLAGS = $(AM_CPPFLAGS) $(GTEST_CFLAGS) $(ARCHIVE_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_oci_test_LDADD = $(OCI_LIBS) $(GTEST_LIBS)
TESTS += tests/unit/oci_test
dist_man_MANS += man/oci-unpack.1

EXTRA_PROGRAMS += tests/fuzz/oci_flatten tests/fuzz/oci_manifest
tests_fuzz_oci_flatten_SOURCES = tests/fuzz/oci_flatten.cc tests/fuzz/replay.cc
tests_fuzz_oci_flatten_CPPFLAGS = $(AM_CPPFLAGS) $(ARCHIVE_CFLAGS)
tests_fuzz_oci_flatten_LDADD = $(OCI_LIBS)
tests_fuzz_oci_manifest_SOURCES = tests/fuzz/oci_manifest.cc tests/fuzz/replay.cc
tests_fuzz_oci_manifest_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS)
tests_fuzz_oci_manifest_LDADD = $(OCI_LIBS)
FUZZ_TARGETS += tests/fuzz/oci_flatten tests/fuzz/oci_manifest
