# bin/collect-results/local.mk: build rules for bin/collect-results (see Makefile.am).
