# init/local.mk: bencher-init, the guest's PID 1. A static binary (the image
# may have no libc, or another one), installed as a guest binary under
# $(pkglibexecdir); mkrootfs --init copies it to /bencher/init.
pkglibexec_PROGRAMS += bencher-init
bencher_init_SOURCES = init/main.cc
bencher_init_CPPFLAGS = $(AM_CPPFLAGS) $(CRYPTO_CFLAGS)
bencher_init_LDFLAGS = -static -pthread
bencher_init_LDADD = lib/libresults.a lib/libbencher.a $(CRYPTO_LIBS) -ldl
dist_man_MANS += man/bencher-init.8
