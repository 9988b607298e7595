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
OBJECTS := $(patsubst bpf/%.bpf.c,$(OUT)/%.bpf.o,$(SOURCES))

CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror -Wno-unused-function \
	-I$(OUT)/include -Ibpf/include -MMD -MP

.PHONY: bpf clean-bpf
bpf: $(OBJECTS)

$(VMLINUX_H):
	@mkdir -p $(dir $@)
	@test -r $(VMLINUX_BTF) || { echo "waggle: $(VMLINUX_BTF) is missing: this kernel has no BTF (CONFIG_DEBUG_INFO_BTF), which CO-RE needs" >&2; exit 1; }
	$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp && mv $@.tmp $@

$(OUT)/%.bpf.o: bpf/%.bpf.c $(VMLINUX_H)
	@mkdir -p $(dir $@)
	$(CLANG) $(CFLAGS) -c $< -o $@

clean-bpf:
	rm -rf $(OUT)

-include $(OBJECTS:.o=.d)
