# xdsc: the everyday entry points. `make example` and `make test` set up everything they need.
SWIFT ?= swift
CONFIG ?= release
PREFIX ?= /usr/local

.PHONY: all example test build bench clean

all: build

## Build xdsc and lint the bundled example policy.
example:
	./scripts/setup
	$(SWIFT) build --product xdsc
	.build/debug/xdsc lint fixtures/example

## Install the test dependencies and the Envoy API oracle, then run the whole test suite.
test:
	./scripts/setup --test
	$(SWIFT) build --build-tests
	$(SWIFT) test

## Release-build benchmarks: lint/build throughput and route-analysis speed (prints figures).
bench:
	./scripts/bench

build:
	./scripts/setup
	$(SWIFT) build -c $(CONFIG) --product xdsc

clean:
	rm -rf .build
