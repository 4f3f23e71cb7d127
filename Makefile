# The two commands of the README are `make demo` and `make test`; both
# install what they need through scripts/deps.sh. Everything else here is a
# convenience for developers.
BUILD ?= build
ASAN_BUILD ?= build-asan
MESON_OPTS ?= --werror

.PHONY: all deps build demo test unit bench fuzz clean

all: build

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

demo: build
	scripts/demo.sh $(BUILD)/tunnus

test: deps
	scripts/test.sh

unit: build
	meson test -C $(BUILD) --print-errorlogs

bench: build
	bench/registry.sh $(BUILD)

fuzz: deps
	scripts/fuzz.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
