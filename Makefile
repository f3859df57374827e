# lcx: long-context extrapolation benchmark harness.
#   make            build ./lcx
#   make test       build and run the test suite (SAN=1 for ASan+UBSan)
#   make demo       the README's main job
#   make experiment the miniature experiment with enough samples to decide (hours)
#   make bench      benchmarks (figures go to bench/RESULTS.md by hand;
#                   VS_LENGTHS=full: lcx vs llama.cpp up to 32K, long)
#   make fuzz       time-bounded libFuzzer runs (clang)
#   make deps       install (as root) or name the missing Debian packages
#
# The build does not depend on the host's CPU: every kernel variant of the
# target architecture is compiled (engine/kernels.c and train/ops.c once per
# instruction set, each with its own flags) and the binary picks one at run
# time (LCX_ISA=generic|avx2|avx512|amx|neon forces one). ARCH=native opts into
# -march=native for the rest of the code. Cross builds: CC=<triplet>-gcc
# PKG_CONFIG=<triplet>-pkg-config (see scripts/cross-aarch64.sh).

CC      ?= cc
HOSTCC  ?= cc
PKG_CONFIG ?= pkg-config
SAN     ?= 0
ARCH    ?=
PKGS    := libcurl jansson libpcre2-8 libmicrohttpd

# Objects of another compiler go to their own folder (build-clang, ...).
ifeq ($(CC),cc)
  CC_TAG :=
else
  CC_TAG := -$(notdir $(firstword $(CC)))
endif
ifeq ($(SAN),1)
  BUILD   ?= build-san$(CC_TAG)
  OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
  LCX_BIN ?= $(BUILD)/lcx
else
  BUILD   ?= build$(CC_TAG)
  OPT     := -O2 -g
  LCX_BIN ?= lcx
endif

PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

# The target's base instruction set, and its kernel variants with their flags.
MACHINE := $(shell $(CC) -dumpmachine 2>/dev/null)
ifneq ($(ARCH),)
  ARCH_FLAGS := -march=$(ARCH)
else ifneq ($(filter x86_64-%,$(MACHINE)),)
  ARCH_FLAGS := -march=x86-64-v2 -mtune=generic
else
  ARCH_FLAGS :=
endif
ifneq ($(filter x86_64-%,$(MACHINE)),)
  VARIANTS := generic avx2 avx512 amx
else ifneq ($(filter aarch64-%,$(MACHINE)),)
  VARIANTS := generic neon
else
  VARIANTS := generic
endif
VFLAGS_generic := -DLCX_KV_GENERIC -ffp-contract=off
VFLAGS_avx2    := -DLCX_KV_AVX2 -mavx2 -mfma -mf16c -ffp-contract=fast
VFLAGS_avx512  := -DLCX_KV_AVX512 -mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx2 -mfma \
                  -mf16c -ffp-contract=fast
VFLAGS_amx     := -DLCX_KV_AVX512 -DLCX_KV_AMX -mavx512f -mavx512bw -mavx512dq -mavx512vl \
                  -mavx2 -mfma -mf16c -mavx512bf16 -mamx-tile -mamx-bf16 -ffp-contract=fast
VFLAGS_neon    := -DLCX_KV_NEON -ffp-contract=fast

CFLAGS  = -std=c11 -D_GNU_SOURCE $(OPT) $(ARCH_FLAGS) -fopenmp \
           -Wall -Wextra -Werror -I. $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS := $(OPT) -fopenmp
LDLIBS  = $(PKG_LIBS) -lm

MODULES  := common tokenizer rope engine tasks results harness train
VARIANT_SRCS := engine/kernels.c train/ops.c
LIB_SRCS := $(filter-out harness/main.c $(VARIANT_SRCS),$(wildcard $(addsuffix /*.c,$(MODULES))))
LIB_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRCS)) $(BUILD)/obj/gen/embedded_data.o \
            $(foreach v,$(VARIANTS),$(BUILD)/obj/isa/$(v)/engine/kernels.o $(BUILD)/obj/isa/$(v)/train/ops.o)
LIB      := $(BUILD)/liblcx.a

TEST_SRCS  := $(wildcard tests/test_*.c)
TEST_BINS  := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
TOOL_SRCS  := $(wildcard tests/tools/*.c)
TOOL_BINS  := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRCS))
BENCH_SRCS := $(wildcard bench/*.c)
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))

# Data compiled into the binary, so ./lcx runs from anywhere.
EMBED := $(sort $(wildcard tasks/data/words/*.txt tasks/data/essays/*.txt tasks/data/qa/*.json))

.PHONY: all test test-bins demo experiment bench fuzz deps clean models
.DEFAULT_GOAL := all

all: $(BUILD)/.deps-ok $(LCX_BIN)

$(BUILD)/.deps-ok: scripts/install-deps.sh
	@sh scripts/install-deps.sh --auto
	@mkdir -p $(BUILD) && touch $@

deps:
	@sh scripts/install-deps.sh --auto

$(BUILD)/obj/%.o: %.c | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# One object per kernel variant, each with that instruction set's flags.
# Kernels are optimised (-O2) in every build, the sanitizer builds included:
# their register blocking needs it, and at -O1 the instrumented tiles spill
# to the stack and make the sanitized test suite many times slower.
$(BUILD)/obj/isa/%/engine/kernels.o: engine/kernels.c | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -O2 $(VFLAGS_$*) -MMD -MP -c $< -o $@

$(BUILD)/obj/isa/%/train/ops.o: train/ops.c | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -O2 $(VFLAGS_$*) -MMD -MP -c $< -o $@

# bin2c runs during the build, so it is built for the build machine.
$(BUILD)/tools/bin2c: scripts/bin2c.c
	@mkdir -p $(dir $@)
	$(HOSTCC) -std=c11 -O2 -Wall -Wextra -Werror $< -o $@

$(BUILD)/gen/embedded_data.c: $(BUILD)/tools/bin2c $(EMBED) Makefile
	@mkdir -p $(dir $@)
	$(BUILD)/tools/bin2c $@ $(EMBED)

$(BUILD)/obj/gen/embedded_data.o: $(BUILD)/gen/embedded_data.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-overlength-strings -c $< -o $@

# The commit goes into run.json; version.o is rebuilt when HEAD moves (a
# commit appends to .git/logs/HEAD) and when a source changes (-dirty).
GIT_COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(shell git diff --quiet HEAD 2>/dev/null || echo -dirty)
$(BUILD)/obj/harness/version.o: CFLAGS += -DLCX_COMMIT='"$(GIT_COMMIT)"'
$(BUILD)/obj/harness/version.o: $(wildcard .git/HEAD .git/index .git/logs/HEAD) $(LIB_SRCS) \
                                 $(VARIANT_SRCS)

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(LCX_BIN): $(BUILD)/obj/harness/main.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/%.c tests/check.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< $(LIB) $(LDLIBS) -o $@

# Test tools (servers and drivers the tests start), one program per file.
$(BUILD)/tools/%: tests/tools/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< $(LIB) $(LDLIBS) -lpthread -o $@

$(BUILD)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< $(LIB) $(LDLIBS) -o $@

# The test programs without running them (cross builds run them elsewhere).
test-bins: all $(LCX_BIN) $(TEST_BINS) $(TOOL_BINS)

test: all $(LCX_BIN) $(TEST_BINS) $(TOOL_BINS)
	@LCX=$(abspath $(LCX_BIN)) BUILD=$(abspath $(BUILD)) sh tests/run.sh $(TEST_BINS)

bench: all $(BENCH_BINS) $(TOOL_BINS)
	@LCX=$(abspath $(LCX_BIN)) BUILD=$(abspath $(BUILD)) sh bench/run.sh

demo: all
	@sh scripts/demo.sh

experiment: all
	@sh scripts/experiment.sh

# The bundled pair models/tiny-baseline and models/tiny-gated (long: see README).
models: all
	@sh scripts/make_models.sh

clean:
	rm -rf build build-* lcx

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# Fuzzing: clang + libFuzzer, each tests/fuzz_*.c for FUZZ_SECONDS seconds.
FUZZ_SECONDS ?= 30
FUZZ_SRCS := $(wildcard tests/fuzz_*.c)
.PHONY: fuzz-build
fuzz:
	@command -v clang >/dev/null || { echo "make fuzz needs clang: apt-get install clang libomp-dev" >&2; exit 2; }
	@$(MAKE) --no-print-directory CC=clang BUILD=build-fuzz LCX_BIN=build-fuzz/lcx \
	    OPT="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined,fuzzer-no-link" fuzz-build
	@set -e; for f in $(FUZZ_SRCS); do n=$$(basename $$f .c); \
	    mkdir -p build-fuzz/corpus/$$n; seeds=""; [ -d tests/fuzz/$$n ] && seeds=tests/fuzz/$$n; \
	    echo "== $$n ($(FUZZ_SECONDS)s)"; \
	    build-fuzz/fuzz/$$n -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 build-fuzz/corpus/$$n $$seeds 2>&1 | tail -n 12; done

fuzz-build: $(patsubst tests/%.c,build-fuzz/fuzz/%,$(FUZZ_SRCS))

build-fuzz/fuzz/%: tests/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer $< $(LIB) $(LDLIBS) -o $@
