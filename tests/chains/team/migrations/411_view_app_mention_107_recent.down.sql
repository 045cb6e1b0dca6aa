DROP VIEW IF EXISTS v_411_app_mention_107_recent;
