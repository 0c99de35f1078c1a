DROP TABLE plex_accounts;
