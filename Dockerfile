# hotfix-lane: the wheel, installed on a pinned slim Python, run as a numeric non-root user
# (so Kubernetes' runAsNonRoot admits it).
ARG PYTHON_IMAGE=python:3.11.7-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# app/policy/shipped links to policies/: the wheel carries the files themselves.
COPY pyproject.toml README.md ./
COPY policies ./policies
COPY app ./app
RUN pip wheel --no-deps --wheel-dir /wheels . \
    && pip wheel --wheel-dir /wheels "$(ls /wheels/hotfix_lane-*.whl)"

FROM ${PYTHON_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links /wheels hotfix-lane && rm -rf /wheels \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/hotfix-lane \
       --create-home hotfix-lane

USER 10001:10001
WORKDIR /var/lib/hotfix-lane
ENV HOTFIX_LANE_DATABASE_URL=sqlite:////var/lib/hotfix-lane/hotfix-lane.db
VOLUME ["/var/lib/hotfix-lane"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]
CMD ["hotfix-lane", "serve", "--host", "0.0.0.0", "--port", "8000"]
