# The README's two commands: `make run` and `make test`. Both install missing
# Debian packages, build, prepare the example models, then serve or test.
BUILD ?= build
JOBS ?= 2
PYTHON ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || echo python3)
HTTP_PORT ?= 8000
GRPC_PORT ?= 8001
METRICS_PORT ?= 8002

MODEL_ARTIFACTS := examples/models/mtcars_am/1/model.rds examples/models/iris_species/1/model.pkl

.PHONY: all deps configure build models run test bench clean

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: configure
	cmake --build $(BUILD) -j$(JOBS)
	@$(MAKE) --no-print-directory models

models: $(MODEL_ARTIFACTS)

examples/models/mtcars_am/1/model.rds: examples/models/mtcars_am/train.R
	cd examples/models/mtcars_am && Rscript --vanilla train.R 1/model.rds

examples/models/iris_species/1/model.pkl: examples/models/iris_species/train.py
	cd examples/models/iris_species && $(PYTHON) train.py 1/model.pkl

run: build
	@scripts/worker-access.sh
	$(BUILD)/modelgate --model-repository examples/models --host 127.0.0.1 \
	  --http-port $(HTTP_PORT) --grpc-port $(GRPC_PORT) --metrics-port $(METRICS_PORT) \
	  --python $(PYTHON)

test: build
	@scripts/worker-access.sh
	cd $(BUILD) && ctest --output-on-failure --timeout 900

bench: build
	@scripts/install-deps.sh bench
	benchmarks/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(MODEL_ARTIFACTS)
