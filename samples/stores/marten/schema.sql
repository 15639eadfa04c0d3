-- Marten's event store tables (Marten 7, events in schema public, metadata columns enabled),
-- as Marten creates them: mt_streams, mt_events and the mt_events_sequence behind seq_id.
CREATE TABLE public.mt_streams (
    id               uuid                     NOT NULL,
    type             varchar                  NULL,
    version          bigint                   NULL,
    timestamp        timestamptz              DEFAULT (now()) NOT NULL,
    snapshot         jsonb                    NULL,
    snapshot_version integer                  NULL,
    created          timestamptz              DEFAULT (now()) NOT NULL,
    tenant_id        varchar                  DEFAULT '*DEFAULT*',
    is_archived      bool                     DEFAULT FALSE,
    CONSTRAINT pkey_mt_streams_id PRIMARY KEY (id)
);
CREATE SEQUENCE public.mt_events_sequence;
CREATE TABLE public.mt_events (
    seq_id           bigint                   NOT NULL,
    id               uuid                     NOT NULL,
    stream_id        uuid                     NULL,
    version          bigint                   NOT NULL,
    data             jsonb                    NOT NULL,
    type             varchar(500)             NOT NULL,
    timestamp        timestamp with time zone DEFAULT '(now())' NOT NULL,
    tenant_id        varchar                  DEFAULT '*DEFAULT*',
    mt_dotnet_type   varchar                  NULL,
    correlation_id   varchar                  NULL,
    causation_id     varchar                  NULL,
    user_name        varchar                  NULL,
    headers          jsonb                    NULL,
    is_archived      bool                     DEFAULT FALSE,
    CONSTRAINT pkey_mt_events_seq_id PRIMARY KEY (seq_id),
    CONSTRAINT fkey_mt_events_stream_id FOREIGN KEY (stream_id) REFERENCES public.mt_streams (id) ON DELETE CASCADE
);
ALTER SEQUENCE public.mt_events_sequence OWNED BY public.mt_events.seq_id;
CREATE UNIQUE INDEX pk_mt_events_stream_and_version ON public.mt_events USING btree (stream_id, version);
CREATE UNIQUE INDEX pk_mt_events_id_unique ON public.mt_events USING btree (id);
