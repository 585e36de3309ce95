# init/local.mk: build rules for init (see Makefile.am).
