# bouncewhy - build, run and test.
#
#   make            build everything into $(BUILD)
#   make run        install what is missing, build, serve on 127.0.0.1:$(PORT)
#   make test       install what is missing, build, run every test
#   make eval       score the classifier on the shared bounce corpus
#   make bench      print throughput figures
#
# BUILD= puts objects and binaries elsewhere (parallel builds), SHARED= names
# the shared test data folder, PORT= the port of `make run`.

SHARED ?= ../shared
BUILD ?= build
PORT ?= 8080
PREFIX ?= /usr/local
DESTDIR ?=
DATADIR ?= $(abspath .)

CC ?= cc
OPT ?= -O2
CFLAGS ?= $(OPT) -g
WARN := -Wall -Wextra -Wshadow -Wno-unused-parameter -Wno-missing-field-initializers

# Package flags are read once, after the packages are installed, into a
# makefile of their own; make rebuilds it first and then starts over.
PKGS := jansson libpcre2-8 gmime-3.0 libcares
-include $(BUILD)/config.mk

# The programs allocate through mimalloc (Debian libmimalloc-dev). GMime
# builds and frees a tree of small GObjects for every email, and with glibc's
# malloc a quarter of an explain went to allocating and freeing (callgrind,
# bench/bench_email). Listed before the other libraries, it serves every
# library's malloc in the process. MALLOC= links glibc's malloc instead; the
# sanitizer builds do, since ASan brings its own.
MALLOC ?= -lmimalloc

ALL_CFLAGS = -DBW_DATADIR=\"$(DATADIR)\" -std=c11 -D_GNU_SOURCE -pthread $(WARN) $(PKG_CFLAGS) -Iclassifier -Icgi -Icli -Itests/unit $(CFLAGS)
LIBS = $(PKG_LIBS) -lstdc++ -lm -pthread

LIB_SRC := $(wildcard classifier/*.c)
CGI_SRC := $(filter-out cgi/main.c,$(wildcard cgi/*.c))
CLI_SRC := $(wildcard cli/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
BENCH_SRC := $(wildcard bench/bench_*.c)

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CGI_OBJ := $(CGI_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

LIBA := $(BUILD)/libbouncewhy.a
FCGI := $(BUILD)/bouncewhy-fcgi
CLI := $(BUILD)/bouncewhy

.PHONY: all deps test-deps run test eval bench clean
all: $(LIBA) $(FCGI) $(CLI) $(UNIT_BIN) $(BENCH_BIN)

$(BUILD)/config.mk: scripts/deps.sh
	@mkdir -p $(BUILD)
	@scripts/deps.sh build
	@printf 'PKG_CFLAGS := %s\nPKG_LIBS := %s -lfcgi\n' \
		"$$(pkg-config --cflags $(PKGS))" "$$(pkg-config --libs $(PKGS))" > $@

$(BUILD)/%.o: %.c $(BUILD)/config.mk $(wildcard classifier/*.h cgi/*.h cli/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBA): $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(FCGI): $(BUILD)/cgi/main.o $(CGI_OBJ) $(LIBA)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(MALLOC) $(LIBS)

$(CLI): $(CLI_OBJ) $(LIBA)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(MALLOC) $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(CGI_OBJ) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(MALLOC) $(LIBS) -lcmocka

$(BUILD)/bench/%: bench/%.c $(CGI_OBJ) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(MALLOC) $(LIBS)

# The unit tests need cmocka, a test-only package.
$(UNIT_BIN): | test-deps
test-deps:
	@scripts/deps.sh test

run: all
	BUILD=$(BUILD) PORT=$(PORT) scripts/run.sh

test: test-deps all
	BUILD=$(BUILD) BW_SHARED=$(SHARED) tests/run.sh

eval: all
	BUILD=$(BUILD) BW_SHARED=$(SHARED) tests/eval/eval.sh $(if $(CORPUS),--corpus $(CORPUS))

bench: all
	BUILD=$(BUILD) BW_SHARED=$(SHARED) bench/run.sh

clean:
	rm -rf $(BUILD)

# More targets, one file per concern (install, fuzz, sanitizers, ...).
-include $(wildcard mk/*.mk)
