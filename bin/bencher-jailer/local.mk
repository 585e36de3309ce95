# bin/bencher-jailer/local.mk: build rules for bin/bencher-jailer (see Makefile.am).
# The logic is lib/libjail.a; tests/jail/prober is the static program the Bats
# suite runs inside jails to look at them from within.
noinst_LIBRARIES += lib/libjail.a
lib_libjail_a_SOURCES = \
	lib/jail/args.cc lib/jail/args.hh \
	lib/jail/cgroup.cc lib/jail/cgroup.hh \
	lib/jail/cgroup_fs.cc lib/jail/cgroup_fs.hh \
	lib/jail/cgroup_v1.cc lib/jail/cgroup_v2.cc \
	lib/jail/child.cc lib/jail/child.hh \
	lib/jail/elf.cc lib/jail/elf.hh \
	lib/jail/explain.cc lib/jail/explain.hh \
	lib/jail/jail.cc lib/jail/jail.hh \
	lib/jail/plan.cc lib/jail/plan.hh \
	lib/jail/root.cc lib/jail/root.hh \
	lib/jail/setup.cc lib/jail/setup.hh
lib_libjail_a_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS) $(CAP_CFLAGS)

bin_PROGRAMS += bencher-jailer
bencher_jailer_SOURCES = bin/bencher-jailer/main.cc
bencher_jailer_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS)
bencher_jailer_LDADD = lib/libjail.a $(BENCHER_COMMON_LIBS) $(CAP_LIBS)
# Static, as bencher-plan is: the runner starts it once a run, and in the TCG
# test host loading libstdc++, jansson and libcap costs more than the jail's
# set-up (bench/runner).
bencher_jailer_LDFLAGS = -static -pthread
dist_man_MANS += man/bencher-jailer.1 man/bencher-jailer.json.5

EXTRA_PROGRAMS += tests/unit/jail_test
check_PROGRAMS += tests/jail/prober tests/jail/prober-dyn
tests_unit_jail_test_SOURCES = \
	tests/unit/jail/args_test.cc \
	tests/unit/jail/cgroup_test.cc \
	tests/unit/jail/elf_test.cc \
	tests/unit/jail/plan_test.cc \
	tests/unit/jail/setup_test.cc
tests_unit_jail_test_CPPFLAGS = $(AM_CPPFLAGS) $(GTEST_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_jail_test_LDADD = lib/libjail.a $(BENCHER_COMMON_LIBS) $(CAP_LIBS) $(GTEST_LIBS)
tests_jail_prober_SOURCES = tests/jail/prober.c
tests_jail_prober_LDFLAGS = -static
tests_jail_prober_dyn_SOURCES = tests/jail/prober.c
TESTS += tests/unit/jail_test tests/bats/jailer.bats
EXTRA_DIST += tests/bats/jailer.bats tests/bats/jailer-helpers.bash tests/bats/kvm/jailer-cgroup2.bats

# Fuzz targets over the jailer's parsers of outside data (tests/fuzz/).
EXTRA_PROGRAMS += tests/fuzz/jail_elf tests/fuzz/jail_config
tests_fuzz_jail_elf_SOURCES = tests/fuzz/jail_elf.cc tests/fuzz/replay.cc
tests_fuzz_jail_elf_LDADD = lib/libjail.a $(BENCHER_COMMON_LIBS)
tests_fuzz_jail_config_SOURCES = tests/fuzz/jail_config.cc tests/fuzz/replay.cc
tests_fuzz_jail_config_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS)
tests_fuzz_jail_config_LDADD = lib/libjail.a $(BENCHER_COMMON_LIBS)
FUZZ_TARGETS += tests/fuzz/jail_elf tests/fuzz/jail_config
