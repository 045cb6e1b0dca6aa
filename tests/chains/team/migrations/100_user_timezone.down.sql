-- Reverts 100: drops "user".timezone.
ALTER TABLE "user" DROP COLUMN IF EXISTS timezone;
