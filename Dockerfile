# Build:  docker build -t buurtpeil .
# Run:    docker compose up   (see docker-compose.yml: PostgreSQL + Mailpit + app)

# ---- build ------------------------------------------------------------------
FROM rust:1-bookworm AS builder
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq-dev cmake libclang-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN cargo build --release --locked

# ---- runtime ----------------------------------------------------------------
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --user-group --home-dir /app --shell /usr/sbin/nologin buurtpeil
COPY --from=builder /app/target/release/buurtpeil /usr/local/bin/buurtpeil
WORKDIR /app
COPY questionnaires/ /app/questionnaires/
COPY data/ /app/data/
# /app itself belongs to the app user so the default SQLite database
# (sqlite://buurtpeil.db, used when DATABASE_URL is not set) can be created;
# the copied questionnaires and data stay read-only (owned by root).
RUN chown buurtpeil:buurtpeil /app
USER buurtpeil
EXPOSE 8080
ENV BUURTPEIL_BIND=0.0.0.0:8080
CMD ["buurtpeil", "serve"]
