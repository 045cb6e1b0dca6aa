"""What to do: scenario files and their schema, the operation kinds, scripted steps, the seeded generator, zones
and the fault schedule — everything decided before a database is touched."""
