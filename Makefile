# Tessera — the two commands: `make run` and `make test`.
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

.PHONY: run test test-pg lint fmt check-deps openapi build bench bench-quick

## Start the server on 127.0.0.1:8080 with SQLite under ./data.
run:
	$(CARGO) run --release -p tessera-server -- serve

## Every test in the workspace (PostgreSQL/Redis suites run when
## TESSERA_TEST_DATABASE_URL / TESSERA_TEST_REDIS_URL are set).
test:
	$(CARGO) test --workspace --doc -q
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
		$(CARGO) nextest run --workspace --no-fail-fast; \
	else \
		$(CARGO) test --workspace --no-fail-fast; \
	fi

## The same suites against the local PostgreSQL and Redis.
test-pg:
	TESSERA_TEST_DATABASE_URL=$${TESSERA_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} \
	TESSERA_TEST_REDIS_URL=$${TESSERA_TEST_REDIS_URL:-redis://127.0.0.1:6379} \
	$(MAKE) test

lint: check-deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

## ARCHITECTURE.md's dependency direction, proven with `cargo tree -i`.
check-deps:
	@./scripts/check-deps.sh

openapi:
	@$(CARGO) run -q -p tessera-server -- openapi

## Benchmark (docs/performance.md): release build, Tessera vs the bare baseline on SQLite (and
## PostgreSQL + Redis when TESSERA_TEST_DATABASE_URL / TESSERA_TEST_REDIS_URL are set); prints
## the table and writes target/bench/results.json. Full: < 10 min once built.
bench:
	CARGO="$(CARGO)" ./scripts/bench.sh full

## The same, smaller and shorter: < 2 min once built.
bench-quick:
	CARGO="$(CARGO)" ./scripts/bench.sh quick
