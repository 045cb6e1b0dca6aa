DROP VIEW IF EXISTS v_194_app_mention_107_recent;
