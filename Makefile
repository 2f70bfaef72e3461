# SPDX-License-Identifier: Apache-2.0
# The front door. CMake does the building underneath; every target here is
# one line a newcomer can guess: make, make demo, make test, make bench,
# make asan, make tsan, make valgrind, make fuzz.
JOBS ?= $(shell nproc)
BUILD ?= build
CMAKE_FLAGS ?=
FUZZ_SECONDS ?= 60

.PHONY: all build demo test check asan tsan valgrind bench fuzz deps clean

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

# The suite's binaries and the examples under Valgrind's Memcheck, in the
# ordinary build: any invalid access, uninitialised value or leak fails.
# Left out there (half an hour; ASan and TSan run them): the stress suite and
# R44's race, whose foreign thread and process spin-wait for each other.
VALGRIND = valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,possible
valgrind: build
	EP_TEST_WRAP="$(VALGRIND)" EP_TEST_SKIP=stress,registry:R44_name_given_to_a_dying EP_TEST_TIMEOUT_SCALE=20 ./tools/test.sh $(BUILD)

bench: build
	./tools/bench.sh $(BUILD)

fuzz:
	cmake -S . -B build-fuzz -DEP_FUZZ=ON -DEP_SANITIZE=address,undefined -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang >/dev/null
	cmake --build build-fuzz -j $(JOBS)
	./tools/fuzz.sh build-fuzz $(FUZZ_SECONDS)

clean:
	rm -rf build build-asan build-tsan build-fuzz

# What CI runs (README): the suite, then the suite under ASan+UBSan, TSan
# and Valgrind.
.PHONY: test-all
test-all:
	$(MAKE) test
	$(MAKE) asan
	$(MAKE) tsan
	$(MAKE) valgrind
