-- Encrypted attachments: content-addressed files, each readable only through the conversation it was uploaded to.
CREATE TABLE blobs (
    convo_id    text        NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    cid         text        NOT NULL,
    size        bigint      NOT NULL,
    uploaded_by text        NOT NULL,
    uploaded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (convo_id, cid)
);
