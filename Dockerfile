# syntax=docker/dockerfile:1.7
# Two images from one file, built the way `make install` builds the dev environment:
# first the PyTorch build, then the project.
#   docker build --target api    -t forecaster-api .     (CPU PyTorch, slim)
#   docker build --target worker -t forecaster-worker .  (CUDA runtime + CUDA PyTorch)

ARG PYTHON_VERSION=3.11
ARG CUDA_IMAGE=nvidia/cuda:12.6.3-cudnn-runtime-ubuntu24.04

# ---- The project's sources, listed once for both images ----------------------------------------
FROM scratch AS source
COPY pyproject.toml README.md alembic.ini /src/
COPY forecaster /src/forecaster
COPY models /src/models
COPY migrations /src/migrations
COPY api /src/api
COPY worker /src/worker
COPY cli /src/cli

# ---- API: build a virtual environment with the CPU build of PyTorch --------------------------
FROM python:${PYTHON_VERSION}-slim AS api-build
ARG TORCH_SPEC="torch==2.13.0"
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY --from=source /src ./
RUN /opt/venv/bin/pip install --index-url "$TORCH_INDEX" "$TORCH_SPEC" \
 && /opt/venv/bin/pip install .

# ---- API: the final image, no compilers, non-root ---------------------------------------------
FROM python:${PYTHON_VERSION}-slim AS api
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 \
    FORECASTER_ARTIFACT_DIR=/data/artifacts FORECASTER_LOG_FORMAT=json
RUN useradd --create-home --uid 10001 forecaster && mkdir -p /data/artifacts \
 && chown -R forecaster /data
COPY --from=api-build /opt/venv /opt/venv
USER forecaster
WORKDIR /home/forecaster
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]
CMD ["forecaster", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers-inline", "0", "--no-scheduler"]

# ---- Worker: a virtual environment with the CUDA build of PyTorch -----------------------------
FROM ${CUDA_IMAGE} AS worker-build
ARG TORCH_SPEC="torch==2.13.0"
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 DEBIAN_FRONTEND=noninteractive
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv \
 && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/venv
WORKDIR /src
COPY --from=source /src ./
RUN /opt/venv/bin/pip install "$TORCH_SPEC" \
 && /opt/venv/bin/pip install .

# ---- Worker: CUDA runtime only, non-root -------------------------------------------------------
FROM ${CUDA_IMAGE} AS worker
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 DEBIAN_FRONTEND=noninteractive \
    FORECASTER_ARTIFACT_DIR=/data/artifacts FORECASTER_LOG_FORMAT=json FORECASTER_DEVICE=auto
RUN apt-get update && apt-get install -y --no-install-recommends python3 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 forecaster && mkdir -p /data/artifacts \
 && chown -R forecaster /data
COPY --from=worker-build /opt/venv /opt/venv
USER forecaster
WORKDIR /home/forecaster
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["forecaster", "healthcheck"]
CMD ["forecaster", "worker"]
