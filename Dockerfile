# One image for every hitwatch service; the compose file picks the role by command.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_COMPILE_BYTECODE=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv PATH=/opt/venv/bin:$PATH \
    HITWATCH_DATA_DIR=/var/lib/hitwatch

# Pango and Noto CJK: the digest's PDF rendering (WeasyPrint) with Chinese fonts embedded;
# antiword: the text of legacy Word (.doc) attachments.
RUN apt-get update && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk antiword \
    && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir uv && useradd --system --create-home hitwatch \
    && mkdir -p /var/lib/hitwatch && chown hitwatch /var/lib/hitwatch
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY hitwatch hitwatch
COPY crawler crawler
COPY classifier classifier
COPY indexer indexer
COPY notifier notifier
COPY webapp webapp
RUN uv sync --frozen --no-dev

USER hitwatch
ENTRYPOINT ["hitwatch"]
CMD ["--help"]
