# fwsessiond: the two quick-start commands are `make run` and `make test`.
# Both install what is missing (Debian packages, Python test tools) first.

SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

SWIFT ?= swift
PYTHON ?= python3
# Build and run: the C libraries fwsessiond links (libnftables, libnftnl and libmnl for the data plane,
# libpq for arrays). The tests also use nftables, iproute2, socat and jq (network namespaces and the
# data plane walk-through), PostgreSQL (arrays), Prometheus and Chromium.
APT_PACKAGES := libmicrohttpd-dev libsqlite3-dev libgnutls28-dev libnftables-dev libnftnl-dev libmnl-dev libpq-dev \
	postgresql pkg-config curl ca-certificates openssl prometheus chromium chromium-driver nftables iproute2 socat jq
# make deb: debhelper and dpkg-dev build the package. make test also lints it (lintian), and runs the
# binary under the unit's seccomp filter (python3-seccomp, systemd-analyze from systemd).
DEB_APT_PACKAGES := debhelper dpkg-dev
TEST_APT_PACKAGES := lintian python3-seccomp systemd
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
LISTEN ?= 127.0.0.1:8080
DATA ?= ./data

FUZZ_SECONDS ?= 60

# The release build everything shares: make run, the Debian package, its tests and the benchmarks.
# The Swift standard library is linked in, so the binary runs on a gateway without the toolchain;
# -z now: the GOT is read-only after start (full RELRO).
RELEASE_BUILD_FLAGS := -c release --product fwsessiond --static-swift-stdlib -Xlinker -z -Xlinker now
RELEASE_BIN := .build/release/fwsessiond

# Installs the missing Debian packages of the list given.
apt_install = missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

.PHONY: run test deps apt-deps deb-deps test-apt-deps python-deps build build-release deb swift-client unit-test \
	integration-test fuzz clean bench bench-scale bench-build bench-deps

## Install, build (release) and run the server on its defaults: SQLite under ./data, loopback.
run: apt-deps build-release
	./$(RELEASE_BIN) serve --listen $(LISTEN) --data $(DATA)

## Install, build and run every test: Swift unit and integration tests, then the Python suite
## against the real binary, the Debian package and the clients generated from openapi.yaml.
test: deps build swift-client unit-test deb integration-test fuzz

deps: apt-deps deb-deps test-apt-deps python-deps

apt-deps:
	@$(call apt_install,$(APT_PACKAGES))

deb-deps:
	@$(call apt_install,$(DEB_APT_PACKAGES))

test-apt-deps:
	@$(call apt_install,$(TEST_APT_PACKAGES))

python-deps:
	@$(PYTHON) -m pip install -q --disable-pip-version-check -r Tests/integration/requirements.txt

build:
	$(SWIFT) build --build-tests

build-release:
	$(SWIFT) build $(RELEASE_BUILD_FLAGS)

## The Debian package fwsessiond_<version>_<arch>.deb, here: the release binary, the systemd unit,
## /etc/fwsessiond/config.json, the example configuration, dashboards and the man page.
deb: apt-deps deb-deps build-release
	deploy/build-deb $(RELEASE_BIN) $(CURDIR)

## The Swift client generated from openapi.yaml and its walk-through program (clients/swift-example):
## a package of its own with its own scratch path, so the server's build never carries the generator.
swift-client:
	$(SWIFT) build --package-path clients/swift-example --scratch-path .build-swift-client

unit-test:
	$(SWIFT) test --skip-build

integration-test:
	FWSESSIOND_BIN=$(CURDIR)/.build/debug/fwsessiond FWSESSIOND_RELEASE_BIN=$(CURDIR)/$(RELEASE_BIN) \
		$(PYTHON) -m pytest -q Tests/integration

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
	rm -rf .build .build-deb .build-swift-client fwsessiond_*.deb

## Benchmarks (bench/README.md): release server, C libmicrohttpd baseline, C SQLite commit tool and
## the Hummingbird peer, driven by wrk on loopback. Results go to bench/results/ (git-ignored).
BENCH_APT_PACKAGES := wrk gcc pkg-config libmicrohttpd-dev libsqlite3-dev libgnutls28-dev libnftables-dev libnftnl-dev \
	libmnl-dev libpq-dev postgresql nftables iproute2

bench-deps:
	@$(call apt_install,$(BENCH_APT_PACKAGES))

# The benchmarks measure the release binary the package ships (built once, shared with make test).
BENCH_RUN := FWSESSIOND_RELEASE_BIN=$(CURDIR)/$(RELEASE_BIN) $(PYTHON) bench/run

## Builds, then every scenario of the main table (about 4 minutes): bench/results/<timestamp>.md.
bench: bench-deps build-release
	$(BENCH_RUN)

## Builds, then 1,000,000 binds across 100,000 sessions: start time, memory, decisions (about 1.5 minutes).
bench-scale: bench-deps build-release
	$(BENCH_RUN) --scale

## Builds everything the benchmarks need and checks the seeder's schema, without running them (for CI).
bench-build: bench-deps build-release
	$(BENCH_RUN) --build-only
