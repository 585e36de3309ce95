# bin/bencher-jailer/local.mk: build rules for bin/bencher-jailer (see Makefile.am).
