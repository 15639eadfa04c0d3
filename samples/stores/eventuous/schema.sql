-- Eventuous's PostgreSQL event store, as Eventuous creates it (schema eventuous): streams keep
-- the name and last version, messages the events with a global_position identity.
CREATE SCHEMA IF NOT EXISTS eventuous;
CREATE TABLE IF NOT EXISTS eventuous.streams (
    stream_name varchar(1000) NOT NULL,
    stream_id   integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
    version     integer NOT NULL DEFAULT (-1),
    CONSTRAINT uq_streams_name UNIQUE (stream_name),
    CONSTRAINT ck_version_gte_negative_one CHECK (version >= -1)
);
CREATE TABLE IF NOT EXISTS eventuous.messages (
    message_id      uuid,
    message_type    varchar NOT NULL,
    stream_id       integer NOT NULL,
    stream_position integer NOT NULL,
    global_position bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
    json_data       jsonb NOT NULL,
    json_metadata   jsonb,
    created         timestamp NOT NULL,
    CONSTRAINT fk_messages_stream FOREIGN KEY (stream_id) REFERENCES eventuous.streams (stream_id),
    CONSTRAINT uq_messages_stream_id_and_stream_position UNIQUE (stream_id, stream_position),
    CONSTRAINT uq_stream_id_and_message_id UNIQUE (stream_id, message_id),
    CONSTRAINT ck_stream_position_gte_zero CHECK (stream_position >= 0)
);
CREATE INDEX IF NOT EXISTS events_stream_idx ON eventuous.messages (stream_id);
