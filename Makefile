# flowswitch — the two commands the README leads with, and the helpers
# they use.  The build itself is Meson + Ninja; this file only drives it.
#
#   make demo     install what is missing, build, run the bundled demo
#   make check    install, build and run every test (three builds)
#
#   make demo-netns  (root) flowswitchd between two network namespaces
#
#   make build | bench | fuzz [FUZZ_SECONDS=60] | format | format-check
#   make lint (layers + tidy + cppcheck) | clean

BUILD ?= build
FUZZ_SECONDS ?= 60
SOURCES := $(shell find src bench tests/unit tests/fuzz -name '*.[ch]' \
                   2>/dev/null | sort)
LINT_SOURCES := $(shell find src bench -name '*.c' 2>/dev/null | sort)
# Every tests/fuzz/fuzz_NAME.c is a target with its seed corpus in
# tests/fuzz/corpus/NAME (tests/fuzz/meson.build lists the targets).
FUZZERS ?= $(sort $(basename $(notdir $(wildcard tests/fuzz/fuzz_*.c))))

.PHONY: all setup build demo demo-netns check bench fuzz fuzz-build format \
        format-check lint layers tidy cppcheck clean

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

# libFuzzer targets, built with clang in build-fuzz (reconfigured each
# time, so that a target added since is built; only the targets and what
# they link are compiled).  Each runs for
# FUZZ_SECONDS over its committed seed corpus, with every sanitizer report
# fatal; new inputs it finds go to a scratch directory, not into the
# repository.  The last line sums the executions.
build-fuzz/build.ninja:
	CC=clang meson setup build-fuzz -Dfuzz=true -Dtests=false \
	    -Db_sanitize=address,undefined -Db_lundef=false

fuzz-build: setup build-fuzz/build.ninja
	@meson setup --reconfigure build-fuzz >/dev/null
	@ninja --quiet -C build-fuzz $(addprefix tests/fuzz/,$(FUZZERS))

fuzz: fuzz-build
	@set -e; total=0; for f in $(FUZZERS); do \
	    corpus=tests/fuzz/corpus/$${f#fuzz_}; \
	    if [ ! -d $$corpus ]; then \
	        echo "fuzz: $$f has no seed corpus $$corpus"; exit 1; \
	    fi; \
	    scratch=$$(mktemp -d); \
	    echo "fuzz: $$f for $(FUZZ_SECONDS) s over $$corpus"; \
	    if ! UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	        build-fuzz/tests/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) \
	        -print_final_stats=1 -artifact_prefix=$$scratch/ \
	        $$scratch $$corpus >$$scratch/log 2>&1; then \
	        tail -40 $$scratch/log; \
	        echo "fuzz: $$f failed; inputs and log kept in $$scratch"; \
	        exit 1; \
	    fi; \
	    n=$$(sed -n 's/^stat::number_of_executed_units: *//p' $$scratch/log); \
	    echo "fuzz: $$f: $$n executions, no finding"; \
	    total=$$((total + n)); \
	    rm -rf $$scratch; \
	done; \
	echo "fuzz: $(words $(FUZZERS)) targets, $$total executions, no finding"

format:
	clang-format -i $(SOURCES)

format-check:
	@clang-format --dry-run -Werror $(SOURCES)

# No include cycle between the module folders of src/ (prints the layers).
layers:
	@scripts/check-layers

tidy: $(BUILD)/build.ninja
	@run-clang-tidy -quiet -p $(BUILD) $(LINT_SOURCES) >$(BUILD)/tidy.log 2>&1 \
	    || { grep -E 'warning:|error:' -A3 $(BUILD)/tidy.log; exit 1; }

cppcheck:
	@cppcheck --quiet --error-exitcode=1 --inline-suppr --std=c11 \
	    --enable=warning,performance,portability \
	    --suppress=missingIncludeSystem -D__GNUC__ -D_GNU_SOURCE \
	    -I src $(LINT_SOURCES)

lint: layers tidy cppcheck

clean:
	rm -rf build build-asan build-tsan build-fuzz
