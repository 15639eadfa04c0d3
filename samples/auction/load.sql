-- Loads a generated auction ledger. Run from the folder holding the CSV files:
--   psql -v ON_ERROR_STOP=1 -f load.sql
CREATE TABLE IF NOT EXISTS event_store (
  event_id        UUID PRIMARY KEY,
  event_type      VARCHAR(64) NOT NULL,
  aggregate_id    UUID NOT NULL,
  stream_version  BIGINT NOT NULL,
  causation_id    UUID,
  correlation_id  UUID NOT NULL,
  hlc_physical    BIGINT NOT NULL,
  hlc_logical     INTEGER NOT NULL,
  vector_clock    JSONB NOT NULL,
  payload         JSONB NOT NULL,
  metadata        JSONB NOT NULL,
  user_id         UUID,
  recorded_at     TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  UNIQUE (aggregate_id, stream_version)
);
CREATE TABLE IF NOT EXISTS user_balances (
  user_id           UUID PRIMARY KEY,
  available_balance BIGINT NOT NULL,
  reserved_balance  BIGINT NOT NULL,
  pending_balance   BIGINT NOT NULL,
  currency          CHAR(3) NOT NULL DEFAULT 'USD',
  updated_at        TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
\copy event_store FROM 'events.csv' WITH (FORMAT csv, HEADER)
\copy user_balances FROM 'user_balances.csv' WITH (FORMAT csv, HEADER)
CREATE OR REPLACE RULE no_update AS ON UPDATE TO event_store DO INSTEAD NOTHING;
CREATE OR REPLACE RULE no_delete AS ON DELETE TO event_store DO INSTEAD NOTHING;
ANALYZE event_store;
ANALYZE user_balances;
