# fwsessiond: the two quick-start commands are `make run` and `make test`.
# Both install what is missing (Debian packages, Python test tools) first.

SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

SWIFT ?= swift
PYTHON ?= python3
APT_PACKAGES := libmicrohttpd-dev libsqlite3-dev libgnutls28-dev pkg-config curl ca-certificates openssl
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
LISTEN ?= 127.0.0.1:8080
DATA ?= ./data

.PHONY: run test deps apt-deps python-deps build build-release unit-test integration-test clean

## Install, build (release) and run the server on its defaults: SQLite under ./data, loopback.
run: apt-deps build-release
	./.build/release/fwsessiond serve --listen $(LISTEN) --data $(DATA)

## Install, build and run every test: Swift unit and integration tests, then the Python suite
## against the real binary.
test: deps build unit-test integration-test

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

unit-test:
	$(SWIFT) test --skip-build

integration-test:
	FWSESSIOND_BIN=$(CURDIR)/.build/debug/fwsessiond $(PYTHON) -m pytest -q Tests/integration

clean:
	rm -rf .build
