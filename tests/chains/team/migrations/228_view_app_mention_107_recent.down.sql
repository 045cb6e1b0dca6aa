DROP VIEW IF EXISTS v_228_app_mention_107_recent;
