# Modelgate: `make up` starts the local stack with a demo model, `make test` runs every check.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV_VERSION := 0.13.9
export UV_PYTHON_DOWNLOADS := never
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)

.PHONY: help bootstrap up down status test chart-tools chart-test fuzz lint typecheck unit docs clean-state bench-gpu bench-cpu bench-tracing

help:
	@echo "make up      start Kafka, PostgreSQL, MinIO and the four services (idempotent)"
	@echo "make test    ruff, mypy and pytest against the real stack (started if needed)"
	@echo "make down    stop what make up started"
	@echo "make fuzz    the API and event fuzzing only, deeper (FUZZ_EXAMPLES=200)"
	@echo "make chart-test  the Helm chart only: lint, render, strict schema validation, consistency"
	@echo "make status  what runs and where"
	@echo "make bench-gpu MODEL=/path/to/hf-model [QUANTIZATION=fp8] [CONCURRENCY=1,8,32]"
	@echo "             serving benchmark with vLLM on this host's NVIDIA GPUs"
	@echo "make bench-tracing   pipeline throughput with tracing off and on (the ratio)"

# uv manages the one virtualenv (.venv) from uv.lock; it is the only thing installed globally.
bootstrap:
	@command -v $(UV) >/dev/null 2>&1 || python3 -m pip install --quiet --user "uv==$(UV_VERSION)" \
	  || python3 -m pip install --quiet --break-system-packages --user "uv==$(UV_VERSION)"
	@deploy/local/sync-python.sh $(UV)

up: bootstrap
	@$(UV) run --frozen modelgate-stack up

down:
	@$(UV) run --frozen modelgate-stack down

status:
	@$(UV) run --frozen modelgate-stack status

lint: bootstrap
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

typecheck: bootstrap
	$(UV) run --frozen mypy

docs: bootstrap
	$(UV) run --frozen python -m modelgate_shared.events.docs docs

test: lint typecheck chart-tools
	$(UV) run --frozen pytest

# helm, kubeconform and the schemas the chart tests validate against: built and fetched once into
# ~/.cache/modelgate (first time: helm's build takes minutes on two cores), then a no-op.
chart-tools: bootstrap
	@$(UV) run --frozen python -m modelgate_stack.chart_tools
	@$(UV) run --frozen python -m modelgate_stack.kube_schemas

# The Helm chart (deploy/helm/modelgate) without a cluster; also part of `make test`. The first
# run builds helm and kubeconform and fetches the schemas (minutes), cached in ~/.cache/modelgate.
chart-test: chart-tools
	$(UV) run --frozen pytest tests/unit/helm tests/unit/stack/test_kube_schemas.py

# Property-based fuzzing of every HTTP API from its OpenAPI document and of every Kafka
# consumer, with more examples than `make test` runs (docs/testing.md, "Fuzzing").
FUZZ_EXAMPLES ?= 200
fuzz: bootstrap
	MODELGATE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(UV) run --frozen pytest \
	  tests/e2e/test_fuzz_api.py tests/e2e/test_fuzz_events.py -s

# Serving benchmark of one model with the validator's runner and workload (bench/serving.py).
# GPU hosts: vLLM must be installed apart from the project (`vllm` on PATH, or VLLM=/path/to/vllm).
bench-gpu: bootstrap
	@test -n "$(MODEL)" || { echo "usage: make bench-gpu MODEL=/path/to/hf-model-dir [QUANTIZATION=fp8] [CONCURRENCY=1,8,32]"; exit 2; }
	$(if $(VLLM),MODELGATE_VLLM_EXECUTABLE=$(VLLM)) $(UV) run --frozen python -m bench.serving \
	  --runner vllm --model "$(MODEL)" $(if $(QUANTIZATION),--quantization $(QUANTIZATION)) \
	  $(if $(CONCURRENCY),--concurrency $(CONCURRENCY))

# The same on CPU with llama.cpp: MODEL=/path/to/model.gguf, or a generated tiny model.
bench-cpu: bootstrap
	$(UV) run --frozen python -m bench.serving --runner llama-cpp \
	  $(if $(MODEL),--model "$(MODEL)",--tiny) $(if $(CONCURRENCY),--concurrency $(CONCURRENCY),--concurrency 1,4)

# Pipeline throughput, latency and CPU per submission with tracing off and on (bench/tracing_overhead.py).
bench-tracing: bootstrap
	$(UV) run --frozen python -m bench.tracing_overhead --submissions 1500 --rounds 10 --side-by-side

clean-state: down
	rm -rf .local/state .local/stack.env
