# tests/vmhost/local.mk: build rules for tests/vmhost (see Makefile.am).
