# fwsessiond: the two quick-start commands are `make run` and `make test`.
# Both install what is missing (Debian packages, Python test tools) first.

SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

SWIFT ?= swift
PYTHON ?= python3
APT_PACKAGES := libmicrohttpd-dev libsqlite3-dev libgnutls28-dev libnftables-dev libnftnl-dev libmnl-dev libpq-dev postgresql pkg-config curl ca-certificates openssl prometheus chromium chromium-driver nftables iproute2 socat jq
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
LISTEN ?= 127.0.0.1:8080
DATA ?= ./data

FUZZ_SECONDS ?= 60

.PHONY: run test deps apt-deps python-deps build build-release swift-client unit-test integration-test fuzz clean \
	bench bench-scale bench-build bench-deps

## Install, build (release) and run the server on its defaults: SQLite under ./data, loopback.
run: apt-deps build-release
	./.build/release/fwsessiond serve --listen $(LISTEN) --data $(DATA)

## Install, build and run every test: Swift unit and integration tests, then the Python suite
## against the real binary (with the clients generated from openapi.yaml).
test: deps build swift-client unit-test integration-test fuzz

deps: apt-deps python-deps

apt-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

python-deps:
	@$(PYTHON) -m pip install -q --disable-pip-version-check -r Tests/integration/requirements.txt

build:
	$(SWIFT) build --build-tests

build-release:
	$(SWIFT) build -c release --product fwsessiond

## The Swift client generated from openapi.yaml and its walk-through program (clients/swift-example):
## a package of its own with its own scratch path, so the server's build never carries the generator.
swift-client:
	$(SWIFT) build --package-path clients/swift-example --scratch-path .build-swift-client

unit-test:
	$(SWIFT) test --skip-build

integration-test:
	FWSESSIOND_BIN=$(CURDIR)/.build/debug/fwsessiond $(PYTHON) -m pytest -q Tests/integration

## libFuzzer over every request route (in process) and every text parser, for a bounded time each.
## Any crash, trap or 5xx answer fails the run; the inputs tried are printed.
fuzz: build
	$(SWIFT) build -c release --package-path Tests/Fuzz --scratch-path .build-fuzz \
		-Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library
	rm -rf .build-fuzz/corpus && $(PYTHON) Tests/Fuzz/seeds.py .build/debug/fwsessiond .build-fuzz/corpus
	mkdir -p test-artifacts
	for fuzzer in RequestFuzzer ParserFuzzer; do \
		seeds=$$( [ $$fuzzer = RequestFuzzer ] && echo request || echo parser ); \
		.build-fuzz/release/$$fuzzer .build-fuzz/corpus/$$seeds -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
			-artifact_prefix=test-artifacts/$$fuzzer- -print_final_stats=1 2>&1 | grep -E "^(Done|stat::number_of_executed_units|==|SUMMARY)|Fatal|fatal" ; \
		test $${PIPESTATUS[0]} -eq 0 || exit 1; \
	done

clean:
	rm -rf .build .build-swift-client

## Benchmarks (bench/README.md): release server, C libmicrohttpd baseline, C SQLite commit tool and
## the Hummingbird peer, driven by wrk on loopback. Results go to bench/results/ (git-ignored).
BENCH_APT_PACKAGES := wrk gcc pkg-config libmicrohttpd-dev libsqlite3-dev libgnutls28-dev libnftables-dev libnftnl-dev libmnl-dev nftables iproute2

bench-deps:
	@missing=""; for p in $(BENCH_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

## Builds, then every scenario of the main table (about 4 minutes): bench/results/<timestamp>.md.
bench: bench-deps
	$(PYTHON) bench/run

## Builds, then 1,000,000 binds across 100,000 sessions: start time, memory, decisions (about 1.5 minutes).
bench-scale: bench-deps
	$(PYTHON) bench/run --scale

## Builds everything the benchmarks need and checks the seeder's schema, without running them (for CI).
bench-build: bench-deps
	$(PYTHON) bench/run --build-only
