# Mote: the user's entry points. Every target installs what it needs (toolchain/deps.sh).
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build/host
CMAKE_FLAGS ?=

.PHONY: all deps build test demo bench size cross clean

all: build

deps:
	@bash toolchain/deps.sh host

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) --target mote-cli
	@echo "built $(BUILD)/bin/mote"

# Every test: unit + integration (ctest), sanitizers, fuzzing, freestanding check, Swift, cross.
test:
	@bash toolchain/deps.sh test
	@bash Tests/run.sh

demo: build
	@bash toolchain/deps.sh test
	@bash scripts/demo.sh

bench: build
	@bash toolchain/deps.sh bench
	@bash bench/run.sh

size:
	@bash toolchain/deps.sh cortex-m
	@bash toolchain/size.sh

cross:
	@bash toolchain/deps.sh cross
	@bash toolchain/cross.sh $(MBEDTLS)

clean:
	rm -rf build
