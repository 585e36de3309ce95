# tests/vmhost/local.mk: the KVM test host (tests/vmhost/run), the KVM probe
# (tests/kvm-probe) and its static init, and tests/kvm.tap, the one TESTS
# entry that runs every tests/bats/kvm/*.bats where a working /dev/kvm is
# (listed first in Makefile.am).

# The probe's PID 1: static, since its initramfs holds nothing else.
noinst_PROGRAMS += tests/vmhost/probe-init
tests_vmhost_probe_init_SOURCES = tests/vmhost/probe-init.c
tests_vmhost_probe_init_LDFLAGS = -static

# Host side: each case boots a TCG test host (about 10 s each).
TESTS += tests/bats/vmhost.bats

EXTRA_DIST += tests/vmhost/run tests/vmhost/init tests/vmhost/mkinitramfs \
	tests/vmhost/fetch-kernel tests/kvm-probe tests/kvm.tap \
	tests/bats/kvm/smoke.bats tests/bats/vmhost.bats man/bencher-vmhost.1
