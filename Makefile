# PinRules: `make demo` and `make test` are the whole set-up on a fresh Debian machine.
SWIFT ?= swift
BUILD_FLAGS ?=
BIN_DEBUG := .build/debug/pinrules
BIN_RELEASE := .build/release/pinrules

.PHONY: all lua build release test demo bench clean help

all: build

help:
	@echo "make demo   install what is missing, build, map examples/events.ndjson with rules/"
	@echo "make test   all tests (Swift unit, pipeline and CLI tests, then the rule suites in rules/)"
	@echo "make build  debug build;  make release  release build"
	@echo "make bench  benchmarks (release build)"

# Every target first makes sure the system Lua 5.4 and pkg-config are there.
lua:
	@if pkg-config --exists lua5.4 2>/dev/null; then :; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing liblua5.4-dev and pkg-config with apt-get"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO="sudo"; \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq liblua5.4-dev pkg-config; \
	else \
	  echo "PinRules needs Lua 5.4 and pkg-config: install liblua5.4-dev (Debian/Ubuntu) or 'brew install lua pkg-config' (macOS)"; exit 1; \
	fi

build: lua
	$(SWIFT) build $(BUILD_FLAGS)

release: lua
	$(SWIFT) build -c release $(BUILD_FLAGS)

test: lua
	$(SWIFT) build --build-tests $(BUILD_FLAGS)
	$(SWIFT) test --skip-build $(BUILD_FLAGS)
	@if [ -d rules ] && ls rules/*.cases.json rules/*_test.lua >/dev/null 2>&1; then \
	  $(SWIFT) build --product pinrules $(BUILD_FLAGS) && $(BIN_DEBUG) test rules; \
	fi

demo: lua
	$(SWIFT) build --product pinrules $(BUILD_FLAGS)
	$(BIN_DEBUG) map --summary --config examples/destination.json --rules rules examples/events.ndjson

bench: lua
	$(SWIFT) build -c release --product PinRulesBench $(BUILD_FLAGS)
	.build/release/PinRulesBench

clean:
	rm -rf .build
