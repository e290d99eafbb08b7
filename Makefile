# flint — build, test, bench, run.
#
#   make            build build/flint
#   make test       build and run every test suite (ends with "N passed, N failed")
#   make run        open the editor on a demo file with flint (headless demo without a TTY)
#   make asan       the C test suites under AddressSanitizer + UndefinedBehaviorSanitizer
#   make fuzz       build the libFuzzer targets and run each for FUZZ_SECONDS
#   make bench      benchmarks; results in bench/results/*.json
#   make model      re-create the default model from scratch (hours; see models/README.md)
#   make deps       install missing Debian packages (root) or print the apt-get line
#   make nvim010    build Neovim 0.10 into build/nvim010 (used by the test suite)

BUILD   ?= build
CC      ?= cc
OPT     ?= -O2
SAN     ?=
CFLAGS  ?=
CFLAGS  += -std=c11 $(OPT) -g -Wall -Wextra -Wno-unused-parameter -D_GNU_SOURCE \
           -pthread -fno-strict-aliasing -Icsrc $(SAN)
LDLIBS  := -lmsgpackc -luv -lutf8proc -lsodium -ljansson -lm -lpthread
LDFLAGS += $(SAN)

# Debian packages the build and the tests need.
DEB_PKGS := build-essential pkg-config libmsgpack-dev libuv1-dev libutf8proc-dev \
            libsodium-dev libjansson-dev neovim vim tmux clang

# Kernel files named *_avx2.c / *_avx512.c get their ISA flags; runtime
# dispatch (csrc/engine/cpu.c) decides which ones run.
AVX2_FLAGS   := -mavx2 -mfma -mf16c
AVX512_FLAGS := -mavx2 -mfma -mf16c -mavx512f -mavx512bw -mavx512vl -mavx512dq \
                -mavx512vnni -mavx512bf16

LIB_SRC  := $(sort $(wildcard csrc/*/*.c))
MAIN_SRC := csrc/main.c
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ := $(MAIN_SRC:%.c=$(BUILD)/obj/%.o)
LIB      := $(BUILD)/libflint.a
BIN      := $(BUILD)/flint

TEST_SRC := $(sort $(wildcard tests/c/test_*.c))
TEST_BIN := $(TEST_SRC:tests/c/%.c=$(BUILD)/tests/%)

# Test tools (not suites): the parrot model builder (tests/tools/parrot.c).
PARROT   := $(BUILD)/tests/parrot

FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 60

# V=1 shows the full compiler command lines.
Q := $(if $(V),,@)

.PHONY: all deps test test-c asan fuzz bench run model nvim010 clean
.DELETE_ON_ERROR:

all: $(BIN)

$(BUILD)/obj/%_avx2.o: %_avx2.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) $(AVX2_FLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/%_avx512.o: %_avx512.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) $(AVX512_FLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(BIN): $(MAIN_OBJ) $(LIB)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/c/%.c tests/c/tap.h $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST CC $<")
	$(Q)$(CC) $(CFLAGS) -Itests/c -MMD -MP $< -o $@ $(LDFLAGS) $(LIB) $(LDLIBS)

$(PARROT): tests/tools/parrot.c $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TOOL CC $<")
	$(Q)$(CC) $(CFLAGS) -MMD -MP $< -o $@ $(LDFLAGS) $(LIB) $(LDLIBS)

-include $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(TEST_BIN:=.d) $(PARROT).d

deps:
	@sh tools/deps.sh $(DEB_PKGS)

# The whole suite: C unit tests, CLI tests, Neovim (0.7 and 0.10) and Vim tests.
test: deps $(BIN) $(TEST_BIN) $(PARROT) nvim010
	@sh tests/run.sh $(BUILD)

# Only the C and CLI suites (fast inner loop; also what asan runs).
test-c: $(BIN) $(TEST_BIN) $(PARROT)
	@FLINT_SUITES="c cli" sh tests/run.sh $(BUILD)

asan:
	$(MAKE) BUILD=build-asan OPT=-O1 CC=clang \
	  SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" test-c

fuzz:
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_SRC)

bench: $(BIN)
	@sh bench/run.sh $(BUILD)

run: deps $(BIN)
	@sh tools/run-demo.sh $(BUILD)

model:
	@sh tools/train/make_model.sh

nvim010:
	@sh tools/nvim010.sh $(BUILD)/nvim010

clean:
	rm -rf build build-asan build-fuzz
