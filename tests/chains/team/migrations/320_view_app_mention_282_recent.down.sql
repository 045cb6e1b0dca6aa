DROP VIEW IF EXISTS v_320_app_mention_282_recent;
