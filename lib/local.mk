# lib/: the code every program shares, as one static convenience library.
noinst_LIBRARIES += lib/libbencher.a
lib_libbencher_a_SOURCES = \
	lib/common/cli.cc lib/common/cli.hh \
	lib/common/digest.cc lib/common/digest.hh \
	lib/common/error.cc lib/common/error.hh lib/common/exit_codes.hh \
	lib/common/fd.cc lib/common/fd.hh \
	lib/common/json.cc lib/common/json.hh \
	lib/common/log.cc lib/common/log.hh \
	lib/common/path.hh \
	lib/common/size.cc lib/common/size.hh \
	lib/vsock/control.cc lib/vsock/control.hh
lib_libbencher_a_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS) $(CRYPTO_CFLAGS)

# What a program links when it uses lib/common.
BENCHER_COMMON_LIBS = lib/libbencher.a $(JANSSON_LIBS) $(CRYPTO_LIBS)
