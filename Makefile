# Switchyard's entry points. `make demo` runs Switchyard on its embedded defaults; `make test`
# passes every test. Both work on a fresh machine: they install what is missing.

.PHONY: adapters deps test lint fmt bench demo

# System packages the host and its tests need: redis-server (the Redis messaging backend's
# tests start their own), pkg-config and OpenSSL's headers (the Sentry client's TLS).
SYSTEM_PACKAGES = redis-server pkg-config libssl-dev

deps:
	./scripts/apt-install.sh $(SYSTEM_PACKAGES)

# Builds every crate under adapters/ and tests/adapters/ into a component at
# target/components/<crate-name>.wasm (see scripts/build-adapters.sh).
adapters:
	./scripts/build-adapters.sh

# Builds the components, then runs every test of the workspace: the host, server, mocks and
# end-to-end tests (the sandbox suites twice: with warm instances and with every call on a
# fresh one, see tests/tests/e2e/warm.rs), and the guest crates' own unit tests (natively).
test: deps adapters
	cargo test --workspace

# Formatting and lints, as CI wants them.
lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings

fmt:
	cargo fmt --all

# Builds the components, then runs the benchmarks in tests/benches/ (call, posthog, tenants, native, redis, soak, startup;
# docs/benchmarks.md says what each measures). About 3 minutes on 2 cores once built; each
# bench ends with a summary of ratios, criterion's reports land in target/criterion/.
bench: deps adapters
	cargo bench -p switchyard-tests --bench '*'

# Serves examples/quickstart on 127.0.0.1:8080: tenant acme on the embedded defaults, tenant
# globex on the cloud adapters against mocks of their providers (127.0.0.1:8099, 8101-8106),
# and a hot swap of tenant initech from the embedded default to Twilio. Ctrl-C stops it.
demo: deps adapters
	cargo run -p quickstart
