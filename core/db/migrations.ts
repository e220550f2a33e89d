// Versioned schema migrations. Append only: a migration that has shipped is never edited.
// Each runs once, in order, inside the migration transaction (see migrate.ts).

export interface Migration {
  version: number
  name: string
  sql: string
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'registry, readings, dead letters, tokens',
    sql: `
CREATE TABLE property_companies (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  contact     text,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE communities (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  district    text,
  street      text,
  address     text,
  lat         double precision,
  lon         double precision,
  company_id  text REFERENCES property_companies(id),
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE devices (
  id                  text PRIMARY KEY,
  kind                text NOT NULL CHECK (kind IN ('manhole', 'fire_tank', 'elevator', 'gateway')),
  name                text,
  community_id        text NOT NULL REFERENCES communities(id),
  gateway_id          text REFERENCES devices(id),
  -- scrypt$N$r$p$salt$hash (see core/secrets.ts); the secret itself is never stored.
  secret_hash         text NOT NULL,
  enabled             boolean NOT NULL DEFAULT true,
  expected_interval_s integer NOT NULL DEFAULT 60 CHECK (expected_interval_s > 0),
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  CHECK (gateway_id IS NULL OR gateway_id <> id)
);
CREATE INDEX devices_community_idx ON devices (community_id);
CREATE INDEX devices_gateway_idx ON devices (gateway_id) WHERE gateway_id IS NOT NULL;

-- The narrow readings table. The primary key makes a redelivered message harmless
-- (INSERT ... ON CONFLICT DO NOTHING) and serves the per-device, per-metric time-range scans.
-- No foreign key to devices: ingest validates the device, and a key check per row would halve
-- the insert rate.
CREATE TABLE readings (
  device_id  text NOT NULL,
  metric     text NOT NULL,
  ts         timestamptz NOT NULL,
  value      double precision NOT NULL,
  PRIMARY KEY (device_id, metric, ts)
);

-- One row per device and metric: the newest reading, so the console never scans readings.
CREATE TABLE latest (
  device_id    text NOT NULL,
  metric       text NOT NULL,
  ts           timestamptz NOT NULL,
  value        double precision NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (device_id, metric)
);

-- Connectivity as the broker sees it (CONNECT, DISCONNECT and the Last Will).
CREATE TABLE device_status (
  device_id   text PRIMARY KEY,
  status      text NOT NULL CHECK (status IN ('online', 'offline')),
  changed_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE dead_letters (
  id               bigserial PRIMARY KEY,
  received_at      timestamptz NOT NULL DEFAULT now(),
  client_id        text,
  topic            text NOT NULL,
  device_id        text,
  reason_code      text NOT NULL,
  reason           text NOT NULL,
  payload_excerpt  text
);
CREATE INDEX dead_letters_received_idx ON dead_letters (received_at DESC);
CREATE INDEX dead_letters_device_idx ON dead_letters (device_id, received_at DESC);

CREATE TABLE users (
  id          text PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  role        text NOT NULL CHECK (role IN ('admin', 'operator', 'crew', 'service')),
  company_id  text REFERENCES property_companies(id),
  created_at  timestamptz NOT NULL DEFAULT now(),
  CHECK ((role = 'crew') = (company_id IS NOT NULL))
);

CREATE TABLE api_tokens (
  id            text PRIMARY KEY,
  user_id       text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  -- sha256 of the token; tokens are 256-bit random, so a fast hash is enough (no dictionary to try).
  token_hash    text NOT NULL UNIQUE,
  label         text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz,
  revoked_at    timestamptz,
  last_used_at  timestamptz
);
`,
  },
]
