DROP VIEW IF EXISTS v_346_app_mention_107_recent;
