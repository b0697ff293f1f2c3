# xdsc: the everyday entry points. `make example` and `make test` set up everything they need.
#
#   make install PREFIX=$HOME/.local     release build, then install binary, man page, completions
#   make uninstall PREFIX=$HOME/.local
#   make docs                            regenerate man page, completions, schemas, docs/rules.md
#
# Variables: PREFIX (default /usr/local), DESTDIR (staging root for packagers),
# CONFIG (release or debug), SCRATCH (SwiftPM scratch directory, default .build),
# XDSC_BIN (install this binary instead of building one).
SWIFT   ?= swift
CONFIG  ?= release
PREFIX  ?= /usr/local
DESTDIR ?=
SCRATCH ?= .build
XDSC_BIN ?=

BINDIR  = $(DESTDIR)$(PREFIX)/bin
MANDIR  = $(DESTDIR)$(PREFIX)/share/man/man1
BASHDIR = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHDIR  = $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISHDIR = $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d

BUILT_BIN = $(or $(XDSC_BIN),$(SCRATCH)/$(CONFIG)/xdsc)

.PHONY: all example test build install uninstall docs bench clean

all: build

## Build xdsc and lint the bundled example policy.
example:
	./scripts/setup
	$(SWIFT) build --product xdsc
	.build/debug/xdsc lint fixtures/example

## Install the test dependencies and the Envoy API oracle, then run the whole test suite.
test:
	./scripts/setup --test
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift
	$(SWIFT) build --build-tests
	$(SWIFT) test

## Release-build benchmarks: lint/build throughput and route-analysis speed (prints figures).
bench:
	./scripts/bench

build:
	./scripts/setup
	$(SWIFT) build -c $(CONFIG) --scratch-path $(SCRATCH) --product xdsc

## Install the binary, the man page and bash/zsh/fish completions under PREFIX.
install: $(if $(XDSC_BIN),,build)
	install -d $(BINDIR) $(MANDIR) $(BASHDIR) $(ZSHDIR) $(FISHDIR)
	install -m 755 $(BUILT_BIN) $(BINDIR)/xdsc
	install -m 644 man/xdsc.1 $(MANDIR)/xdsc.1
	install -m 644 completions/xdsc.bash $(BASHDIR)/xdsc
	install -m 644 completions/_xdsc $(ZSHDIR)/_xdsc
	install -m 644 completions/xdsc.fish $(FISHDIR)/xdsc.fish

uninstall:
	rm -f $(BINDIR)/xdsc $(MANDIR)/xdsc.1 $(BASHDIR)/xdsc $(ZSHDIR)/_xdsc $(FISHDIR)/xdsc.fish

## Regenerate every generated file (scripts/gen-docs).
docs:
	SCRATCH=$(SCRATCH) scripts/gen-docs

clean:
	rm -rf .build
