# xdsc: build, install, uninstall, regenerate docs.
#
#   make install PREFIX=$HOME/.local     release build, then install
#   make uninstall PREFIX=$HOME/.local
#   make docs                            regenerate man page, completions, schemas, docs/rules.md
#
# Variables: PREFIX (default /usr/local), DESTDIR (staging root for packagers),
# CONFIG (release or debug), SCRATCH (SwiftPM scratch directory), XDSC_BIN (install this
# binary instead of building one).

PREFIX  ?= /usr/local
DESTDIR ?=
CONFIG  ?= release
SCRATCH ?= .build
SWIFT   ?= swift
XDSC_BIN ?=

BINDIR  = $(DESTDIR)$(PREFIX)/bin
MANDIR  = $(DESTDIR)$(PREFIX)/share/man/man1
BASHDIR = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHDIR  = $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISHDIR = $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d

BUILT_BIN = $(or $(XDSC_BIN),$(SCRATCH)/$(CONFIG)/xdsc)

.PHONY: all build install uninstall docs

all: build

build:
	$(SWIFT) build -c $(CONFIG) --scratch-path $(SCRATCH) --product xdsc

install: $(if $(XDSC_BIN),,build)
	install -d $(BINDIR) $(MANDIR) $(BASHDIR) $(ZSHDIR) $(FISHDIR)
	install -m 755 $(BUILT_BIN) $(BINDIR)/xdsc
	install -m 644 man/xdsc.1 $(MANDIR)/xdsc.1
	install -m 644 completions/xdsc.bash $(BASHDIR)/xdsc
	install -m 644 completions/_xdsc $(ZSHDIR)/_xdsc
	install -m 644 completions/xdsc.fish $(FISHDIR)/xdsc.fish

uninstall:
	rm -f $(BINDIR)/xdsc $(MANDIR)/xdsc.1 $(BASHDIR)/xdsc $(ZSHDIR)/_xdsc $(FISHDIR)/xdsc.fish

docs:
	SCRATCH=$(SCRATCH) scripts/gen-docs
