-- The successor a refresh token was rotated to (its hash), so that a second request
-- presenting the same token within seconds (two tabs refreshing at once) gets the same
-- successor instead of looking like a replay.
ALTER TABLE refresh_tokens ADD COLUMN successor_hash TEXT;
