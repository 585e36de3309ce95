# kernel/: the guest kernel, built by kernel/build-kernel from Debian's
# linux-source-6.1 into a cache outside the tree, then copied here.
EXTRA_DIST += kernel/guest.config kernel/build-kernel
if BUILD_KERNEL
kerneldir = $(pkglibdir)
kernel_DATA = kernel/vmlinux kernel/bzImage kernel/config
CLEANFILES += $(kernel_DATA)

kernel/vmlinux: $(srcdir)/kernel/guest.config $(srcdir)/kernel/build-kernel
	@$(MKDIR_P) kernel
	$(AM_V_GEN)$(srcdir)/kernel/build-kernel --fragment $(srcdir)/kernel/guest.config --out kernel >/dev/null
kernel/bzImage kernel/config: kernel/vmlinux
	@test -f $@ || { rm -f kernel/vmlinux; $(MAKE) $(AM_MAKEFLAGS) kernel/vmlinux; }
endif
