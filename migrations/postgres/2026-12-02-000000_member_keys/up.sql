-- Rejoin keys of anonymous session members. A member id is public (every snapshot carries it),
-- so coming back as a member takes the key only that member's browser was given. Only a
-- SHA-256 of each key is kept.
CREATE TABLE member_keys (
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    member_id TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (session_id, member_id)
);
