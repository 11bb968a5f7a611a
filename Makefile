# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# reqacct build. `make` builds .output/reqacct; `make test` runs the unit tests
# (no root); `make check` runs every test (root, BPF); `make check-kernel`
# loads the BPF object on Debian 12's Linux 6.1 under qemu (part of `make
# check`); `make deps` installs what building and testing need (Debian, apt-get).

OUTPUT ?= .output
override OUTPUT := $(abspath $(OUTPUT))
ARCH ?= $(shell uname -m | sed 's/x86_64/x86/; s/aarch64/arm64/')
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

CLANG ?= clang
BPFTOOL ?= $(firstword $(wildcard /usr/sbin/bpftool /usr/bin/bpftool) bpftool)
CC ?= gcc
VMLINUX := bpf/vmlinux/$(ARCH)/vmlinux.h
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux

# bpftool's EXTRA_WARNINGS (tools/bpf/bpftool/Makefile.include) plus -Werror.
WARNINGS := -Wall -Wextra -Werror -Wbad-function-cast -Wdeclaration-after-statement \
	-Wformat-security -Wformat-y2k -Winit-self -Wmissing-declarations \
	-Wmissing-prototypes -Wnested-externs -Wno-system-headers \
	-Wold-style-definition -Wpacked -Wredundant-decls -Wstrict-prototypes \
	-Wswitch-default -Wundef -Wwrite-strings -Wshadow -Wno-unused-parameter
CFLAGS ?= -g -O2
override CFLAGS += $(WARNINGS) -std=gnu11 -D_GNU_SOURCE -Iinclude -Iuser -I$(OUTPUT) \
	-DREQACCT_VERSION='"$(VERSION)"' -MMD -MP $(EXTRA_CFLAGS)
LDLIBS := -lbpf -lelf -lz -lmicrohttpd -lgnutls -lcapstone -lncursesw -lm $(EXTRA_LDLIBS)
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Iinclude -Ibpf/vmlinux/$(ARCH) \
	-Wall -Werror -MMD -MP

BPF_SRCS := bpf/reqacct.bpf.c
USER_SRCS := $(wildcard user/*.c)
LIB_SRCS := $(filter-out user/main.c,$(USER_SRCS))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(wildcard tests/unit/test_*.c))

BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))
LIB_OBJS := $(patsubst user/%.c,$(OUTPUT)/user/%.o,$(LIB_SRCS))
DEPS := $(BPF_OBJS:.o=.d) $(patsubst user/%.c,$(OUTPUT)/user/%.d,$(USER_SRCS)) \
	$(UNIT_TESTS:=.d)

ifeq ($(V),1)
	Q =
	msg =
else
	Q = @
	msg = @printf '  %-8s %s\n' "$(1)" "$(patsubst $(CURDIR)/%,%,$(2))";
endif

# libFuzzer targets (tests/fuzz/fuzz_*.c) over the user-space parsers.
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SRCS := user/config.c user/prom.c user/cgroup_names.c user/resolv.c user/elfbin.c \
	user/kreq.c user/hpack.c user/h2.c user/promparse.c user/netns.c user/podmeta.c
# fuzz_scrape drives the real scrape endpoint (libmicrohttpd) over a socketpair.
FUZZ_SRCS_scrape := user/http.c user/websec.c user/log.c
FUZZ_LIBS_scrape := -lmicrohttpd -lgnutls -lbpf
# fuzz_cli parses the agent's command line: agent.c and all it links (the
# compiler takes the version define from this list too: one command line).
FUZZ_SRCS_cli := $(filter-out $(FUZZ_SRCS) user/agent.c,$(LIB_SRCS)) user/agent.c
FUZZ_LIBS_cli := $(LDLIBS) -DREQACCT_VERSION='"fuzz"'
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-std=gnu11 -D_GNU_SOURCE -Iinclude -Iuser -Ibpf -I$(OUTPUT)
FUZZ_SECONDS ?= 60

.PHONY: all clean test check check-root check-root-asan check-root-valgrind check-scale check-kernel check-deploy check-asan check-valgrind deps vmlinux run bench fmt fuzz fuzz-smoke
all: $(OUTPUT)/reqacct

$(OUTPUT) $(OUTPUT)/user $(OUTPUT)/tests:
	$(Q)mkdir -p $@

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) include/reqacct_abi.h $(VMLINUX) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name reqacct_bpf > $@

$(OUTPUT)/user/%.o: user/%.c $(SKELS) | $(OUTPUT)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OUTPUT)/reqacct: $(OUTPUT)/user/main.o $(LIB_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)
	$(Q)[ "$(OUTPUT)" != "$(CURDIR)/.output" ] || ln -sf .output/reqacct reqacct

$(OUTPUT)/tests/%: tests/unit/%.c $(LIB_OBJS) | $(OUTPUT)/tests
	$(call msg,TEST-CC,$@)
	$(Q)$(CC) $(CFLAGS) -Ibpf $< $(LIB_OBJS) -o $@ $(LDLIBS) -lcmocka

# Unit tests: no root needed.
test: $(UNIT_TESTS)
	$(Q)tests/run-unit.sh $(UNIT_TESTS)

# Root tests: BPF load/attach and integration against real servers.
check-root: all
	$(Q)tests/run-integration.sh

# The memory test (100k clients, 10k cgroups) with the plain build, whose
# memory is the product's; `make check` runs the others under ASan.
check-scale: all
	$(Q)tests/run-integration.sh test_scale.py

# Each fuzz target for FUZZ_SECONDS, from the checked-in seeds (not modified).
$(OUTPUT)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_SRCS) $(wildcard bpf/*.h user/*.h include/*.h)
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $< $(FUZZ_SRCS) $(FUZZ_SRCS_$*) -o $@ -lz -lelf -lcapstone \
		$(FUZZ_LIBS_$*)

$(OUTPUT)/fuzz/fuzz_scrape: $(FUZZ_SRCS_scrape)
$(OUTPUT)/fuzz/fuzz_cli: $(FUZZ_SRCS_cli) $(SKELS)

fuzz: $(addprefix $(OUTPUT)/fuzz/fuzz_,$(FUZZ_TARGETS))
	$(Q)tests/run-fuzz.sh $(OUTPUT) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# A short run of every fuzz target, part of `make check`.
fuzz-smoke:
	$(Q)$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=10

# The unit tests under AddressSanitizer and UndefinedBehaviorSanitizer (a
# build of their own in $(OUTPUT)/asan), and under valgrind's memcheck.
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
check-asan:
	$(Q)$(MAKE) --no-print-directory OUTPUT=$(OUTPUT)/asan EXTRA_CFLAGS="$(SANITIZE)" \
		EXTRA_LDLIBS="$(SANITIZE)" test

# The integration tests against the agent built with ASan and UBSan: any
# sanitizer report (a leak at exit included) fails the run. The reports are
# files in $(OUTPUT)/asan/reports (the tests keep the agent's own output).
ASAN_REPORTS = $(OUTPUT)/asan/reports
ASAN_TESTS ?= $(filter-out test_scale.py,$(notdir $(wildcard tests/integration/test_*.py)))
check-root-asan:
	$(Q)$(MAKE) --no-print-directory OUTPUT=$(OUTPUT)/asan EXTRA_CFLAGS="$(SANITIZE)" \
		EXTRA_LDLIBS="$(SANITIZE)" all
	$(Q)rm -rf $(ASAN_REPORTS) && mkdir -p $(ASAN_REPORTS)
	$(Q)REQACCT_BIN=$(OUTPUT)/asan/reqacct ASAN_OPTIONS=log_path=$(ASAN_REPORTS)/asan \
		UBSAN_OPTIONS=log_path=$(ASAN_REPORTS)/ubsan:print_stacktrace=1 \
		tests/run-integration.sh $(ASAN_TESTS); rc=$$?; \
	if [ -n "$$(ls $(ASAN_REPORTS))" ]; then \
		echo "sanitizer reports ($(ASAN_REPORTS)):"; head -n 60 $(ASAN_REPORTS)/*; exit 1; \
	fi; exit $$rc

# Integration tests with the agent under valgrind's memcheck
# (tests/valgrind-agent.sh, tests/valgrind.supp): a subset that covers the
# collection paths (TCP with overflow, DNS with names and timeouts, pod
# metadata) and the scrape endpoint under abuse. Tests that start Go
# programs after the agent are left out: under valgrind the agent probes a
# new program too late for their first requests.
VALGRIND_TESTS ?= test_overflow.py test_dns_unbound.py test_pods.py test_scrape_abuse.py
VG_REPORTS = $(OUTPUT)/valgrind
check-root-valgrind: all
	$(Q)rm -rf $(VG_REPORTS) && mkdir -p $(VG_REPORTS)
	$(Q)REQACCT_BIN=$(CURDIR)/tests/valgrind-agent.sh VG_REPORTS=$(VG_REPORTS) REQACCT_START_S=120 \
		tests/run-integration.sh $(VALGRIND_TESTS); rc=$$?; \
	if grep -l '^==[0-9]*== ' $(VG_REPORTS)/* >/dev/null 2>&1; then \
		echo "memcheck reports ($(VG_REPORTS)):"; grep -h '^==[0-9]*== ' $(VG_REPORTS)/* | head -n 80; \
		exit 1; \
	fi; exit $$rc

check-valgrind: $(UNIT_TESTS)
	$(Q)UNIT_WRAPPER="valgrind -q --error-exitcode=1 --leak-check=full \
		--errors-for-leak-kinds=definite" tests/run-unit.sh $(UNIT_TESTS)

# The BPF object on Debian 12's own kernel (6.1) booted under qemu: load,
# attach, count, detach (tests/kernel/qemu-6.1.sh; root; the kernel package
# is cached in $(OUTPUT)/kernel). Exit 77 is a skip (outside CI only).
check-kernel: all
	$(Q)OUTPUT=$(OUTPUT) tests/kernel/qemu-6.1.sh; rc=$$?; [ $$rc = 77 ] || exit $$rc

# The deployment files, offline: rules, scrape config, manifests, unit, dashboard.
check-deploy:
	$(Q)sh tests/deploy/check.sh

# Every test: what CI runs (README "Quick start").
check: test check-asan check-valgrind fuzz-smoke check-deploy check-kernel check-root-asan \
	check-scale check-root-valgrind

# Regenerate the pinned vmlinux.h on purpose from a kernel's BTF.
vmlinux:
	$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $(VMLINUX)

run: all
	$(OUTPUT)/reqacct agent $(ARGS)

bench: all $(OUTPUT)/bench-naive
	tools/bench/run

# Benchmark only, not part of the agent: the "usual approach" TLS tracer
# BENCHMARKS.md compares reqacct with (tools/bench/naive).
.PHONY: bench-naive
bench-naive: $(OUTPUT)/bench-naive

$(OUTPUT)/bench-naive.bpf.o: tools/bench/naive/naive.bpf.c tools/bench/naive/naive.h $(VMLINUX) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/bench-naive: tools/bench/naive/naive.c tools/bench/naive/naive.h $(OUTPUT)/user/elfbin.o \
		$(OUTPUT)/bench-naive.bpf.o
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $< $(OUTPUT)/user/elfbin.o -o $@ $(LDLIBS)

deps:
	tools/install-deps.sh

fmt:
	clang-format -i bpf/*.c bpf/*.h user/*.c user/*.h include/*.h tests/unit/*.c

clean:
	rm -rf $(OUTPUT) reqacct

.DELETE_ON_ERROR:
.SECONDARY:

-include $(DEPS)
