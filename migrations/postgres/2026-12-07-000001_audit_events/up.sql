-- The audit log: who did what and when (session commands, sign-ins, settings and admin
-- actions), for the operator. Each event is written once, by the server that carried it out.
CREATE TABLE audit_events (
    id BIGSERIAL PRIMARY KEY,
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    actor_id TEXT,
    action TEXT NOT NULL,
    session_id TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_action ON audit_events (action, id);
CREATE INDEX audit_events_session ON audit_events (session_id, id);
