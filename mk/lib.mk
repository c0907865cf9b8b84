# lib.mk - libbouncewhy as a shared library other programs link.
#
#   make lib          $(BUILD)/libbouncewhy.so.$(BW_LIB_VERSION), its soname
#                     link libbouncewhy.so.0 and libbouncewhy.so
#   make install-lib  install library, header and bouncewhy.pc under
#                     $(DESTDIR)$(PREFIX) (lib/, include/bouncewhy/,
#                     lib/pkgconfig/); `make install` depends on it
#
# Objects are compiled again with -fPIC into $(BUILD)/pic/, so the static
# library and the programs keep their non-PIC objects. Only the functions
# declared in classifier/bouncewhy.h are exported (a version script made
# from the header, symbol version BOUNCEWHY_0); every other symbol, the
# library's internal bw_* helpers included, stays local. The soname's 0
# changes when a release breaks that interface.
#
# A program builds against the installed library with
#   cc prog.c $(pkg-config --cflags --libs bouncewhy)
# (docs/example.c; tests/integration/test_library.sh does exactly that).

BW_LIB_VERSION ?= 0.1.0
BW_SONAME := libbouncewhy.so.0
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include

PIC_OBJ := $(LIB_SRC:%.c=$(BUILD)/pic/%.o)
LIBSO := $(BUILD)/libbouncewhy.so.$(BW_LIB_VERSION)
LIB_EXPORTS := $(BUILD)/pic/bouncewhy.map
# The library needs the packages but not libfcgi (a front's dependency).
LIB_LIBS = $(filter-out -lfcgi,$(PKG_LIBS)) -lstdc++ -lm -pthread

.PHONY: lib install-lib uninstall-lib
lib: $(LIBSO) $(BUILD)/libbouncewhy.so $(BUILD)/bouncewhy.pc

$(BUILD)/pic/%.o: %.c $(BUILD)/config.mk $(wildcard classifier/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -c -o $@ $<

# Every function prototype of the public header, one "name;" per line.
$(LIB_EXPORTS): classifier/bouncewhy.h
	@mkdir -p $(dir $@)
	@{ echo 'BOUNCEWHY_0 {'; echo '  global:'; \
	   sed -n 's/^[A-Za-z][^(#]*[ *]\(bw_[a-z0-9_]*\)(.*/    \1;/p' $<; \
	   echo '  local: *;'; echo '};'; } > $@.tmp && mv $@.tmp $@

$(LIBSO): $(PIC_OBJ) $(LIB_EXPORTS)
	$(CC) -shared -Wl,-soname,$(BW_SONAME) -Wl,--version-script,$(LIB_EXPORTS) \
		-Wl,--no-undefined -Wl,-z,relro -Wl,-z,now -o $@ $(PIC_OBJ) $(LIB_LIBS)

$(BUILD)/libbouncewhy.so: $(LIBSO)
	ln -sf $(notdir $(LIBSO)) $(BUILD)/$(BW_SONAME)
	ln -sf $(BW_SONAME) $@

# Made on every run: PREFIX and LIBDIR may differ from one make to the next.
# Paths under PREFIX are written as ${prefix}/..., so that
# `pkg-config --define-variable=prefix=DIR` can relocate them.
PC_SED = -e 's|@PREFIX@|$(PREFIX)|g' \
	 -e 's|@LIBDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))|g' \
	 -e 's|@INCLUDEDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))|g' \
	 -e 's|@VERSION@|$(BW_LIB_VERSION)|g'
.PHONY: $(BUILD)/bouncewhy.pc
$(BUILD)/bouncewhy.pc: bouncewhy.pc.in
	@mkdir -p $(dir $@)
	@sed $(PC_SED) $< > $@.tmp && mv $@.tmp $@

install-lib: lib
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/bouncewhy
	install -m 0755 $(LIBSO) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(LIBSO)) $(DESTDIR)$(LIBDIR)/$(BW_SONAME)
	ln -sf $(BW_SONAME) $(DESTDIR)$(LIBDIR)/libbouncewhy.so
	install -m 0644 classifier/bouncewhy.h $(DESTDIR)$(INCLUDEDIR)/bouncewhy/
	install -m 0644 $(BUILD)/bouncewhy.pc $(DESTDIR)$(LIBDIR)/pkgconfig/

uninstall-lib:
	rm -f $(DESTDIR)$(LIBDIR)/$(notdir $(LIBSO)) $(DESTDIR)$(LIBDIR)/$(BW_SONAME) \
	      $(DESTDIR)$(LIBDIR)/libbouncewhy.so $(DESTDIR)$(LIBDIR)/pkgconfig/bouncewhy.pc \
	      $(DESTDIR)$(INCLUDEDIR)/bouncewhy/bouncewhy.h
	-rmdir $(DESTDIR)$(INCLUDEDIR)/bouncewhy 2>/dev/null
