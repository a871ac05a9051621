# The production image: stock Airflow with this project and its locked dependencies installed.
# The Data Docs' npm assets (bootstrap-table, bootstrap-dark) from their lock, in a Node stage of their own.
FROM node:20-bookworm-slim AS data-docs-assets
WORKDIR /assets
COPY src/retention/outputs/data_docs/npm/ ./
RUN npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

FROM apache/airflow:3.3.2-python3.11

USER airflow
WORKDIR /opt/retention
COPY --chown=airflow:root requirements.lock pyproject.toml README.md ./
# Airflow itself comes from the base image; the lock pins the same version.
RUN pip install --no-cache-dir -r requirements.lock
COPY --chown=airflow:root src ./src
COPY --chown=airflow:root --from=data-docs-assets /assets/node_modules ./src/retention/outputs/data_docs/npm/node_modules
COPY --chown=airflow:root dbt_project ./dbt_project
COPY --chown=airflow:root dags ./dags
RUN pip install --no-cache-dir --no-deps -e .

ENV RETENTION_HOME=/opt/retention \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/retention/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False
