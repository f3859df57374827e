# lcx: long-context extrapolation benchmark harness.
#   make            build ./lcx
#   make test       build and run the test suite (SAN=1 for ASan+UBSan)
#   make demo       the README's main job
#   make bench      benchmarks (figures go to bench/RESULTS.md by hand)
#   make fuzz       time-bounded libFuzzer runs (clang)
#   make deps       install (as root) or name the missing Debian packages

CC      ?= cc
SAN     ?= 0
PKGS    := libcurl jansson libpcre2-8

ifeq ($(SAN),1)
  BUILD   := build-san
  OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
  LCX_BIN := $(BUILD)/lcx
else
  BUILD   := build
  OPT     := -O2 -g
  LCX_BIN := lcx
endif

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS  = -std=c11 -D_GNU_SOURCE $(OPT) -march=native -fopenmp \
           -Wall -Wextra -Werror -I. $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS := $(OPT) -fopenmp
LDLIBS  = $(PKG_LIBS) -lm

MODULES  := common yarn engine tasks results harness train
LIB_SRCS := $(filter-out harness/main.c,$(wildcard $(addsuffix /*.c,$(MODULES))))
LIB_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRCS)) $(BUILD)/obj/gen/embedded_data.o
LIB      := $(BUILD)/liblcx.a

TEST_SRCS  := $(wildcard tests/test_*.c)
TEST_BINS  := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
TOOL_SRCS  := $(wildcard tests/tools/*.c)
TOOL_BINS  := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRCS))
BENCH_SRCS := $(wildcard bench/*.c)
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))

# Data compiled into the binary, so ./lcx runs from anywhere.
EMBED := $(sort $(wildcard tasks/data/words/*.txt tasks/data/essays/*.txt tasks/data/qa/*.json))

.PHONY: all test demo bench fuzz deps clean models
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

$(BUILD)/tools/bin2c: scripts/bin2c.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror $< -o $@

$(BUILD)/gen/embedded_data.c: $(BUILD)/tools/bin2c $(EMBED) Makefile
	@mkdir -p $(dir $@)
	$(BUILD)/tools/bin2c $@ $(EMBED)

$(BUILD)/obj/gen/embedded_data.o: $(BUILD)/gen/embedded_data.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-overlength-strings -c $< -o $@

# The commit goes into run.json; version.o is rebuilt when HEAD moves.
GIT_COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(shell git diff --quiet HEAD 2>/dev/null || echo -dirty)
$(BUILD)/obj/harness/version.o: CFLAGS += -DLCX_COMMIT='"$(GIT_COMMIT)"'
$(BUILD)/obj/harness/version.o: $(wildcard .git/HEAD .git/index)

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

test: all $(LCX_BIN) $(TEST_BINS) $(TOOL_BINS)
	@LCX=$(abspath $(LCX_BIN)) BUILD=$(abspath $(BUILD)) sh tests/run.sh $(TEST_BINS)

bench: all $(BENCH_BINS) $(TOOL_BINS)
	@LCX=$(abspath $(LCX_BIN)) BUILD=$(abspath $(BUILD)) sh bench/run.sh

demo: all
	@sh scripts/demo.sh

# The bundled pair models/tiny-baseline and models/tiny-gated (long: see README).
models: all
	@sh scripts/make_models.sh

clean:
	rm -rf build build-san lcx

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
