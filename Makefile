# Duet's two front doors: `make demo` (set-up + main job) and `make test` (set-up + all tests).
# Everything else here is a step they share. Repeated runs skip what is already done.
SHELL := /bin/bash
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)
DUET := $(BUILD)/duet
# CI treats warnings as errors; a developer's build only shows them.
WERROR := $(if $(filter true 1,$(CI)),ON,OFF)

.PHONY: demo test test-asan setup build models fuzz format clean

demo: setup build models
	@mkdir -p out
	$(DUET) say "Hello! I am Duet, a voice engine that runs entirely on this computer." -o out/demo.wav
	@echo "demo: listen to $(CURDIR)/out/demo.wav"
	DUET=$(DUET) scripts/demo-conversation.sh

test: setup build models
	scripts/run-tests.sh

setup:
	scripts/setup.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DDUET_WERROR=$(WERROR)

build: $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

models: build
	$(DUET) models pull

# AddressSanitizer + UndefinedBehaviorSanitizer build of the unit tests (label "unit").
test-asan: setup
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DDUET_SANITIZE=ON -DDUET_BENCH=OFF \
	  -DDUET_WERROR=$(WERROR)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 ctest --test-dir $(ASAN_BUILD) -L unit --output-on-failure -j $(JOBS)
	# The server under AddressSanitizer: 200+ malformed, oversize and abandoned requests.
	ASAN_OPTIONS=detect_leaks=1 DUET_BUILD_DIR=$(CURDIR)/$(ASAN_BUILD) .venv/bin/python -m pytest -q \
	  tests/python/test_serve_bad_input.py

format:
	find src tests bench tools -name '*.cpp' -o -name '*.hpp' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) out
