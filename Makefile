# Switchyard's build entry points. Only `adapters` exists so far; the other targets
# (host, tests, lint, CI) come later.

.PHONY: adapters

# Builds every crate under adapters/ and tests/adapters/ into a component at
# target/components/<crate-name>.wasm.
adapters:
	./scripts/build-adapters.sh
