# memscope — thin front door. The real build is CMake (CMakeLists.txt); this file installs
# missing Debian packages, configures build/ and runs the demo or the whole test suite.
BUILD ?= build
JOBS  ?= $(shell nproc 2>/dev/null || echo 2)
# Build and test needs. Browser tests add chromium/nodejs/npm, the fuzzer adds clang.
PACKAGES = cmake make gcc g++ pkg-config libmimalloc-dev libmsgpack-dev libcmocka-dev \
           libunwind-dev libdw-dev libelf-dev python3 perl git bash time valgrind \
           librsvg2-bin libxml2-utils clang libclang-rt-14-dev chromium binutils libjs-dygraphs \
           redis-server redis-tools udev zlib1g-dev golang-go man-db bash-completion sqlite3 \
           libpython3.11-testsuite
BENCH_PACKAGES = hyperfine heaptrack libjemalloc2

.PHONY: all deps bench-deps configure build demo test test-cpython bench clean

all: build

deps:
	@sh scripts/install-deps.sh $(PACKAGES)
	@# Node.js may come from elsewhere (it ships its own npm): only install Debian's when absent.
	@command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || sh scripts/install-deps.sh nodejs npm

bench-deps:
	@sh scripts/install-deps.sh $(BENCH_PACKAGES)

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: configure
	@cmake --build $(BUILD) -j$(JOBS)

demo: build
	@sh scripts/demo.sh $(BUILD)

# The whole suite, then the converter's tests (reader, model, symboliser, CLI, JSON, reports)
# once more with the converter built under ASan/UBSan.
test: build
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS) --timeout 1500 -LE cpython
	@cmake -S . -B $(BUILD)-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMEMSCOPE_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD)-asan -j$(JOBS) >/dev/null
	@cd $(BUILD)-asan && ctest --output-on-failure -j$(JOBS) --timeout 1500 -R '^(model|symbolize|json_compact|report|cli_errors|cli_compact|cli_golden|formats_.*)$$'

# CPython's regression suite (27 modules) on bare mimalloc, then on memscope at rates 0 and 1
# (test/cpython.cmake); a few minutes per run on two cores.
test-cpython: build
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS) -L cpython

bench: build bench-deps
	@bash bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD)
