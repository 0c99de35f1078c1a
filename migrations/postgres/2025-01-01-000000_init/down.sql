DROP TABLE preferences;
DROP TABLE media_cache;
DROP TABLE sessions;
DROP TABLE users;
