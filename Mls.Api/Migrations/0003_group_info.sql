-- The latest GroupInfo members publish, for external joins (rejoining after a lost state).
CREATE TABLE group_info (
    convo_id   text        PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
    epoch      bigint      NOT NULL,
    group_info bytea       NOT NULL,
    updated_by text        NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
