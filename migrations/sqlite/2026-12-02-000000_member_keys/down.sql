DROP TABLE member_keys;
