CREATE TABLE conversations (
    id              text PRIMARY KEY,
    group_id        bytea NOT NULL UNIQUE,
    creator_did     text NOT NULL,
    cipher_suite    smallint NOT NULL,
    epoch           bigint NOT NULL DEFAULT 0,
    last_seq        bigint NOT NULL DEFAULT 0,
    name            text,
    description     text,
    idempotency_key text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_message_at timestamptz,
    UNIQUE (creator_did, idempotency_key)
);

CREATE TABLE members (
    convo_id   text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    did        text NOT NULL,
    joined_at  timestamptz NOT NULL DEFAULT now(),
    left_at    timestamptz,
    leaf_index integer,
    PRIMARY KEY (convo_id, did)
);
CREATE INDEX members_active_by_did ON members (did, joined_at DESC, convo_id) WHERE left_at IS NULL;

CREATE TABLE messages (
    convo_id     text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq          bigint NOT NULL,
    msg_id       text NOT NULL,
    sender_did   text NOT NULL,
    message_type text NOT NULL CHECK (message_type IN ('app', 'commit')),
    epoch        bigint NOT NULL,
    ciphertext   bytea NOT NULL,
    content_hash bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (convo_id, seq),
    UNIQUE (convo_id, msg_id)
);

CREATE TABLE key_packages (
    hash           text PRIMARY KEY,
    did            text NOT NULL,
    cipher_suite   smallint NOT NULL,
    key_package    bytea NOT NULL,
    ref            bytea NOT NULL,
    expires_at     timestamptz NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    reserved_by    text,
    reserved_until timestamptz,
    consumed_at    timestamptz,
    consumed_convo text
);
CREATE INDEX key_packages_available ON key_packages (did, cipher_suite, created_at) WHERE consumed_at IS NULL;
CREATE INDEX key_packages_ref ON key_packages (ref);

CREATE TABLE welcomes (
    convo_id         text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    recipient_did    text NOT NULL,
    key_package_hash text NOT NULL,
    welcome          bytea NOT NULL,
    state            text NOT NULL DEFAULT 'available' CHECK (state IN ('available', 'in_flight', 'consumed')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    fetched_at       timestamptz,
    expires_at       timestamptz NOT NULL,
    PRIMARY KEY (convo_id, recipient_did, key_package_hash)
);

CREATE TABLE outbox (
    id         bigserial PRIMARY KEY,
    subject    text NOT NULL,
    msg_id     text NOT NULL UNIQUE,
    payload    jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
