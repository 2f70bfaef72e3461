# SPDX-License-Identifier: Apache-2.0
# The front door. CMake does the building underneath; every target here is
# one line a newcomer can guess: make, make demo, make test, make bench,
# make asan, make tsan, make fuzz, make erl-test.
JOBS ?= $(shell nproc)
BUILD ?= build
CMAKE_FLAGS ?=
FUZZ_SECONDS ?= 60

.PHONY: all build demo test check asan tsan bench fuzz deps clean

all: build

$(BUILD)/Makefile: CMakeLists.txt
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null

build: $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

# Installs the Debian packages the project needs (root, Debian/Ubuntu).
deps:
	./tools/deps.sh

# A short tour of the seeds' programs, printing what happens.
demo: build
	./tools/demo.sh $(BUILD)

# The whole suite: every layer's Check tests, the examples, and the
# round trip against a real Erlang.
test: build
	./tools/test.sh $(BUILD)

check: test

asan:
	EP_TEST_TIMEOUT_SCALE=4 $(MAKE) test BUILD=build-asan CMAKE_FLAGS="-DEP_SANITIZE=address,undefined -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang"

tsan:
	EP_TEST_TIMEOUT_SCALE=4 $(MAKE) test BUILD=build-tsan CMAKE_FLAGS="-DEP_SANITIZE=thread -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang"

bench: build
	./tools/bench.sh $(BUILD)

fuzz:
	cmake -S . -B build-fuzz -DEP_FUZZ=ON -DEP_SANITIZE=address,undefined -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang >/dev/null
	cmake --build build-fuzz -j $(JOBS)
	./tools/fuzz.sh build-fuzz $(FUZZ_SECONDS)

clean:
	rm -rf build build-asan build-tsan build-fuzz

# What CI runs (README): the suite, then the suite under ASan+UBSan and TSan.
.PHONY: test-all
test-all:
	$(MAKE) test
	$(MAKE) asan
	$(MAKE) tsan
