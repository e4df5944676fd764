# Tradeloom: one image for every process (serve, worker, iot-bridge); the command picks the process.
# Build stage: wheels for the project and its dependencies, and the front-end libraries from npm.
FROM python:3.11-slim-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md alembic.ini babel.cfg package.json package-lock.json ./
COPY tradeloom ./tradeloom
COPY catalog ./catalog
COPY commerce ./commerce
COPY ledger ./ledger
COPY integrations ./integrations
COPY iot_bridge ./iot_bridge
COPY migrations ./migrations
RUN npm ci --no-audit --no-fund \
    && mkdir -p tradeloom/web/static/vendor \
    && cp node_modules/htmx.org/dist/htmx.min.js node_modules/chart.js/dist/chart.umd.min.js tradeloom/web/static/vendor/
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# Runtime stage: no compilers, no npm, a non-root user.
FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --home-dir /app --uid 10001 tradeloom
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/* && rm -rf /wheels
USER tradeloom
WORKDIR /app
ENV TRADELOOM_ENVIRONMENT=production \
    TRADELOOM_DATA_DIR=/app/var \
    PYTHONUNBUFFERED=1
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
# gunicorn with uvicorn workers; `tradeloom migrate` runs once before (see docker-compose.yml).
ENTRYPOINT ["gunicorn", "tradeloom.app:create_app()", "--worker-class", "uvicorn_worker.UvicornWorker", \
            "--config", "python:tradeloom.gunicorn_conf", "--bind", "0.0.0.0:8000"]
CMD ["--workers", "4"]
