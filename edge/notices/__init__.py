"""Notices as residents see them: the current board (`board`) and emergency alerts on open TV pages (`alerts`)."""
