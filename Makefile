# xdsc: the everyday entry points. `make example` and `make test` set up everything they need.
#
#   make install PREFIX=$HOME/.local     release build, then install binary, man page, completions
#   make uninstall PREFIX=$HOME/.local
#   make docs                            regenerate man page, completions, schemas, docs/rules.md
#   make fuzz FUZZ_SECONDS=600           libFuzzer harnesses, corpus kept in Tests/fuzz/corpus
#   make test-asan                       the test suite under AddressSanitizer
#
# Variables: PREFIX (default /usr/local), DESTDIR (staging root for packagers),
# CONFIG (release or debug), SCRATCH (SwiftPM scratch directory, default .build),
# XDSC_BIN (install this binary instead of building one), FUZZ_SECONDS (per harness, default 60).
SWIFT   ?= swift
CONFIG  ?= release
PREFIX  ?= /usr/local
DESTDIR ?=
SCRATCH ?= .build
XDSC_BIN ?=
FUZZ_SECONDS ?= 60

BINDIR  = $(DESTDIR)$(PREFIX)/bin
MANDIR  = $(DESTDIR)$(PREFIX)/share/man/man1
BASHDIR = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHDIR  = $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISHDIR = $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d

BUILT_BIN = $(or $(XDSC_BIN),$(SCRATCH)/$(CONFIG)/xdsc)

.PHONY: all example test test-asan fuzz build install uninstall docs bench clean

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

## The whole test suite with AddressSanitizer on the Swift code and the libyaml, json-c and RE2
## boundaries (the C/C++ shims are instrumented; the system libraries are not rebuilt). Leak
## detection is off: it reports the Swift runtime's lazily created globals (docs/fuzzing.md).
test-asan:
	./scripts/setup --test
	$(SWIFT) build --build-tests --scratch-path .build-asan --sanitize=address
	SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 $(SWIFT) test --scratch-path .build-asan --sanitize=address

## Run each fuzz harness for FUZZ_SECONDS at nice 19, then minimise its corpus (docs/fuzzing.md).
fuzz:
	./scripts/setup
	FUZZ_SECONDS=$(FUZZ_SECONDS) ./scripts/fuzz

## Release-build benchmarks: lint/build throughput, route-analysis speed, and the embedded proxy
## against nginx as the same reverse proxy (prints figures; docs/proxy.md).
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
	rm -rf .build .build-asan Fuzz/.build-fuzz
