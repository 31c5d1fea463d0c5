# The two commands a fresh Debian machine needs: `make demo` and `make test`. Each first
# installs the Debian packages that are missing, then builds with CMake, only what it runs:
# `make demo` the library and acio-crawl (no tests, no sanitizer builds, no benchmarks),
# `make test` everything the tests need, `make bench` a separate Release tree of what it
# measures. `make demo` then `make test` share $(BUILD), so the library is built once.
BUILD       ?= build
BENCH_BUILD ?= $(BUILD)-release
# Parallel compile jobs (default: every core), e.g. `make test JOBS=1` on a loaded machine.
JOBS        ?= $(shell nproc)
# Many tests wait on timers and sockets, so run more of them than there are cores.
CTEST_JOBS  ?= $(shell echo $$(( $$(nproc) * 2 )))
CMAKE_ARGS  ?=
BUILD_DEPS := build-essential cmake pkg-config libcriterion-dev libssl-dev openssl python3 procps valgrind \
              zlib1g-dev libbrotli-dev libzstd-dev libjansson-dev libidn2-dev \
              liburiparser-dev libgumbo-dev redis-server libhttp-parser-dev python3-h11 clang \
              postgresql libpq-dev mariadb-server libmariadb-dev \
              curl wrk python3-aiohttp nginx \
              gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
BENCH_DEPS := golang-go libuv1-dev python3-uvloop time util-linux python3-redis python3-scrapy python3-aiomysql \
              nginx-light python3-uvicorn python3-httptools libcurl4-openssl-dev \
              python3-asyncpg python3-psycopg python3-psycopg-pool

# CMake's own make runs below this one; its "Entering directory" lines are noise here.
MAKEFLAGS += --no-print-directory
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

.PHONY: all deps bench-deps configure build demo demo-seeds test bench install format clean

all: build

deps:
	$(call apt_install,$(BUILD_DEPS))

bench-deps:
	$(call apt_install,$(BUILD_DEPS) $(BENCH_DEPS))

# The benchmarks have their own Release tree ($(BENCH_BUILD)), so this one leaves them out.
configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DACIO_BENCH=OFF $(CMAKE_ARGS) >/dev/null

# Everything the tests use: the libraries (plain and ASan+UBSan), tests, examples.
build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# The main job: build only the library and acio-crawl, then crawl the built-in demo site
# (served by acio's HTTP server on 127.0.0.1) and print the summary.
demo: configure
	@cmake --build $(BUILD) -j $(JOBS) --target acio-crawl
	@$(BUILD)/tools/acio-crawl --demo

# The tour of the seed programs (what `make demo` ran before acio-crawl existed).
demo-seeds: configure
	@cmake --build $(BUILD) -j $(JOBS) --target acio_examples
	@./demo.sh $(BUILD)

# ctest's own summary, then the same counts as one plain closing line.
test: build
	@cd $(BUILD) && ctest -j $(CTEST_JOBS) --output-on-failure --timeout 600 | tee ctest.log; \
	rc=$${PIPESTATUS[0]}; \
	sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\2 \1/p' ctest.log | \
	  { read total failed && echo "ctest: $$((total - failed)) passed, $$failed failed"; }; \
	exit $$rc

# A Release build of the library and of what bench/run.sh runs (the bench programs and
# the echo examples), without tests.
bench: bench-deps
	@cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release -DACIO_TESTS=OFF -DACIO_BENCH=ON \
	  $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BENCH_BUILD) -j $(JOBS) --target acio_bench
	@./bench/run.sh $(BENCH_BUILD)

install: configure
	@cmake --build $(BUILD) -j $(JOBS) --target acio acio_static
	@cmake --install $(BUILD) $(if $(PREFIX),--prefix $(PREFIX),)

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BENCH_BUILD)
