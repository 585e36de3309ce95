# bin/mkrootfs/local.mk: build rules for bin/mkrootfs (see Makefile.am).
