# ess-exporter: Prometheus exporter for REFU battery inverters and EcoFlow PowerOcean systems.
#   docker build -t ess-exporter .
#   docker run -v ./config.yml:/etc/ess-exporter/config.yml:ro -p 9640:9640 ess-exporter
# The same image runs the simulators: docker run ess-exporter simulate refu --listen 0.0.0.0:5020

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/ess-exporter
ENV PATH=/opt/ess-exporter/bin:$PATH
WORKDIR /src
COPY constraints.txt pyproject.toml README.md LICENSE ./
COPY mappings/ mappings/
COPY exporter/ exporter/
# [demo] brings the embedded MQTT broker of "ess-exporter demo".
RUN pip install -c constraints.txt ".[demo]"

FROM python:3.11-slim
# The commit and branch the image is built from, shown in ess_exporter_build_info:
#   docker build --build-arg REVISION=$(git rev-parse HEAD) --build-arg BRANCH=main .
ARG REVISION=unknown
ARG BRANCH=unknown
LABEL org.opencontainers.image.title="ess-exporter" \
      org.opencontainers.image.description="Prometheus exporter for REFU battery inverters (Modbus TCP) and EcoFlow PowerOcean home batteries (MQTT)" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.revision="${REVISION}"
ENV PATH=/opt/ess-exporter/bin:$PATH \
    ESS_EXPORTER_REVISION=${REVISION} \
    ESS_EXPORTER_BRANCH=${BRANCH} \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
RUN groupadd --system --gid 10001 ess \
 && useradd --system --uid 10001 --gid ess --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin ess \
 && mkdir -p /etc/ess-exporter
COPY --from=build /opt/ess-exporter /opt/ess-exporter
USER 10001:10001
WORKDIR /tmp
EXPOSE 9640
# Assumes the default listen address :9640 without TLS (see --web.config.file).
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:9640/-/healthy', timeout=4).status == 200 else 1)"]
ENTRYPOINT ["ess-exporter"]
CMD ["run", "--config", "/etc/ess-exporter/config.yml"]
