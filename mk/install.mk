# install.mk - make install: programs, data, nginx files, man pages and
# systemd units under PREFIX, staged under DESTDIR.
#
#   make install [PREFIX=/usr/local] [DESTDIR=] [SYSTEMDDIR=...] [FCGI_SOCKET=...]
#   make uninstall [PREFIX=...] [DESTDIR=...]
#
# The programs are built again into $(INSTALL_BUILD) with
# DATADIR=$(PREFIX)/share/bouncewhy compiled in, so that the installed
# binaries find their rules, templates and static files with no options.
# When mk/lib.mk provides install-lib (the shared library and pkg-config
# file), install runs it first.
#
#   $(PREFIX)/bin/bouncewhy                      the CLI
#   $(PREFIX)/sbin/bouncewhy-fcgi                the FastCGI server
#   $(PREFIX)/share/bouncewhy/{rules,templates,static,nginx}
#   $(PREFIX)/share/man/man1/bouncewhy.1, man8/bouncewhy-fcgi.8
#   $(SYSTEMDDIR)/bouncewhy-fcgi.{service,socket}

INSTALL_BUILD ?= $(BUILD)-install
INSTALL_DATADIR = $(PREFIX)/share/bouncewhy
MANDIR ?= $(PREFIX)/share/man
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
FCGI_SOCKET ?= /run/bouncewhy/fcgi.sock
INSTALL ?= install

.PHONY: install install-build uninstall
install-build:
	@# DATADIR is compiled into the two main.o: rebuild them for this PREFIX.
	@rm -f $(INSTALL_BUILD)/cgi/main.o $(INSTALL_BUILD)/cli/main.o
	@$(MAKE) --no-print-directory BUILD=$(INSTALL_BUILD) DATADIR=$(INSTALL_DATADIR) \
		$(INSTALL_BUILD)/bouncewhy $(INSTALL_BUILD)/bouncewhy-fcgi

install: $(if $(wildcard mk/lib.mk),install-lib) install-build
	$(INSTALL) -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin \
		$(DESTDIR)$(INSTALL_DATADIR)/rules $(DESTDIR)$(INSTALL_DATADIR)/templates \
		$(DESTDIR)$(INSTALL_DATADIR)/static $(DESTDIR)$(INSTALL_DATADIR)/nginx \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSTEMDDIR)
	$(INSTALL) -m 755 $(INSTALL_BUILD)/bouncewhy $(DESTDIR)$(PREFIX)/bin/bouncewhy
	$(INSTALL) -m 755 $(INSTALL_BUILD)/bouncewhy-fcgi $(DESTDIR)$(PREFIX)/sbin/bouncewhy-fcgi
	$(INSTALL) -m 644 rules/*.json $(DESTDIR)$(INSTALL_DATADIR)/rules/
	$(INSTALL) -m 644 templates/*.mustache $(DESTDIR)$(INSTALL_DATADIR)/templates/
	$(INSTALL) -m 644 $(wildcard static/*.*) $(DESTDIR)$(INSTALL_DATADIR)/static/
	$(INSTALL) -m 644 nginx/bouncewhy-http.conf nginx/bouncewhy-locations.conf \
		$(DESTDIR)$(INSTALL_DATADIR)/nginx/
	sed -e 's|@DATADIR@|$(INSTALL_DATADIR)|g' -e 's|@SOCKET@|$(FCGI_SOCKET)|g' \
		nginx/bouncewhy-site.conf > $(DESTDIR)$(INSTALL_DATADIR)/nginx/bouncewhy-site.conf
	$(INSTALL) -m 644 man/bouncewhy.1 $(DESTDIR)$(MANDIR)/man1/bouncewhy.1
	$(INSTALL) -m 644 man/bouncewhy-fcgi.8 $(DESTDIR)$(MANDIR)/man8/bouncewhy-fcgi.8
	sed -e 's|@SBINDIR@|$(PREFIX)/sbin|g' -e 's|@DATADIR@|$(INSTALL_DATADIR)|g' \
		systemd/bouncewhy-fcgi.service > $(DESTDIR)$(SYSTEMDDIR)/bouncewhy-fcgi.service
	sed -e 's|^ListenStream=.*|ListenStream=$(FCGI_SOCKET)|' \
		systemd/bouncewhy-fcgi.socket > $(DESTDIR)$(SYSTEMDDIR)/bouncewhy-fcgi.socket
	chmod 644 $(DESTDIR)$(SYSTEMDDIR)/bouncewhy-fcgi.service \
		$(DESTDIR)$(SYSTEMDDIR)/bouncewhy-fcgi.socket

uninstall: $(if $(wildcard mk/lib.mk),uninstall-lib)
	rm -f $(DESTDIR)$(PREFIX)/bin/bouncewhy $(DESTDIR)$(PREFIX)/sbin/bouncewhy-fcgi \
		$(DESTDIR)$(MANDIR)/man1/bouncewhy.1 $(DESTDIR)$(MANDIR)/man8/bouncewhy-fcgi.8 \
		$(DESTDIR)$(SYSTEMDDIR)/bouncewhy-fcgi.service $(DESTDIR)$(SYSTEMDDIR)/bouncewhy-fcgi.socket
	rm -rf $(DESTDIR)$(INSTALL_DATADIR)
