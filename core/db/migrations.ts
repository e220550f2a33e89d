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
  {
    version: 2,
    name: 'rules, alerts and their history, silences, webhooks',
    sql: `
CREATE TABLE rules (
  id          text PRIMARY KEY,
  -- The whole definition as validated by rules/definitions.ts; type, severity and scope are
  -- copied out for filtering.
  definition  jsonb NOT NULL,
  type        text NOT NULL,
  severity    text NOT NULL CHECK (severity IN ('critical', 'major', 'minor', 'warning')),
  enabled     boolean NOT NULL DEFAULT true,
  builtin     boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE alerts (
  id                bigserial PRIMARY KEY,
  rule_id           text NOT NULL,
  device_id         text,
  community_id      text REFERENCES communities(id),
  -- Dispatched at raise time to the company then responsible for the community; kept even if the
  -- community later changes hands, so past alerts stay with the company that had them.
  company_id        text REFERENCES property_companies(id),
  source            text NOT NULL CHECK (source IN ('rules', 'node-red', 'resident', 'operator')),
  severity          text NOT NULL CHECK (severity IN ('critical', 'major', 'minor', 'warning')),
  title             text NOT NULL,
  reason            text,
  state             text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'acknowledged', 'in_progress', 'resolved')),
  condition         text NOT NULL DEFAULT 'active' CHECK (condition IN ('active', 'cleared')),
  auto_resolve      boolean NOT NULL DEFAULT false,
  silenced          boolean NOT NULL DEFAULT false,
  flapping          boolean NOT NULL DEFAULT false,
  count             integer NOT NULL DEFAULT 1,
  first_value       double precision,
  last_value        double precision,
  predicted_at      timestamptz,
  raised_at         timestamptz NOT NULL DEFAULT now(),
  last_seen_at      timestamptz NOT NULL DEFAULT now(),
  cleared_at        timestamptz,
  acknowledged_at   timestamptz,
  acknowledged_by   text,
  started_at        timestamptz,
  resolved_at       timestamptz,
  resolved_by       text,
  -- Whether the condition was still active when a person resolved it (re-raise after re-arm).
  resolved_active   boolean,
  rearm_ms          bigint NOT NULL DEFAULT 600000,
  ack_deadline      timestamptz NOT NULL,
  resolve_deadline  timestamptz NOT NULL,
  escalation_level  integer NOT NULL DEFAULT 0,
  escalated_at      timestamptz,
  last_reminded_at  timestamptz,
  resolve_overdue_at timestamptz,
  reraise_of        bigint REFERENCES alerts(id)
);
-- One unresolved alert per (rule, device): repeats update it.
CREATE UNIQUE INDEX alerts_one_unresolved_idx ON alerts (rule_id, device_id) WHERE state <> 'resolved';
CREATE INDEX alerts_company_idx ON alerts (company_id, raised_at DESC);
CREATE INDEX alerts_raised_idx ON alerts (raised_at DESC);
CREATE INDEX alerts_open_deadline_idx ON alerts (ack_deadline) WHERE state = 'open';
CREATE INDEX alerts_rule_device_idx ON alerts (rule_id, device_id, resolved_at DESC);

-- Every transition, comment, escalation and reminder, with who and why. The id orders the live
-- stream (SSE event ids; Last-Event-ID resumes after it).
CREATE TABLE alert_events (
  id        bigserial PRIMARY KEY,
  alert_id  bigint NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
  at        timestamptz NOT NULL DEFAULT now(),
  type      text NOT NULL,
  actor     text NOT NULL,
  note      text,
  data      jsonb
);
CREATE INDEX alert_events_alert_idx ON alert_events (alert_id, id);

-- Maintenance windows: alerts are recorded but marked silenced and notify nobody.
CREATE TABLE silences (
  id            bigserial PRIMARY KEY,
  device_id     text,
  community_id  text,
  rule_id       text,
  starts_at     timestamptz NOT NULL,
  ends_at       timestamptz NOT NULL,
  reason        text NOT NULL,
  created_by    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  CHECK (ends_at > starts_at),
  CHECK (device_id IS NOT NULL OR community_id IS NOT NULL OR rule_id IS NOT NULL)
);

CREATE TABLE webhooks (
  id            text PRIMARY KEY,
  url           text NOT NULL,
  -- The HMAC key must be usable to sign, so it cannot be stored as a one-way hash; it is never
  -- returned after creation and never logged.
  secret        text NOT NULL,
  severities    text[],
  community_ids text[],
  event_types   text[],
  enabled       boolean NOT NULL DEFAULT true,
  created_by    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
  id               bigserial PRIMARY KEY,
  webhook_id       text NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  event_id         bigint NOT NULL REFERENCES alert_events(id) ON DELETE CASCADE,
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  last_status_code integer,
  last_error       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  delivered_at     timestamptz,
  UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';

-- One row per attempt: the delivery log.
CREATE TABLE webhook_attempts (
  id           bigserial PRIMARY KEY,
  delivery_id  bigint NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
  at           timestamptz NOT NULL DEFAULT now(),
  status_code  integer,
  error        text,
  duration_ms  integer
);
`,
  },
  {
    version: 3,
    name: 'residents, community assignments with history, feedback and ratings',
    sql: `
-- Residents are users bound to one community (they give feedback and report hazards there).
ALTER TABLE users ADD COLUMN community_id text REFERENCES communities(id);
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('admin', 'operator', 'crew', 'service', 'resident'));
ALTER TABLE users DROP CONSTRAINT users_check;
ALTER TABLE users ADD CONSTRAINT users_binding_check CHECK (
  (role = 'crew') = (company_id IS NOT NULL) AND (role = 'resident') = (community_id IS NOT NULL));

-- Which company looked after a community when: past alerts and feedback stay with the company
-- that had them (they also carry company_id themselves).
CREATE TABLE community_assignments (
  id            bigserial PRIMARY KEY,
  community_id  text NOT NULL REFERENCES communities(id),
  company_id    text NOT NULL REFERENCES property_companies(id),
  starts_at     timestamptz NOT NULL DEFAULT now(),
  ends_at       timestamptz,
  assigned_by   text NOT NULL,
  note          text,
  CHECK (ends_at IS NULL OR ends_at > starts_at)
);
CREATE UNIQUE INDEX community_assignments_current_idx ON community_assignments (community_id) WHERE ends_at IS NULL;
INSERT INTO community_assignments (community_id, company_id, starts_at, assigned_by, note)
  SELECT id, company_id, created_at, 'migration', 'assignment at the time of the upgrade' FROM communities WHERE company_id IS NOT NULL;

-- Residents' satisfaction with the service in their community.
CREATE TABLE feedback (
  id            bigserial PRIMARY KEY,
  community_id  text NOT NULL REFERENCES communities(id),
  company_id    text REFERENCES property_companies(id),
  rating        integer NOT NULL CHECK (rating BETWEEN 1 AND 5),
  comment       text,
  author        text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX feedback_company_idx ON feedback (company_id, created_at);

-- How the resident (or operator) who confirmed a resolved alert rates its handling.
CREATE TABLE alert_ratings (
  alert_id    bigint PRIMARY KEY REFERENCES alerts(id) ON DELETE CASCADE,
  rating      integer NOT NULL CHECK (rating BETWEEN 1 AND 5),
  comment     text,
  rated_by    text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Hazard reports from residents enter the alert lifecycle with these extra facts.
ALTER TABLE alerts ADD COLUMN location text;
ALTER TABLE alerts ADD COLUMN photo_url text;
ALTER TABLE alerts ADD COLUMN reported_by text;
`,
  },
  {
    version: 4,
    name: 'alerts on server time, person-only credit, community-level guard, one voice per resident',
    sql: `
-- When people were first asked to respond: the raise, or the end of the maintenance window the
-- alert was raised in. Deadlines and the ranking's response times count from here.
ALTER TABLE alerts ADD COLUMN notified_at timestamptz;
UPDATE alerts SET notified_at = raised_at WHERE NOT silenced;
-- Resolved by the producer because the condition cleared (auto-resolve), not by a person: the
-- ranking gives no resolve credit for it.
ALTER TABLE alerts ADD COLUMN resolved_auto boolean NOT NULL DEFAULT false;
UPDATE alerts a SET resolved_auto = true
  WHERE a.state = 'resolved' AND EXISTS (
    SELECT 1 FROM alert_events e WHERE e.alert_id = a.id AND e.type = 'resolved' AND e.note = 'condition cleared (auto-resolve)');

-- One unresolved alert per (rule, device) also when there is no device: NULLs are distinct in a
-- unique index, so the old index let two community-level raises race through. COALESCE works on
-- every PostgreSQL version (NULLS NOT DISTINCT needs 15). Duplicates already there are resolved
-- first, keeping the newest.
UPDATE alerts a SET state = 'resolved', resolved_at = now(), resolved_by = 'migration', resolved_active = false
  WHERE a.state <> 'resolved' AND a.device_id IS NULL
    AND EXISTS (SELECT 1 FROM alerts b WHERE b.rule_id = a.rule_id AND b.device_id IS NULL AND b.state <> 'resolved' AND b.id > a.id);
DROP INDEX alerts_one_unresolved_idx;
CREATE UNIQUE INDEX alerts_one_unresolved_idx ON alerts (rule_id, COALESCE(device_id, '')) WHERE state <> 'resolved';
CREATE INDEX alerts_resolved_idx ON alerts (resolved_at) WHERE state = 'resolved';

-- One feedback per author, community and calendar month (UTC): a newer one replaces it. Older
-- duplicates are dropped, keeping the newest.
ALTER TABLE feedback ADD COLUMN period date;
UPDATE feedback SET period = date_trunc('month', created_at AT TIME ZONE 'UTC')::date;
ALTER TABLE feedback ALTER COLUMN period SET NOT NULL;
DELETE FROM feedback f USING feedback g
  WHERE g.community_id = f.community_id AND g.author = f.author AND g.period = f.period AND g.id > f.id;
CREATE UNIQUE INDEX feedback_one_per_period_idx ON feedback (community_id, author, period);

-- One rating per rater and alert: a resident replaces their own rating, never someone else's.
ALTER TABLE alert_ratings DROP CONSTRAINT alert_ratings_pkey;
ALTER TABLE alert_ratings ADD PRIMARY KEY (alert_id, rated_by);
`,
  },
  {
    version: 5,
    name: 'notifications: channels, contact points, rotas, escalation policies, the outbox',
    sql: `
-- A way to reach people: an SMS gateway account, a mail server, a group bot. Owned by a company
-- or, with company_id NULL, by the housing office. Credentials are sealed with AES-256-GCM
-- (core/crypto.ts) and never leave the server.
CREATE TABLE notify_channels (
  id          text PRIMARY KEY,
  company_id  text REFERENCES property_companies(id) ON DELETE CASCADE,
  kind        text NOT NULL,
  name        text NOT NULL,
  settings    jsonb NOT NULL DEFAULT '{}',
  secrets     text,
  enabled     boolean NOT NULL DEFAULT true,
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- How one person is reached, in their order of preference (position 0 first).
CREATE TABLE contact_points (
  id          bigserial PRIMARY KEY,
  user_id     text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kind        text NOT NULL CHECK (kind IN ('phone', 'email', 'wecom', 'dingtalk', 'feishu', 'webpush')),
  address     text NOT NULL,
  locale      text NOT NULL DEFAULT 'zh-CN' CHECK (locale IN ('zh-CN', 'en')),
  position    integer NOT NULL DEFAULT 0,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, kind, address)
);

-- Weekly rotations: members[k mod n] is on call from the k-th hand-over after starts_on.
-- role: crew (first responders), manager (the company's), duty (the housing office's officer).
CREATE TABLE rotas (
  id            text PRIMARY KEY,
  company_id    text REFERENCES property_companies(id) ON DELETE CASCADE,
  role          text NOT NULL CHECK (role IN ('crew', 'manager', 'duty')),
  name          text NOT NULL,
  timezone      text NOT NULL DEFAULT 'Asia/Shanghai',
  starts_on     date NOT NULL,
  handover_time text NOT NULL DEFAULT '09:00' CHECK (handover_time ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
  members       text[] NOT NULL CHECK (cardinality(members) > 0),
  created_by    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  CHECK ((role = 'duty') = (company_id IS NULL))
);
CREATE UNIQUE INDEX rotas_owner_role_idx ON rotas (COALESCE(company_id, ''), role);

-- A swap or a cover: user_id is on call instead of the scheduled member for [starts_at, ends_at).
CREATE TABLE rota_overrides (
  id          bigserial PRIMARY KEY,
  rota_id     text NOT NULL REFERENCES rotas(id) ON DELETE CASCADE,
  user_id     text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kind        text NOT NULL CHECK (kind IN ('swap', 'cover')),
  starts_at   timestamptz NOT NULL,
  ends_at     timestamptz NOT NULL,
  note        text,
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  CHECK (ends_at > starts_at)
);
CREATE INDEX rota_overrides_rota_idx ON rota_overrides (rota_id, starts_at);

-- The shift hand-over register.
CREATE TABLE rota_handovers (
  id          bigserial PRIMARY KEY,
  rota_id     text NOT NULL REFERENCES rotas(id) ON DELETE CASCADE,
  at          timestamptz NOT NULL DEFAULT now(),
  author      text NOT NULL,
  note        text NOT NULL
);
CREATE INDEX rota_handovers_rota_idx ON rota_handovers (rota_id, at DESC);

-- Escalation policies per severity (notify/policy.ts); a missing row means the built-in default.
CREATE TABLE escalation_policies (
  severity    text PRIMARY KEY CHECK (severity IN ('critical', 'major', 'minor', 'warning')),
  definition  jsonb NOT NULL,
  updated_by  text NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- The outbox: one row per alert event, recipient and channel, written in the transaction of the
-- event. The unique key is the deduplication: the same event never pages the same address twice.
CREATE TABLE notify_deliveries (
  id               bigserial PRIMARY KEY,
  alert_id         bigint NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
  event_id         bigint NOT NULL REFERENCES alert_events(id) ON DELETE CASCADE,
  step             integer NOT NULL,
  company_id       text,
  channel_id       text NOT NULL REFERENCES notify_channels(id) ON DELETE CASCADE,
  user_id          text REFERENCES users(id) ON DELETE SET NULL,
  address          text NOT NULL DEFAULT '',
  locale           text NOT NULL DEFAULT 'zh-CN',
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
  held_until       timestamptz,
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL,
  last_status      text,
  last_detail      text,
  created_at       timestamptz NOT NULL,
  delivered_at     timestamptz,
  link_expires_at  timestamptz NOT NULL,
  link_used_at     timestamptz,
  UNIQUE (event_id, channel_id, address)
);
CREATE INDEX notify_deliveries_due_idx ON notify_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX notify_deliveries_alert_idx ON notify_deliveries (alert_id, id);

-- Every attempt (and every wait for a rate limit): the delivery log.
CREATE TABLE notify_attempts (
  id           bigserial PRIMARY KEY,
  delivery_id  bigint NOT NULL REFERENCES notify_deliveries(id) ON DELETE CASCADE,
  channel_id   text NOT NULL,
  company_id   text,
  at           timestamptz NOT NULL,
  sent         boolean NOT NULL,
  ok           boolean NOT NULL,
  status       text NOT NULL,
  detail       text NOT NULL,
  retry_at     timestamptz
);
CREATE INDEX notify_attempts_delivery_idx ON notify_attempts (delivery_id, id);
CREATE INDEX notify_attempts_channel_idx ON notify_attempts (channel_id, at) WHERE sent;
CREATE INDEX notify_attempts_company_idx ON notify_attempts (company_id, at) WHERE sent;
`,
  },
  {
    version: 6,
    name: 'alerts: the crew on its way and on site',
    sql: `
-- The crew's steps between acknowledging and resolving (api/alerts/service.ts): the first
-- "on my way" and the first "arrived on site"; the ranking's time to arrive counts from the latter.
ALTER TABLE alerts ADD COLUMN en_route_at timestamptz;
ALTER TABLE alerts ADD COLUMN arrived_at timestamptz;
`,
  },
  {
    version: 7,
    name: 'notifications: a company\'s own escalation policies',
    sql: `
-- A company may have its own policy for a severity (notify/policy.ts); for its alerts it wins over
-- the housing office's (company_id NULL), which wins over the built-in default.
ALTER TABLE escalation_policies ADD COLUMN company_id text REFERENCES property_companies(id) ON DELETE CASCADE;
ALTER TABLE escalation_policies DROP CONSTRAINT escalation_policies_pkey;
CREATE UNIQUE INDEX escalation_policies_owner_idx ON escalation_policies (COALESCE(company_id, ''), severity);
`,
  },
  {
    version: 8,
    name: 'alerts: photos',
    sql: `
-- Photos attached to an alert: a crew's proof of the repair, a resident's picture of the hazard
-- (api/routes/photos.ts). In the database, not on a local disk, so every API process behind a load
-- balancer serves every photo and a backup of the database holds them; each is at most
-- PHOTO_MAX_BYTES (5 MB by default) and an alert has at most PHOTOS_PER_ALERT of them. They go
-- with their alert.
CREATE TABLE alert_photos (
  id            bigserial PRIMARY KEY,
  alert_id      bigint NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
  content_type  text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
  size          integer NOT NULL,
  bytes         bytea NOT NULL,
  uploaded_by   text NOT NULL,
  uploaded_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_photos_alert_idx ON alert_photos (alert_id, id);
`,
  },
  {
    version: 9,
    name: 'device profiles and external device ids',
    sql: `
-- Device profiles (core/profiles/schema.ts): the definition is stored whole, as validated; kind is
-- copied out to check that a device and its profile agree.
CREATE TABLE device_profiles (
  id          text PRIMARY KEY,
  kind        text NOT NULL,
  definition  jsonb NOT NULL,
  builtin     boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
-- A profile in use cannot be deleted (RESTRICT): the devices would lose their decoder.
ALTER TABLE devices ADD COLUMN profile_id text REFERENCES device_profiles(id) ON DELETE RESTRICT;
-- The ids other networks know a device by: LoRaWAN DevEUI (16 hex digits, stored lower-case) and
-- the IMEI of an NB-IoT or Cat.1 module (15 digits). Each names at most one device.
ALTER TABLE devices ADD COLUMN dev_eui text;
ALTER TABLE devices ADD COLUMN imei text;
CREATE UNIQUE INDEX devices_dev_eui_key ON devices (dev_eui) WHERE dev_eui IS NOT NULL;
CREATE UNIQUE INDEX devices_imei_key ON devices (imei) WHERE imei IS NOT NULL;
CREATE INDEX devices_profile_idx ON devices (profile_id) WHERE profile_id IS NOT NULL;
`,
  },
  {
    version: 10,
    name: 'dead letters recorded once per resent message',
    sql: `
-- The identity of a rejection whose message its sender may resend (core/repos/dead-letters.ts
-- deadLetterKey): a platform's retry of a rejected push adds no second row. NULL for messages
-- without one (MQTT), which keep a row per arrival.
ALTER TABLE dead_letters ADD COLUMN dedup_key text;
CREATE UNIQUE INDEX dead_letters_dedup_key ON dead_letters (dedup_key) WHERE dedup_key IS NOT NULL;
`,
  },
  {
    version: 11,
    name: 'device coordinates',
    sql: `
-- Where a device itself is (WGS 84 degrees), as a bulk import (POST /api/v1/devices/import) gives
-- it. Kept and returned with the device; the map still places devices at their community's point.
ALTER TABLE devices ADD COLUMN latitude double precision CHECK (latitude BETWEEN -90 AND 90);
ALTER TABLE devices ADD COLUMN longitude double precision CHECK (longitude BETWEEN -180 AND 180);
`,
  },
  {
    version: 12,
    name: 'disabled users',
    sql: `
-- When an admin disabled the user (PATCH /api/v1/users/:id); NULL while enabled. Every token check
-- (core/repos/tokens.ts) refuses a disabled user's tokens; they are not revoked, so enabling the
-- user again makes the unexpired, unrevoked ones work.
ALTER TABLE users ADD COLUMN disabled_at timestamptz;
`,
  },
  {
    version: 13,
    name: 'alert reason as data',
    sql: `
-- Why the rules engine raised the alert, as a key and its parameters (core/reason-detail.ts), so
-- each reader renders it in its own language; the reason column keeps the English text. NULL for alerts
-- of older rules processes, flows, residents and operators.
ALTER TABLE alerts ADD COLUMN reason_detail jsonb;
`,
  },
  {
    version: 14,
    name: 'audit log',
    sql: `
-- Who changed the configuration (api/plugins/audit.ts): one row per successful change made
-- through /api/v1 by a person, and per refusal (403) of one. No foreign keys: the record outlives
-- the user, the rule or the device it names. Pruned by age (AUDIT_RETENTION_DAYS, by at).
CREATE TABLE audit_log (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  actor_id    text NOT NULL,
  actor_name  text NOT NULL,
  actor_role  text NOT NULL,
  -- The company the change concerns where known: the actor's own (a crew member), else one the
  -- request names (companyId, or the company in the path).
  company_id  text,
  action      text NOT NULL,
  method      text NOT NULL,
  route       text NOT NULL,
  -- The path parameters, plus the id of what a create made; target_ids holds their values for lookups.
  target      jsonb NOT NULL DEFAULT '{}',
  target_ids  text[] NOT NULL DEFAULT '{}',
  query       jsonb,
  -- The request body with secrets redacted, cut to a few KB; a non-JSON body as its type and size.
  body        jsonb,
  status      smallint NOT NULL,
  request_id  text NOT NULL,
  ip          text
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_actor_id_idx ON audit_log (actor_id, id);
CREATE INDEX audit_log_actor_name_idx ON audit_log (actor_name, id);
CREATE INDEX audit_log_action_idx ON audit_log (action, id);
CREATE INDEX audit_log_target_idx ON audit_log USING gin (target_ids);
`,
  },
  {
    version: 15,
    name: 'commit-ordered feed',
    sql: `
-- The commit-ordered feed (core/feed.ts): one row per transaction that committed readings or a
-- status change, written in that transaction. Read in (xid, id) order below the oldest feed writer
-- still running (core/repos/feed.ts), so a reader that keeps its position never skips a committed
-- row. Pruned by age (FEED_RETENTION).
CREATE TABLE feed (
  xid      xid8 NOT NULL DEFAULT pg_current_xact_id(),
  id       bigint GENERATED ALWAYS AS IDENTITY,
  at       timestamptz NOT NULL DEFAULT now(),
  -- Bit b set: the row holds entries of bucket b (core/feed.ts).
  buckets  bigint NOT NULL,
  entries  text NOT NULL,
  PRIMARY KEY (xid, id)
);
CREATE INDEX feed_at_idx ON feed (at);

-- Each reader's position: the last row it has dealt with (rules: every report it made up to
-- there is delivered). One row per consumer, e.g. 'rules:0/2'.
CREATE TABLE feed_cursors (
  consumer    text PRIMARY KEY,
  xid         xid8 NOT NULL,
  id          bigint NOT NULL,
  at          timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- A registry change reaches every partition before any later reading (issue 17): it bumps this
-- version in its own transaction, every read of the feed returns the version it read under, and
-- the rules engine reloads devices, rules and profiles when it changed. Registry writers hold this
-- row's lock to their commit (they are rare: an edit, an import); feed writers never touch it.
CREATE TABLE registry_version (
  one      boolean PRIMARY KEY DEFAULT true CHECK (one),
  version  bigint NOT NULL
);
INSERT INTO registry_version (one, version) VALUES (true, 0);
CREATE FUNCTION registry_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE registry_version SET version = version + 1;
  PERFORM pg_notify('hb_feed', '-1');
  RETURN NULL;
END
$$;
CREATE TRIGGER devices_registry AFTER INSERT OR DELETE OR UPDATE OF kind, community_id, gateway_id, enabled, expected_interval_s, profile_id
  ON devices FOR EACH STATEMENT EXECUTE FUNCTION registry_changed();
CREATE TRIGGER rules_registry AFTER INSERT OR UPDATE OR DELETE ON rules FOR EACH STATEMENT EXECUTE FUNCTION registry_changed();
CREATE TRIGGER device_profiles_registry AFTER INSERT OR UPDATE OR DELETE ON device_profiles FOR EACH STATEMENT EXECUTE FUNCTION registry_changed();

-- The device time of the transition a rules engine reported (raise) and of the clear: a report
-- re-sent after a restart (the engine re-evaluates what it had not confirmed) is recognised and
-- ignored instead of raising the fault twice.
ALTER TABLE alerts ADD COLUMN fault_at timestamptz;
ALTER TABLE alerts ADD COLUMN fault_cleared_at timestamptz;
`,
  },
  {
    version: 16,
    name: 'platform pushes: device opt-in and seen nonces',
    sql: `
-- A OneNET / CTWing push without an IMEI may name a device by its id only where the device opted
-- in (issue 18): a platform token otherwise reached every device, MQTT-only ones included.
ALTER TABLE devices ADD COLUMN platform_id_fallback boolean NOT NULL DEFAULT false;

-- Nonces of signed pushes already processed (core/repos/receiver-nonces.ts), shared by every API
-- process, so a captured push replayed to any of them is refused. Kept until expires_at (the
-- receiver's window), then pruned.
CREATE TABLE receiver_nonces (
  platform    text NOT NULL,
  nonce       text NOT NULL,
  expires_at  timestamptz NOT NULL,
  PRIMARY KEY (platform, nonce)
);
CREATE INDEX receiver_nonces_expires_idx ON receiver_nonces (expires_at);
`,
  },
  {
    version: 17,
    name: 'residents usage ledger',
    sql: `
-- What each resident has used of their limits (issue 18): one row per hazard report and per photo
-- a resident sent, written before the report or photo is stored, under a per-user advisory lock
-- (core/repos/resident-usage.ts), so fifty concurrent requests cannot all pass the check. Rows
-- older than the longest window (a day) are pruned by the next request of that user.
CREATE TABLE resident_usage (
  id       bigserial PRIMARY KEY,
  user_id  text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kind     text NOT NULL CHECK (kind IN ('report', 'photo_bytes')),
  amount   bigint NOT NULL CHECK (amount > 0),
  at       timestamptz NOT NULL
);
CREATE INDEX resident_usage_user_idx ON resident_usage (user_id, kind, at);
`,
  },
  {
    version: 18,
    name: 'device places',
    sql: `
-- Where a device is, so a crew member finds the door (issue 20): building, unit and floor as the
-- residents write them ("3", "B1", "A座"), a free position text, and an elevator's registration
-- code (电梯注册代码) and rescue code (救援识别码). Lengths as shared/place.ts PLACE_MAX and
-- ELEVATOR_CODE; the API refuses the codes for other kinds with a message, the CHECK only backs it.
ALTER TABLE devices
  ADD COLUMN building text CHECK (char_length(building) <= 40),
  ADD COLUMN unit text CHECK (char_length(unit) <= 40),
  ADD COLUMN floor text CHECK (char_length(floor) <= 20),
  ADD COLUMN location text CHECK (char_length(location) <= 200),
  ADD COLUMN registration_code text CHECK (char_length(registration_code) <= 40),
  ADD COLUMN rescue_code text CHECK (char_length(rescue_code) <= 20),
  ADD CONSTRAINT devices_elevator_codes CHECK (kind = 'elevator' OR (registration_code IS NULL AND rescue_code IS NULL));
`,
  },
  {
    version: 19,
    name: 'alerts assigned to a person',
    sql: `
-- Who has an alert (issue 20): claimed by a crew member or assigned by the office or the company's
-- manager, by user name like acknowledged_by and resolved_by; the history keeps every hand-over.
ALTER TABLE alerts ADD COLUMN assigned_to text;
ALTER TABLE alerts ADD COLUMN assigned_at timestamptz;
CREATE INDEX alerts_assigned_open_idx ON alerts (assigned_to) WHERE state <> 'resolved';
`,
  },
  {
    version: 20,
    name: 'alerts residents may see',
    sql: `
-- What residents see (issue 20): their own reports, and the alerts the office made public for
-- their community (a burst main, a lift out of service) — not every sensor alert, which alarms
-- and means nothing to them. The crew may give a public resolution note with the resolve.
ALTER TABLE alerts ADD COLUMN public boolean NOT NULL DEFAULT false;
ALTER TABLE alerts ADD COLUMN public_note text CHECK (char_length(public_note) <= 2000);
CREATE INDEX alerts_public_community_idx ON alerts (community_id, id) WHERE public;
`,
  },
  {
    version: 21,
    name: 'passwords and sessions',
    sql: `
-- Sign-in like a person (issue 20): a password per user, hashed with scrypt with its parameters in
-- the text (core/passwords.ts), and console sessions whose cookie is kept only as its SHA-256.
-- must_change_password is set when an admin or the CLI chose the password; the user's next
-- sign-in can do nothing but change it.
ALTER TABLE users ADD COLUMN password_hash text;
ALTER TABLE users ADD COLUMN must_change_password boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN password_changed_at timestamptz;
CREATE TABLE sessions (
  id            text PRIMARY KEY,
  user_id       text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_hash    text NOT NULL UNIQUE,
  created_at    timestamptz NOT NULL,
  last_seen_at  timestamptz NOT NULL,
  expires_at    timestamptz NOT NULL,
  ended_at      timestamptz
);
CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE ended_at IS NULL;
`,
  },
  {
    version: 22,
    name: 'wecom sign-in',
    sql: `
-- Signing in with WeCom (企业微信, issue 20): an admin links a user to their WeCom userid (unique,
-- compared without case as WeCom does), and the state of each sign-in under way is kept here so
-- that it is used once, by any API process, and expires (core/repos/sign-in-states.ts).
ALTER TABLE users ADD COLUMN wecom_user_id text CHECK (char_length(wecom_user_id) BETWEEN 1 AND 64);
CREATE UNIQUE INDEX users_wecom_user_id_idx ON users (lower(wecom_user_id));
CREATE TABLE sign_in_states (
  state_hash  text PRIMARY KEY,
  provider    text NOT NULL,
  expires_at  timestamptz NOT NULL
);
CREATE INDEX sign_in_states_expiry_idx ON sign_in_states (expires_at);
`,
  },
  {
    version: 23,
    name: 'site plans',
    sql: `
-- A community's site plan (issue 20): one image per community (PNG, JPEG or WebP, judged by its
-- bytes; at most SITE_PLAN_MAX_BYTES), with its pixel size read from its header and its SHA-256 as
-- the ETag. Devices stand on it at fractions of its width and height (0..1, from the top left), so a
-- plan replaced by a scan of another resolution keeps every device where it was. Deleting the plan
-- keeps the positions: uploading it again puts the devices back.
CREATE TABLE site_plans (
  community_id  text PRIMARY KEY REFERENCES communities(id) ON DELETE CASCADE,
  content_type  text NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg', 'image/webp')),
  width         integer NOT NULL CHECK (width > 0),
  height        integer NOT NULL CHECK (height > 0),
  size          integer NOT NULL CHECK (size > 0),
  sha256        text NOT NULL,
  bytes         bytea NOT NULL,
  uploaded_by   text NOT NULL,
  uploaded_at   timestamptz NOT NULL
);
ALTER TABLE devices
  ADD COLUMN plan_x double precision CHECK (plan_x >= 0 AND plan_x <= 1),
  ADD COLUMN plan_y double precision CHECK (plan_y >= 0 AND plan_y <= 1),
  ADD CONSTRAINT devices_plan_xy CHECK ((plan_x IS NULL) = (plan_y IS NULL));
`,
  },
  {
    // 22 and 23 are taken by other work of the same issue (WeCom sign-in, the site plan).
    version: 24,
    name: 'one-time codes at sign-in',
    sql: `
-- TOTP (RFC 6238) as a second step of signing in (issue 20; core/totp.ts). The secret must be
-- usable, so it is sealed like channel credentials (core/crypto.ts, the user's id as additional
-- data), never hashed; totp_pending holds an enrolment not yet confirmed with a code.
-- totp_last_step is the step of the last code accepted: the same code is refused a second time.
-- Recovery codes and sign-in tickets are random, so a SHA-256 of each is enough to keep.
ALTER TABLE users ADD COLUMN totp_secret text;
ALTER TABLE users ADD COLUMN totp_enabled_at timestamptz;
ALTER TABLE users ADD COLUMN totp_last_step bigint;
ALTER TABLE users ADD COLUMN totp_pending text;
ALTER TABLE users ADD COLUMN totp_pending_at timestamptz;
CREATE TABLE totp_recovery_codes (
  user_id    text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  code_hash  text NOT NULL,
  used_at    timestamptz,
  PRIMARY KEY (user_id, code_hash)
);
-- A password accepted, the code still owed: single use, five minutes, a few wrong codes at most.
CREATE TABLE sign_in_tickets (
  token_hash  text PRIMARY KEY,
  user_id     text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  expires_at  timestamptz NOT NULL,
  failures    integer NOT NULL DEFAULT 0
);
CREATE INDEX sign_in_tickets_expiry_idx ON sign_in_tickets (expires_at);
`,
  },
  {
    // 25 is taken by other work of the same issue.
    version: 26,
    name: 'dingtalk sign-in',
    sql: `
-- Signing in with DingTalk (钉钉, issue 20): an admin links a user to their DingTalk unionId, the
-- same for every app of the organisation; one user per unionId. DingTalk's ids are case-sensitive.
ALTER TABLE users ADD COLUMN dingtalk_union_id text CHECK (char_length(dingtalk_union_id) BETWEEN 1 AND 64);
CREATE UNIQUE INDEX users_dingtalk_union_id_idx ON users (dingtalk_union_id);
`,
  },
  {
    version: 27,
    name: 'alert groups',
    sql: `
-- Grouping (issue 21; alerts/grouping.ts): alerts of the same key (rule and community by
-- default) raised within a window of the first form one group — one row on the board, one page
-- and then a digest. A group's id is its first alert's id; the window closes at closes_at.
-- size counts its members, so the board's JSON reads it without counting. Raises of one key
-- take a transaction-scoped advisory lock on the key, so two at once find one group.
CREATE TABLE alert_groups (
  id         bigint PRIMARY KEY,
  key        text NOT NULL,
  opened_at  timestamptz NOT NULL,
  closes_at  timestamptz NOT NULL,
  size       integer NOT NULL DEFAULT 1 CHECK (size >= 1)
);
CREATE INDEX alert_groups_key_idx ON alert_groups (key, closes_at DESC);
ALTER TABLE alerts ADD COLUMN group_id bigint;
CREATE INDEX alerts_group_idx ON alerts (group_id) WHERE group_id IS NOT NULL;
-- A digest: one message per recipient of the group's first page, sent when the window closes,
-- listing the members raised after the first (notify/digest.ts). Its row belongs to the member
-- whose raise queued it; acknowledging that member does not cancel it.
ALTER TABLE notify_deliveries ADD COLUMN digest_of bigint;
CREATE UNIQUE INDEX notify_deliveries_digest_idx ON notify_deliveries (digest_of, channel_id, address) WHERE digest_of IS NOT NULL;
`,
  },
  {
    version: 28,
    name: 'alert titles as data',
    sql: `
-- A title in the reader's language (issue 21: "Resident report:" reached Chinese SMS): a resident's
-- report keeps its words and the frame around them as a key and parameters (shared/alert-title.ts);
-- title keeps the English for API readers. Null for rule alerts (the catalogue titles them) and old rows.
ALTER TABLE alerts ADD COLUMN title_detail jsonb;
`,
  },
  {
    // 29–31 were set aside for other work of issue 21 and not needed.
    version: 32,
    name: 'hotline cases',
    sql: `
-- 12345 citizen-hotline work orders (issue 22; api/hotline/import.ts): imported, never typed in,
-- one row per case number, so importing the same export twice updates rather than duplicates.
-- company_id is the company that looked after the community when the case was received (the
-- assignment history), fixed at import like an alert's dispatch; satisfaction is the citizen's
-- rating on the 1–5 scale of residents' feedback (满意 5, 基本满意 3, 不满意 1 when an export words it).
CREATE TABLE hotline_cases (
  case_no       text PRIMARY KEY CHECK (char_length(case_no) BETWEEN 1 AND 64),
  community_id  text NOT NULL REFERENCES communities(id),
  company_id    text REFERENCES property_companies(id),
  received_at   timestamptz NOT NULL,
  category      text CHECK (char_length(category) <= 60),
  summary       text CHECK (char_length(summary) <= 1000),
  handled_at    timestamptz CHECK (handled_at >= received_at),
  satisfaction  smallint CHECK (satisfaction BETWEEN 1 AND 5),
  imported_by   text NOT NULL,
  imported_at   timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX hotline_cases_company_idx ON hotline_cases (company_id, received_at);
CREATE INDEX hotline_cases_community_idx ON hotline_cases (community_id, received_at);
`,
  },
  {
    version: 33,
    name: 'score weights versions',
    sql: `
-- Weights as data (issue 22; alerts/weights.ts): each row is an immutable version of the score's
-- weights, taking effect from effective_from; a period is scored by the version in force at its
-- start. Before the first row the built-in version (EVAL_WEIGHTS) is in force. Rows are only
-- appended, each later than the last (api/routes/score-weights.ts); weights maps a component to
-- its weight, summing to 1.
CREATE TABLE score_weights (
  version         integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  effective_from  timestamptz NOT NULL UNIQUE,
  weights         jsonb NOT NULL CHECK (jsonb_typeof(weights) = 'object'),
  note            text NOT NULL CHECK (char_length(note) BETWEEN 1 AND 500),
  created_by      text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now()
);
-- A version once made scores its periods for good: the database refuses to change or delete one.
CREATE FUNCTION score_weights_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'score_weights versions are immutable; add a new version instead';
END
$$;
CREATE TRIGGER score_weights_immutable BEFORE UPDATE OR DELETE ON score_weights
  FOR EACH ROW EXECUTE FUNCTION score_weights_immutable();
`,
  },
  {
    version: 34,
    name: 'streets',
    sql: `
-- Streets (街道/镇, issue 22): the level between the district and its communities. A community
-- belongs to at most one street; existing communities have none until the office sets it (the
-- free-text communities.street stays: it is a road or a place name, not the administration).
-- A street officer (街道监管员) is scoped to one street like a crew member to one company.
CREATE TABLE streets (
  id          text PRIMARY KEY,
  name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 120),
  district    text CHECK (char_length(district) <= 80),
  created_at  timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE communities ADD COLUMN street_id text REFERENCES streets(id);
CREATE INDEX communities_street_idx ON communities (street_id) WHERE street_id IS NOT NULL;
ALTER TABLE users ADD COLUMN street_id text REFERENCES streets(id);
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('admin', 'operator', 'crew', 'service', 'resident', 'street_officer'));
ALTER TABLE users ADD CONSTRAINT users_street_officer_street CHECK ((role = 'street_officer') = (street_id IS NOT NULL));
`,
  },
]
