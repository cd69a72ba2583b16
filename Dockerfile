# syntax=docker/dockerfile:1
# Loom's images (docs/production.md). Two targets share the notebook environment:
#   loom     (default, the last stage) the web server and the workers: Loom, its locked requirements, the built
#            editor, collected static files, the notebook environment, bubblewrap + slirp4netns
#   airflow  Airflow 3.3 for the api-server, scheduler, dag-processor and Celery workers, with
#            papermill + ipykernel (airflow/requirements.txt), the same notebook environment and
#            the sandbox's tools (the DAG files carry Loom's runtime/ verbatim: nothing else of Loom)
#   docker build -t loom .    docker build --target airflow -t loom-airflow .
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG AIRFLOW_IMAGE=apache/airflow:3.3.2-python3.11

# --- The editor: built with Node, only its dist/ is kept ------------------------------------------
FROM node:20-bookworm-slim AS editor
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY frontend/ ./
RUN npm run build

# --- The notebook environment (notebook-env/requirements.txt): what kernels import -----------------
# Built on the same Debian Python 3.11 under /usr/local that both final images have (Airflow's
# image is built on python:3.11-slim-bookworm too), so the venv is copied into each as it is; the
# sandbox mounts /usr and this folder read-only.
FROM ${PYTHON_IMAGE} AS notebook-env
COPY notebook-env/requirements.txt /tmp/notebook-env.txt
RUN python -m venv /opt/loom/notebook-env \
 && /opt/loom/notebook-env/bin/pip install --no-cache-dir --disable-pip-version-check -r /tmp/notebook-env.txt

# --- Airflow with what Loom's DAGs need on a worker --------------------------------------------------
FROM ${AIRFLOW_IMAGE} AS airflow
USER root
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends bubblewrap slirp4netns \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data/airflow-artifacts /opt/airflow/dags/loom \
 && chown -R 50000:0 /data /opt/airflow/dags
COPY --from=notebook-env /opt/loom/notebook-env /opt/loom/notebook-env
USER airflow
# apache-airflow is pinned in it to the image's version, so pip keeps the image's Airflow.
COPY airflow/requirements.txt /tmp/airflow-requirements.txt
RUN pip install --no-cache-dir --disable-pip-version-check -r /tmp/airflow-requirements.txt
ENV LOOM_NOTEBOOK_ENV=/opt/loom/notebook-env \
    LOOM_AIRFLOW_ARTIFACTS_DIR=/data/airflow-artifacts

# --- Loom: web server (gunicorn) and workers (manage.py loom_worker) ---------------------------------
FROM ${PYTHON_IMAGE} AS loom
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends bubblewrap slirp4netns \
 && rm -rf /var/lib/apt/lists/*
# Uid 50000, group 0: the user of Airflow's image, so both write the shared volumes.
RUN useradd --uid 50000 --gid 0 --no-create-home --home-dir /app --shell /usr/sbin/nologin loom
WORKDIR /app
# The locked requirements without the test-only ones (requirements.in's "# tests" section).
COPY requirements.in requirements.txt ./
RUN tests="$(sed -n '/^# tests/,$p' requirements.in | grep -vE '^[[:space:]]*(#|$)' | sed -E 's/[<>=;[ ].*//' | paste -sd'|')" \
 && grep -viE "^(${tests})==" requirements.txt > /tmp/requirements-prod.txt \
 && python -m venv /opt/loom/venv \
 && /opt/loom/venv/bin/pip install --no-cache-dir --disable-pip-version-check -r /tmp/requirements-prod.txt
COPY --from=notebook-env /opt/loom/notebook-env /opt/loom/notebook-env
COPY manage.py gunicorn.conf.py ./
COPY backend backend
COPY dag_templates dag_templates
COPY notebooks notebooks
COPY --from=editor /src/frontend/dist frontend/dist
ENV PATH=/opt/loom/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=loom.settings \
    LOOM_DATA_DIR=/data/loom \
    LOOM_STATIC_ROOT=/app/static \
    LOOM_NOTEBOOK_ENV=/opt/loom/notebook-env \
    LOOM_AIRFLOW_DAGS_DIR=/opt/airflow/dags/loom \
    LOOM_AIRFLOW_ARTIFACTS_DIR=/data/airflow-artifacts
# Hashed, compressed static files for WhiteNoise (loom.storage); throwaway keys, only for this step.
RUN LOOM_DATA_DIR=/tmp/build LOOM_SECRET_KEY=collectstatic LOOM_ENCRYPTION_KEY=collectstatic \
    python manage.py collectstatic --noinput -v0 \
 && python -m compileall -q backend \
 && rm -rf /tmp/build \
 && mkdir -p /data/loom /data/airflow-artifacts /opt/airflow/dags/loom \
 && chown -R 50000:0 /data /opt/airflow
USER 50000:0
EXPOSE 8000
CMD ["gunicorn", "-c", "/app/gunicorn.conf.py"]
