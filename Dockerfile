FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 LOTSE_DATA_DIR=/data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY core core
COPY content content
COPY nlu nlu
COPY bot bot
COPY api api
COPY lotse lotse
RUN apt-get update && apt-get install -y --no-install-recommends fonts-noto-core postgresql-client && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir ".[postgres]" && lotse nlu train
RUN useradd --system --home /data lotse && mkdir -p /data && chown lotse /data
USER lotse
EXPOSE 8000
CMD ["lotse", "serve", "--host", "0.0.0.0", "--port", "8000"]
