-- Responses remembered per caller and idempotencyKey, so a retried request gets the same answer, even after a restart.
CREATE TABLE idempotency_keys (
    caller       text        NOT NULL,
    key          text        NOT NULL,
    route        text        NOT NULL,
    request_hash bytea       NOT NULL,
    response     text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (caller, key)
);
