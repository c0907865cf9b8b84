# fuzz.mk - libFuzzer targets (fuzz/fuzz_*.c) under ASan and UBSan.
#
#   make fuzz                 build into $(FUZZ_BUILD), replay fuzz/regressions,
#                             then fuzz each target for FUZZ_SECONDS (default 60)
#   make fuzz FUZZ_TARGETS=ip FUZZ_SECONDS=600
#   make fuzz-build           only build
#
# Needs clang and libclang-rt-14-dev (scripts/deps.sh fuzz). The library and
# the cgi objects are rebuilt with clang into FUZZ_BUILD by a sub-make, so
# the normal build is untouched. Crashes land in $(FUZZ_BUILD)/crashes/NAME/;
# copy one into fuzz/regressions/NAME/ once fixed, and every run replays it.

FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=undefined

.PHONY: fuzz fuzz-build fuzz-deps fuzz-bins
fuzz-deps:
	@scripts/deps.sh fuzz

fuzz-build: fuzz-deps
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang CFLAGS="$(FUZZ_CFLAGS)" MALLOC= fuzz-bins

fuzz: fuzz-build
	FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) BW_SHARED=$(SHARED) \
		fuzz/run.sh $(FUZZ_TARGETS)

# Only meaningful inside the sub-make above (CC=clang, sanitizer CFLAGS).
fuzz-bins: $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_TARGETS))

$(BUILD)/fuzz/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_common.h $(CGI_OBJ) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ifuzz -fsanitize=fuzzer -o $@ $< $(CGI_OBJ) $(LIBA) $(LIBS)
