DROP TABLE IF EXISTS app_milestone_237;
