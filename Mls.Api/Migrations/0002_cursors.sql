CREATE TABLE cursors (
    did        text NOT NULL,
    convo_id   text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    cursor     bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (did, convo_id)
);
