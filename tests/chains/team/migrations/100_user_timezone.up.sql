-- 100: a per-user viewing timezone for reports. NULL means "use the browser's zone"; reports fall back to UTC.
ALTER TABLE "user" ADD COLUMN timezone TEXT;
