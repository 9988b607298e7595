# Builds the kernel side: vmlinux.h from the running kernel's BTF, then every
# bpf/**/*.bpf.c into dist/bpf/ (same relative path). Header changes rebuild
# dependants (clang -MMD). Called by `npm run build`.
CLANG ?= clang
BPFTOOL ?= bpftool
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
OUT := dist/bpf
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
VMLINUX_H := $(OUT)/include/vmlinux.h

SOURCES := $(shell find bpf -name '*.bpf.c')
# Builds of one source with another define: capture with the bpf_rdonly_cast
# kfunc (6.2+), loaded first, the plain build being the fallback; and the
# legacy builds (-DWAGGLE_LEGACY: bounded loops instead of bpf_loop, no
# callbacks, static subprograms; see bpf/include/waggle/legacy.h) that user
# space loads where the kernel (5.10–5.16) refuses the plain build.
LEGACY := capture/socket_capture security/security profiling/profiler
VARIANTS := capture/socket_capture_kfunc $(LEGACY:%=%_legacy)
OBJECTS := $(patsubst bpf/%.bpf.c,$(OUT)/%.bpf.o,$(SOURCES)) $(VARIANTS:%=$(OUT)/%.bpf.o)
# Every object is also compiled for the other architecture (not loaded here):
# C that only builds for one architecture (register names, arch-only types)
# fails the build instead of failing on a user's machine.
OTHER_ARCH := $(if $(filter arm64,$(ARCH)),x86,arm64)
OUT_OTHER := dist/bpf-$(OTHER_ARCH)
OBJECTS_OTHER := $(patsubst bpf/%.bpf.c,$(OUT_OTHER)/%.bpf.o,$(SOURCES)) $(VARIANTS:%=$(OUT_OTHER)/%.bpf.o)

CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror -Wno-unused-function \
	-I$(OUT)/include -Ibpf/include -MMD -MP

.PHONY: bpf clean-bpf
bpf: $(OBJECTS) $(OBJECTS_OTHER)

$(VMLINUX_H):
	@mkdir -p $(dir $@)
	@test -r $(VMLINUX_BTF) || { echo "waggle: $(VMLINUX_BTF) is missing: this kernel has no BTF (CONFIG_DEBUG_INFO_BTF), which CO-RE needs" >&2; exit 1; }
	$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp && mv $@.tmp $@

$(OUT)/%.bpf.o: bpf/%.bpf.c $(VMLINUX_H)
	@mkdir -p $(dir $@)
	$(CLANG) $(CFLAGS) -c $< -o $@

$(OUT)/capture/socket_capture_kfunc.bpf.o: bpf/capture/socket_capture.bpf.c $(VMLINUX_H)
	@mkdir -p $(dir $@)
	$(CLANG) $(CFLAGS) -DWAGGLE_CAPTURE_KFUNC -c $< -o $@

$(OUT_OTHER)/capture/socket_capture_kfunc.bpf.o: bpf/capture/socket_capture.bpf.c $(VMLINUX_H)
	@mkdir -p $(dir $@)
	$(CLANG) $(subst -D__TARGET_ARCH_$(ARCH),-D__TARGET_ARCH_$(OTHER_ARCH) -DWAGGLE_FOREIGN_VMLINUX,$(CFLAGS)) -DWAGGLE_CAPTURE_KFUNC -c $< -o $@

$(OUT)/%_legacy.bpf.o: bpf/%.bpf.c $(VMLINUX_H)
	@mkdir -p $(dir $@)
	$(CLANG) $(CFLAGS) -DWAGGLE_LEGACY -c $< -o $@

$(OUT_OTHER)/%_legacy.bpf.o: bpf/%.bpf.c $(VMLINUX_H)
	@mkdir -p $(dir $@)
	$(CLANG) $(subst -D__TARGET_ARCH_$(ARCH),-D__TARGET_ARCH_$(OTHER_ARCH) -DWAGGLE_FOREIGN_VMLINUX,$(CFLAGS)) -DWAGGLE_LEGACY -c $< -o $@

$(OUT_OTHER)/%.bpf.o: bpf/%.bpf.c $(VMLINUX_H)
	@mkdir -p $(dir $@)
	$(CLANG) $(subst -D__TARGET_ARCH_$(ARCH),-D__TARGET_ARCH_$(OTHER_ARCH) -DWAGGLE_FOREIGN_VMLINUX,$(CFLAGS)) -c $< -o $@

clean-bpf:
	rm -rf $(OUT) $(OUT_OTHER)

-include $(OBJECTS:.o=.d) $(OBJECTS_OTHER:.o=.d)
