# s3-log-forwarder — `make help` lists the targets.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help venv build test unit lint bench bench-scale demo deploy clean

help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed ## Create the Python virtualenv (moto, cargo-lambda, cfn-lint, sam)

CARGO_DENY := .local/tools/bin/cargo-deny
$(CARGO_DENY):
	cargo install cargo-deny --version 0.20.2 --locked --root .local/tools

build: venv ## Build the Lambda zips for arm64 and x86_64 (target/lambda/<arch>/s3-log-forwarder/bootstrap.zip)
	cargo lambda build --release --arm64 --output-format zip --lambda-dir target/lambda/arm64
	cargo lambda build --release --x86-64 --output-format zip --lambda-dir target/lambda/x86_64
	@ls -l target/lambda/*/s3-log-forwarder/bootstrap.zip

test: venv lint ## Run every test: unit, integration against moto, template checks
	cargo test --all-targets

unit: ## Run the fast tests that need no moto: unit tests, conformance, lossless, replay
	cargo test --lib --test conformance --test lossless --test replay

lint: venv $(CARGO_DENY) ## cargo fmt --check, clippy -D warnings, cargo deny, cfn-lint + sam validate --lint
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings
	$(CARGO_DENY) check licenses bans sources
	VENV=$(VENV) bash scripts/lint-templates.sh

bench: ## Benchmark against the decompression floor (writes bench/results.json and BENCHMARKS.md), then the scale run
	cargo bench --bench forwarder
	$(MAKE) bench-scale

bench-scale: venv ## Scale run: 1, 4 and 16 instances on one stream's default quota (moto + the quota stand-in); prints the table and writes it into BENCHMARKS.md
	SCALE_OBJECTS=$${SCALE_OBJECTS:-120} SCALE_INSTANCES=$${SCALE_INSTANCES:-1,4,16} \
	  SCALE_WRITE=$(CURDIR)/BENCHMARKS.md cargo test --release --test scale -- --nocapture

demo: venv ## Run the function end to end on the local stack and show the records
	bash scripts/demo.sh

deploy: venv ## sam build && sam deploy --guided (needs AWS credentials)
	sam build
	sam deploy --guided

clean: ## Remove build outputs and local stack state
	cargo clean
	rm -rf .local
