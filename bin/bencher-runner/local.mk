# bin/bencher-runner/: the shell script that composes the toolchain. It is
# generated from bencher-runner.in so the installed copy knows where the guest
# kernel and bencher-init live; in the build tree it finds its siblings.
bin_SCRIPTS += bencher-runner
CLEANFILES += bencher-runner
EXTRA_DIST += bin/bencher-runner/bencher-runner.in

bencher-runner: $(srcdir)/bin/bencher-runner/bencher-runner.in Makefile
	$(AM_V_GEN)$(SED) -e 's|@PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g' \
		-e 's|@pkglibdir[@]|$(pkglibdir)|g' \
		-e 's|@pkglibexecdir[@]|$(pkglibexecdir)|g' \
		$(srcdir)/bin/bencher-runner/bencher-runner.in > $@.tmp && \
	chmod +x $@.tmp && mv $@.tmp $@
dist_man_MANS += man/bencher-runner.1

TESTS += tests/bats/bencher-runner.bats
EXTRA_DIST += tests/bats/bencher-runner.bats bench/runner
# The scenario suites run in tests/kvm.tap (a real VM each).
EXTRA_DIST += tests/bats/scenarios/scenario-helpers.bash tests/bats/scenarios/prepare \
	tests/bats/scenarios/basic.bats tests/bats/scenarios/config.bats \
	tests/bats/scenarios/resources.bats tests/bats/scenarios/limits.bats \
	tests/bats/scenarios/isolation.bats tests/bats/kvm-quarantine/busy-run.bats
