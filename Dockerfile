# Gradeloop image for web, worker and gpu-worker (docker-compose.yml). CPU torch by default;
# a GPU image: docker build --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128 .
FROM python:3.11-slim

ARG TORCH_SPEC=torch==2.13.0
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    GRADELOOP_ENV=production GRADELOOP_DATA_DIR=/data PYTHONPATH=/app

WORKDIR /app
# torch first, from the chosen index, so `pip install .` does not pull another build.
RUN pip install --index-url "$TORCH_INDEX_URL" "$TORCH_SPEC"
COPY pyproject.toml README.md wsgi.py ./
COPY config ./config
COPY lti_app ./lti_app
COPY worker ./worker
COPY migrations ./migrations
RUN pip install . && useradd --create-home --uid 1000 gradeloop && mkdir -p /data && chown gradeloop /data && chmod 700 /data

USER gradeloop
VOLUME ["/data"]
EXPOSE 8000
ENTRYPOINT ["gradeloop"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
