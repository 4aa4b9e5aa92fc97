# mockserver as a CI service container: `docker run -p 8080:8080 IMAGE`.
# Build the wheel in one stage; install only it (no test dependencies) in the next.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY mockserver ./mockserver
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 mockserver
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
COPY scenarios /scenarios
USER mockserver
# Every `serve` flag can be set as MOCKSERVER_<FLAG> (docker run -e MOCKSERVER_CHAOS=0.3).
ENV MOCKSERVER_HOST=0.0.0.0 \
    MOCKSERVER_PORT=8080 \
    PYTHONUNBUFFERED=1
EXPOSE 8080
# Needs no curl or wget: the image's own Python asks /_mock/health.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('MOCKSERVER_PORT', '8080'); sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{port}/_mock/health', timeout=2).status == 200 else 1)"]
ENTRYPOINT ["mockserver"]
CMD ["serve", "/scenarios"]
