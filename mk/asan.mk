# asan.mk - the tests under AddressSanitizer and UndefinedBehaviorSanitizer.
#
#   make test-asan          build into $(ASAN_BUILD) and run ASAN_SUITES there
#   make asan-build         only build
#
# ASAN_SUITES is a tests/run.sh suite regex: by default the unit tests and
# the API and hostile-input integration tests, which keeps the run to a few
# minutes on two cores. Sanitizer reports of every process (bouncewhy-fcgi
# included) go to $(ASAN_BUILD)/sanitizer/, and any report fails the run.
# fuzz/lsan.supp holds the GLib/GMime one-time allocations LeakSanitizer
# must not count. tests/integration/test_asan.sh runs this from `make test`.

ASAN_BUILD ?= build-asan
ASAN_SUITES ?= ^(unit/|rules/|integration/test_(api|hostile)$$)
ASAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined

.PHONY: test-asan asan-build
asan-build: test-deps
	@$(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) CFLAGS="$(ASAN_CFLAGS)" MALLOC= all

test-asan: asan-build
	@ASAN_BUILD=$(ASAN_BUILD) ASAN_SUITES='$(ASAN_SUITES)' BW_SHARED=$(SHARED) \
		BW_ASAN_NO_BUILD=1 bash tests/integration/test_asan.sh
