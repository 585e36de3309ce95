# bin/bencher-vmm/local.mk: build rules for bin/bencher-vmm (see Makefile.am).
