# vmctl - GPU-accelerated QEMU/KVM virtual machines from a YAML/JSON spec.
# SPDX-License-Identifier: GPL-2.0-or-later

VERSION    := 0.1.0
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
DATADIR    ?= $(PREFIX)/share
MANDIR     ?= $(DATADIR)/man
DESTDIR    ?=

CC         ?= cc
PKG_CONFIG ?= pkg-config
# Linked: what every command may use.  Opened with dlopen() when first
# needed (src/lazylib.c): libvirt, libxml2 and libcurl, whose load time
# (some sixty shared objects) every command would pay otherwise, and
# libcrypto and libisofs (some 2 ms a process); only their headers are
# used at build time.
PKGS_LINKED := yaml-0.1 libcjson libpci
PKGS_LAZY   := libcurl libvirt libvirt-qemu libxml-2.0 libcrypto libisofs-1
PKGS        := $(PKGS_LINKED) $(PKGS_LAZY)

# Warnings are errors by default (CI builds with this); WERROR=0 to relax.
WERROR     ?= 1
CFLAGS     ?= -O2 -g
WARN       := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
              -Wformat=2 -Wvla
ifeq ($(WERROR),1)
WARN       += -Werror
endif
CPPFLAGS   += -Iinclude -D_GNU_SOURCE -DVMCTL_VERSION='"$(VERSION)"'
ALL_CFLAGS := -std=c11 $(WARN) $(CFLAGS) $(shell $(PKG_CONFIG) --cflags $(PKGS))
LDLIBS     += $(shell $(PKG_CONFIG) --libs $(PKGS_LINKED)) -ldl -lpthread

# make SANITIZE=1 ...: everything built with ASan + UBSan, in its own tree.
ifeq ($(SANITIZE),1)
BUILD      := build/asan
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=all
LDFLAGS    += -fsanitize=address,undefined
else
BUILD      := build/default
endif

# Engine modules: everything but main and the command front ends, so unit
# tests and the fuzzer link the same code vmctl runs.
LIB_SRCS   := $(filter-out src/main.c src/cmd-%.c,$(wildcard src/*.c))
CMD_SRCS   := src/main.c $(wildcard src/cmd-*.c)
LIB_OBJS   := $(LIB_SRCS:src/%.c=$(BUILD)/%.o) $(BUILD)/default-spec.o \
              $(BUILD)/utf8-ctype.o
CMD_OBJS   := $(CMD_SRCS:src/%.c=$(BUILD)/%.o)
UNIT_SRCS  := $(wildcard tests/unit/test-*.c)
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

ifeq ($(SANITIZE),1)
VMCTL_BIN  := $(BUILD)/vmctl
else
VMCTL_BIN  := vmctl
endif

.PHONY: all man test check unit asan soak fuzz fuzz-run bench install \
	install-unit uninstall clean

all: $(VMCTL_BIN) man

# Man pages, written by vmctl itself from its command table and spec schema
# (the spec keys' prose from docs/spec.md); dated by the last commit.
MAN_DATE   := $(shell git log -1 --format=%cs 2>/dev/null || date -u +%Y-%m-%d)
MAN_PAGES  := build/man/vmctl.1 build/man/vmctl-spec.5
man: $(MAN_PAGES)

build/man/vmctl.1: $(VMCTL_BIN)
	@mkdir -p $(dir $@)
	./$(VMCTL_BIN) __man 1 $(MAN_DATE) > $@.tmp && mv $@.tmp $@

build/man/vmctl-spec.5: $(VMCTL_BIN) docs/spec.md
	@mkdir -p $(dir $@)
	./$(VMCTL_BIN) __man 5 docs/spec.md $(MAN_DATE) > $@.tmp && mv $@.tmp $@

$(VMCTL_BIN): $(CMD_OBJS) $(LIB_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: src/%.c $(wildcard include/vmctl/*.h) | $(BUILD)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/default-spec.c: configs/default.yaml scripts/embed.sh | $(BUILD)
	sh scripts/embed.sh $< spec_default_yaml > $@

$(BUILD)/default-spec.o: $(BUILD)/default-spec.c
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# The build host's C.UTF-8 LC_CTYPE, for tmux on hosts without any UTF-8
# locale (src/utf8locale.c); empty where the build host has none.
UTF8_CTYPE ?= /usr/lib/locale/C.utf8/LC_CTYPE
$(BUILD)/utf8-ctype.c: scripts/embed.sh | $(BUILD)
	if [ -r $(UTF8_CTYPE) ]; then f=$(UTF8_CTYPE); else f=/dev/null; fi; \
		sh scripts/embed.sh $$f utf8locale_ctype > $@

$(BUILD)/utf8-ctype.o: $(BUILD)/utf8-ctype.c
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# The unit tests may call libcrypto themselves (test-sshkey decodes
# OpenSSH's base64); vmctl opens it lazily.
TEST_LDLIBS := $(shell $(PKG_CONFIG) --libs libcrypto)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/tap.h $(LIB_OBJS) | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< \
		$(LIB_OBJS) $(LDLIBS) $(TEST_LDLIBS)

$(BUILD):
	mkdir -p $@

unit: $(UNIT_BINS)

# One runner for unit, golden and integration tests; it ends with
# "N passed, N failed" and fails if any test did.
test check: $(VMCTL_BIN) $(UNIT_BINS)
	VMCTL=$(CURDIR)/$(VMCTL_BIN) UNIT_DIR=$(CURDIR)/$(BUILD)/tests \
		tests/run.sh $(TESTS)

asan:
	$(MAKE) SANITIZE=1 test

# The soak test at full length (make test runs it for 2 cycles).
SOAK_CYCLES ?= 20
soak: $(VMCTL_BIN)
	SOAK_CYCLES=$(SOAK_CYCLES) VMCTL=$(CURDIR)/$(VMCTL_BIN) \
		bash tests/integration/soak.sh

# libFuzzer target for the spec loader (clang).
FUZZ_CFLAGS := -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined \
               -fno-sanitize-recover=all \
               $(CPPFLAGS) $(shell $(PKG_CONFIG) --cflags $(PKGS))
fuzz: build/fuzz/fuzz-spec

build/fuzz/fuzz-spec: tests/fuzz/fuzz-spec.c $(LIB_SRCS) $(BUILD)/default-spec.c \
		$(BUILD)/utf8-ctype.c \
		$(wildcard include/vmctl/*.h)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^) $(LDLIBS)

FUZZ_SECONDS ?= 60
fuzz-run: fuzz
	@mkdir -p build/fuzz/corpus
	build/fuzz/fuzz-spec -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
		-timeout=10 -rss_limit_mb=2048 -dict=tests/fuzz/spec.dict \
		-artifact_prefix=build/fuzz/ -print_final_stats=1 \
		build/fuzz/corpus tests/fuzz/corpus tests/fuzz/crashes

bench: $(VMCTL_BIN)
	VMCTL=$(CURDIR)/$(VMCTL_BIN) tests/bench/run.sh
	VMCTL=$(CURDIR)/$(VMCTL_BIN) tests/bench/discovery.sh
	VMCTL=$(CURDIR)/$(VMCTL_BIN) tests/bench/lifecycle.sh
	VMCTL=$(CURDIR)/$(VMCTL_BIN) tests/bench/cloud.sh
	VMCTL=$(CURDIR)/$(VMCTL_BIN) tests/bench/create.sh
	VMCTL=$(CURDIR)/$(VMCTL_BIN) tests/bench/list.sh

BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
ZSHCOMPDIR  ?= $(DATADIR)/zsh/vendor-completions
FISHCOMPDIR ?= $(DATADIR)/fish/vendor_completions.d
# vmctl@.service (vmctl enable NAME), its ExecStart naming $(BINDIR)/vmctl.
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system

install-unit: systemd/vmctl@.service.in
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	sed 's|@BINDIR@|$(BINDIR)|g' $< > $(DESTDIR)$(SYSTEMDUNITDIR)/vmctl@.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/vmctl@.service

install: $(VMCTL_BIN) $(MAN_PAGES) install-unit
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/vmctl/configs \
		$(DESTDIR)$(DATADIR)/doc/vmctl $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 0755 $(VMCTL_BIN) $(DESTDIR)$(BINDIR)/vmctl
	install -m 0644 configs/*.yaml $(DESTDIR)$(DATADIR)/vmctl/configs/
	install -m 0644 README.md LICENSE docs/*.md $(DESTDIR)$(DATADIR)/doc/vmctl/
	install -m 0644 build/man/vmctl.1 $(DESTDIR)$(MANDIR)/man1/vmctl.1
	install -m 0644 build/man/vmctl-spec.5 $(DESTDIR)$(MANDIR)/man5/vmctl-spec.5
	./$(VMCTL_BIN) completion bash > $(DESTDIR)$(BASHCOMPDIR)/vmctl
	./$(VMCTL_BIN) completion zsh > $(DESTDIR)$(ZSHCOMPDIR)/_vmctl
	./$(VMCTL_BIN) completion fish > $(DESTDIR)$(FISHCOMPDIR)/vmctl.fish

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/vmctl $(DESTDIR)$(MANDIR)/man1/vmctl.1 \
		$(DESTDIR)$(MANDIR)/man5/vmctl-spec.5 \
		$(DESTDIR)$(BASHCOMPDIR)/vmctl $(DESTDIR)$(ZSHCOMPDIR)/_vmctl \
		$(DESTDIR)$(FISHCOMPDIR)/vmctl.fish \
		$(DESTDIR)$(SYSTEMDUNITDIR)/vmctl@.service
	rm -rf $(DESTDIR)$(DATADIR)/vmctl $(DESTDIR)$(DATADIR)/doc/vmctl

clean:
	rm -rf build vmctl
