# The README's two commands: `make run` and `make test`. Both install missing
# Debian packages, build, prepare the example models, then serve or test.
# `make run` needs only the daemon's own dependencies; `make test` switches on
# the tests, benchmarks and deploy checks (GoogleTest, gmock, benchmark,
# grpc_python_plugin, Go, npm) and -Werror, re-running cmake on the same
# build directory (cheap), which then keeps them on.
BUILD ?= build
JOBS ?= 2
PYTHON ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || echo python3)
HTTP_PORT ?= 8000
GRPC_PORT ?= 8001
METRICS_PORT ?= 8002
# Sanitizer and fuzz builds live beside the normal one (see README, "Fuzzing
# and sanitizers"). The normal build never needs clang.
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_CXX ?= clang++-14
FUZZ_SECONDS ?= 60

TEST_OPTIONS := -DMODELGATE_BUILD_TESTS=ON -DMODELGATE_DEPLOY_CHECKS=ON -DMODELGATE_WERROR=ON
# The build type on a fresh build directory only; later runs keep the cache's.
FIRST_CONFIGURE = $(if $(wildcard $(BUILD)/CMakeCache.txt),,-DCMAKE_BUILD_TYPE=RelWithDebInfo)

MODEL_ARTIFACTS := examples/models/mtcars_am/1/model.rds examples/models/iris_species/1/model.pkl \
  examples/models/iris_species/1/reference.json

.PHONY: all deps test-deps sanitize-deps configure build models run test test-sanitize fuzz-build fuzz fuzz-regress bench config-docs clean

all: build

# Package groups of scripts/packages.txt.
deps:
	@scripts/install-deps.sh build runtime

test-deps:
	@scripts/install-deps.sh build runtime test deploy-check

sanitize-deps:
	@scripts/install-deps.sh build runtime test

configure: deps
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

# The daemon and its worker runtimes (whatever else the build directory is
# configured for is built by `make test`).
build: configure
	cmake --build $(BUILD) -j$(JOBS) --target modelgate
	@$(MAKE) --no-print-directory models

models: $(MODEL_ARTIFACTS)

examples/models/mtcars_am/1/model.rds: examples/models/mtcars_am/train.R
	cd examples/models/mtcars_am && Rscript --vanilla train.R 1/model.rds

examples/models/iris_species/1/model.pkl: examples/models/iris_species/train.py
	cd examples/models/iris_species && $(PYTHON) train.py 1/model.pkl

# The iris model's drift reference, from the training data (tools/drift_reference.R).
examples/models/iris_species/1/reference.json: examples/models/iris_species/drift_reference.R \
    tools/drift_reference.R
	cd examples/models/iris_species && Rscript --vanilla drift_reference.R 1/reference.json

run: build
	@scripts/worker-access.sh
	$(BUILD)/modelgate --model-repository examples/models --host 127.0.0.1 \
	  --http-port $(HTTP_PORT) --grpc-port $(GRPC_PORT) --metrics-port $(METRICS_PORT) \
	  --model-control-mode poll

test: test-deps
	cmake -S . -B $(BUILD) $(FIRST_CONFIGURE) $(TEST_OPTIONS)
	cmake --build $(BUILD) -j$(JOBS)
	@$(MAKE) --no-print-directory models
	@scripts/worker-access.sh
	cd $(BUILD) && ctest --output-on-failure --timeout 900

# The unit and integration suites once more, built with ASan + UBSan; the
# Python tests start the instrumented daemon.
# No deploy checks there: they run no C++ code.
test-sanitize: sanitize-deps models
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMODELGATE_SANITIZE=ON \
	  -DMODELGATE_BUILD_TESTS=ON
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	tests/sanitize/run-ctest.sh $(ASAN_BUILD)

# Libraries and harnesses only, with clang (Debug keeps assertions on;
# cmake/sanitizers.cmake adds -O1 and the sanitizers).
fuzz-build:
	@scripts/install-deps.sh build fuzz
	@test -f $(FUZZ_BUILD)/CMakeCache.txt || cmake -S . -B $(FUZZ_BUILD) \
	  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=$(FUZZ_CXX) -DMODELGATE_FUZZ=ON
	cmake --build $(FUZZ_BUILD) -j$(JOBS) --target fuzzers

# Each fuzzer for FUZZ_SECONDS on a copy of its committed corpus, JOBS at a
# time; fails on any crash, timeout or out-of-memory.
fuzz: fuzz-build
	tests/fuzz/fuzz.sh run $(FUZZ_BUILD) $(FUZZ_SECONDS) $(JOBS)

# Every committed corpus file once, no mutation: proves each crash-* fixed.
fuzz-regress: fuzz-build
	tests/fuzz/fuzz.sh regress $(FUZZ_BUILD)

bench:
	@scripts/install-deps.sh build runtime test bench
	cmake -S . -B $(BUILD) $(FIRST_CONFIGURE) -DMODELGATE_BUILD_TESTS=ON
	@$(MAKE) --no-print-directory build
	benchmarks/run.sh $(BUILD)

# Rewrites README.md's config reference from the key tables in
# src/config/model_config_keys.cc (a unit test fails while they differ).
config-docs: configure
	cmake --build $(BUILD) --target modelgate_config_reference
	$(BUILD)/modelgate_config_reference --write README.md

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(MODEL_ARTIFACTS)
