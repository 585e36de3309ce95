# bin/oci-unpack/local.mk: build rules for bin/oci-unpack (see Makefile.am).
