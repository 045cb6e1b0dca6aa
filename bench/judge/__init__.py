"""Deciding: the oracle's truth from the history, the checker's own calendar, the checker, attribution to
catalogue ids, and the verdict."""
