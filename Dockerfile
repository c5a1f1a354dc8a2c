FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /srv/hotfix-lane

# Dependencies first: this layer is rebuilt only when pyproject.toml changes.
COPY pyproject.toml README.md ./
RUN mkdir app && touch app/__init__.py && pip install . && pip uninstall -y hotfix-lane \
    && rm -rf app build *.egg-info

# The project itself (editable, so policies/default.yml is found beside app/).
COPY app ./app
COPY policies ./policies
RUN pip install --no-deps -e . \
    && useradd --system --uid 10001 --home-dir /var/lib/hotfix-lane --create-home hotfix-lane

USER hotfix-lane
ENV HOTFIX_LANE_DATABASE_URL=sqlite:////var/lib/hotfix-lane/hotfix-lane.db
VOLUME ["/var/lib/hotfix-lane"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]
CMD ["hotfix-lane", "serve", "--host", "0.0.0.0", "--port", "8000"]
