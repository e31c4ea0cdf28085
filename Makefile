# flowswitch — the two commands the README leads with, and the helpers
# they use.  The build itself is Meson + Ninja; this file only drives it.
#
#   make demo     install what is missing, build, run the bundled demo
#   make check    install, build and run every test (three builds)
#
#   make demo-netns  (root) flowswitchd between two network namespaces
#
#   make build | bench | fuzz [FUZZ_SECONDS=60] | format | format-check
#   make lint (tidy + cppcheck) | clean

BUILD ?= build
FUZZ_SECONDS ?= 60
SOURCES := $(shell find src bench tests/unit tests/fuzz -name '*.[ch]' \
                   2>/dev/null | sort)
LINT_SOURCES := $(shell find src bench -name '*.c' 2>/dev/null | sort)
FUZZERS := fuzz_packet fuzz_flow fuzz_openflow

.PHONY: all setup build demo demo-netns check bench fuzz fuzz-build format \
        format-check lint tidy cppcheck clean

all: build

setup:
	@scripts/setup

$(BUILD)/build.ninja:
	meson setup $(BUILD)

build: setup $(BUILD)/build.ninja
	@ninja -C $(BUILD)

demo: build
	@BUILD=$(BUILD) scripts/demo

demo-netns: build
	@BUILD=$(BUILD) scripts/demo --netns

check: setup
	@scripts/check

bench: build
	$(BUILD)/flowswitch-bench all

# libFuzzer targets, built with clang in build-fuzz.  Each runs for
# FUZZ_SECONDS over its committed seed corpus; new inputs it finds go to a
# scratch directory, not into the repository.
build-fuzz/build.ninja:
	CC=clang meson setup build-fuzz -Dfuzz=true -Dtests=false \
	    -Db_sanitize=address,undefined -Db_lundef=false

fuzz-build: setup build-fuzz/build.ninja
	@ninja -C build-fuzz

fuzz: fuzz-build
	@set -e; for f in $(FUZZERS); do \
	    corpus=tests/fuzz/corpus/$${f#fuzz_}; \
	    scratch=$$(mktemp -d); \
	    echo "fuzz: $$f for $(FUZZ_SECONDS) s over $$corpus"; \
	    if ! build-fuzz/tests/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) \
	        -print_final_stats=1 -artifact_prefix=$$scratch/ \
	        $$scratch $$corpus >$$scratch/log 2>&1; then \
	        tail -40 $$scratch/log; \
	        echo "fuzz: $$f failed; inputs and log kept in $$scratch"; \
	        exit 1; \
	    fi; \
	    grep -E 'stat::number_of_executed_units' $$scratch/log; \
	    rm -rf $$scratch; \
	done

format:
	clang-format -i $(SOURCES)

format-check:
	@clang-format --dry-run -Werror $(SOURCES)

tidy: $(BUILD)/build.ninja
	@run-clang-tidy -quiet -p $(BUILD) $(LINT_SOURCES) >$(BUILD)/tidy.log 2>&1 \
	    || { grep -E 'warning:|error:' -A3 $(BUILD)/tidy.log; exit 1; }

cppcheck:
	@cppcheck --quiet --error-exitcode=1 --inline-suppr --std=c11 \
	    --enable=warning,performance,portability \
	    --suppress=missingIncludeSystem -D__GNUC__ -D_GNU_SOURCE \
	    -I src $(LINT_SOURCES)

lint: tidy cppcheck

clean:
	rm -rf build build-asan build-tsan build-fuzz
