# syntax=docker/dockerfile:1
# Every Modelgate image, from one file. Build context: the repository root, so the workspace's
# uv.lock pins every dependency exactly as in development and CI.
#
#   docker build --build-arg SERVICE=registry -t modelgate/registry .    # registry|ingest|validator|audit
#   docker build --target validator-gpu -t modelgate/validator-gpu .     # the validator on vLLM's CUDA image
#
# docker-compose.yml and the Helm chart (deploy/helm/modelgate) use exactly these.
# Images run as UID 10001 (numeric, so Kubernetes' runAsNonRoot can check it) and need no
# writable root filesystem; on OpenShift any assigned UID works (files are group 0, g=u).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG VLLM_IMAGE=vllm/vllm-openai:v0.11.0
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.9

FROM ${UV_IMAGE} AS uv

# -- one service's virtualenv, from the lock file --------------------------------------------
FROM ${PYTHON_IMAGE} AS build
ARG SERVICE
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
COPY . /src
RUN case "$SERVICE" in registry|ingest|validator|audit) ;; \
      *) echo "--build-arg SERVICE=registry|ingest|validator|audit is required" >&2; exit 2;; esac \
    && cd /src && UV_PROJECT_ENVIRONMENT=/app/.venv \
       uv sync --frozen --no-dev --no-editable --package "modelgate-$SERVICE" \
    && ln -s "modelgate-$SERVICE" /app/.venv/bin/modelgate-service

# -- the default target: one service on slim Python --------------------------------------------
FROM ${PYTHON_IMAGE} AS service
ARG SERVICE
RUN useradd --system --uid 10001 --gid 0 --no-create-home modelgate
COPY --from=build /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    MODELGATE_HTTP_HOST=0.0.0.0 MODELGATE_SERVICE=${SERVICE}
USER 10001:0
# modelgate-service links to modelgate-$SERVICE; `python -m modelgate_shared.db.migrate` is the
# migration step of the same image (docs/database-roles.md).
ENTRYPOINT ["modelgate-service"]

# -- the GPU validator: vLLM's image, the validator in a virtualenv of its own beside it ------
# The two never share packages: the validator only starts `vllm serve` as a child process, and
# asks that installation for its version.
FROM ${VLLM_IMAGE} AS validator-gpu
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
# The source and uv are mounted for this one step, never copied: a copied layer would ship in
# the image even after a later `rm` (only the installed virtualenv stays).
RUN --mount=type=bind,source=.,target=/src,rw \
    --mount=from=uv,source=/uv,target=/usr/local/bin/uv \
    cd /src && UV_PROJECT_ENVIRONMENT=/app/.venv \
    uv sync --frozen --no-dev --no-editable --package modelgate-validator --python python3
RUN useradd --system --uid 10001 --gid 0 --create-home modelgate \
    && mkdir -p /var/lib/modelgate-validator \
    && chown 10001:0 /var/lib/modelgate-validator && chmod g=u /var/lib/modelgate-validator
# The venv first for the validator itself; `vllm` is found after it, in vLLM's own environment.
ENV PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    MODELGATE_HTTP_HOST=0.0.0.0 MODELGATE_SERVICE=validator \
    MODELGATE_VALIDATOR_WORK_DIR=/var/lib/modelgate-validator \
    MODELGATE_BENCHMARK_RUNNERS=vllm VLLM_NO_USAGE_STATS=1 DO_NOT_TRACK=1 HF_HUB_OFFLINE=1
USER 10001:0
ENTRYPOINT ["modelgate-validator"]

# -- last, so a plain `docker build .` stops with the SERVICE message rather than building GPU --
FROM service AS default
