# Familiar entry points over meson + ninja.
BUILD      ?= build
BUILD_ASAN ?= build-asan
PYTHON     ?= /usr/bin/python3

.PHONY: all deps build run check fresh-check soak bench fuzz mutate install docs format format-check clean

all: build

deps:
	@./scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=debugoptimized

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

# Installs what is missing, builds, and runs a sandboxed program.
run: deps build
	./$(BUILD)/src/ward run -- sh -c 'id; hostname; ls /; cat /proc/self/status | grep -E "^(Cap|NoNewPrivs|Seccomp)"'
	./$(BUILD)/src/ward explain | sed -n '/^Layers/,$$p'

# Every test: unit (plain and ASan+UBSan), integration, security battery.
check: deps
	./scripts/check.sh

# make check twice in a fresh clone, on a machine reset to a fresh state as
# far as is safe (scripts/fresh-check.sh); fails on any difference.
fresh-check: deps
	./scripts/fresh-check.sh $(FRESH_ARGS)

# 2,000 sandboxes started and stopped (one at a time and 16 at a time,
# mixed entitlements), 50 killed during their start; then nothing may be
# left and the broker must answer (scripts/soak.py; minutes, not in check).
soak: deps build
	$(PYTHON) ./scripts/soak.py $(SOAK_ARGS)

bench: deps build
	./bench/bench.sh

# libFuzzer targets of every parser, 300 s each (make check runs them for 10 s).
fuzz: deps
	FUZZ_TIME=$${FUZZ_TIME:-300} ./tests/fuzz/run.sh

# The mutation check: in a scratch copy, remove one layer or rule at a time,
# build, run the security battery, expect a failure (tens of minutes; not part
# of make check, which only checks that every mutation still applies).
# MUTATE="landlock caps" runs only those.
mutate: deps
	$(PYTHON) ./scripts/mutate.py $(if $(MUTATE),--only $(MUTATE)) $(MUTATE_ARGS)

# As root through sudo, it also delegates cgroups to the user who ran sudo,
# so that their rootless sandboxes have limits (docs/rootless.md).
install: build
	ninja -C $(BUILD) install
	@if [ "$$(id -u)" = 0 ] && [ -n "$${SUDO_USER:-}" ] && [ "$$SUDO_USER" != root ]; then \
		./$(BUILD)/src/ward delegate "$$SUDO_USER"; \
	else \
		echo "ward: for an ordinary user's sandboxes to have limits, run once: sudo ward delegate USER"; \
	fi

docs: build
	./$(BUILD)/src/ward entitlements --markdown > docs/entitlements.md

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) build-fuzz
