# bin/mkrootfs/local.mk: mkrootfs, its library lib/rootfs, tests, man page.
noinst_LIBRARIES += lib/librootfs.a
lib_librootfs_a_SOURCES = \
	lib/rootfs/build.cc lib/rootfs/build.hh \
	lib/rootfs/cli.cc lib/rootfs/cli.hh \
	lib/rootfs/dir_source.cc lib/rootfs/dir_source.hh \
	lib/rootfs/entry.hh \
	lib/rootfs/estimate.cc lib/rootfs/estimate.hh \
	lib/rootfs/ext4_writer.cc lib/rootfs/ext4_writer.hh \
	lib/rootfs/path.cc lib/rootfs/path.hh \
	lib/rootfs/tar_source.cc lib/rootfs/tar_source.hh
lib_librootfs_a_CPPFLAGS = $(AM_CPPFLAGS) $(EXT2FS_CFLAGS) $(ARCHIVE_CFLAGS) $(JANSSON_CFLAGS)
ROOTFS_LIBS = lib/librootfs.a $(BENCHER_COMMON_LIBS) $(EXT2FS_LIBS) $(ARCHIVE_LIBS)

bin_PROGRAMS += mkrootfs
mkrootfs_SOURCES = bin/mkrootfs/main.cc
mkrootfs_LDADD = $(ROOTFS_LIBS)

EXTRA_PROGRAMS += tests/unit/rootfs_test
tests_unit_rootfs_test_SOURCES = \
	tests/unit/rootfs/estimate_test.cc \
	tests/unit/rootfs/path_test.cc \
	tests/unit/rootfs/writer_test.cc
tests_unit_rootfs_test_CPPFLAGS = $(AM_CPPFLAGS) $(GTEST_CFLAGS) $(EXT2FS_CFLAGS) $(ARCHIVE_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_rootfs_test_LDADD = $(ROOTFS_LIBS) $(GTEST_LIBS)
TESTS += tests/unit/rootfs_test

TESTS += tests/bats/mkrootfs.bats
EXTRA_DIST += tests/bats/mkrootfs.bats tests/bats/mkrootfs-helpers.bash bench/mkrootfs
dist_man_MANS += man/mkrootfs.1

EXTRA_PROGRAMS += tests/fuzz/rootfs_tar
tests_fuzz_rootfs_tar_SOURCES = tests/fuzz/rootfs_tar.cc tests/fuzz/replay.cc
tests_fuzz_rootfs_tar_CPPFLAGS = $(AM_CPPFLAGS) $(EXT2FS_CFLAGS) $(ARCHIVE_CFLAGS)
tests_fuzz_rootfs_tar_LDADD = $(ROOTFS_LIBS)
FUZZ_TARGETS += tests/fuzz/rootfs_tar
