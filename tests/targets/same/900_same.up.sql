-- Synthetic: changes nothing. Laid over a target, it makes a second copy of it with its own label, so the
-- budget gate can compare a target with itself.
SELECT 1;
