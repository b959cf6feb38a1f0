"""Sync with the city hub: the loops (`client`), the signed HTTP client, the line budget, the freeze defence,
receiving down batches, sync by USB stick (`sneakernet`) and its CLI. Sync health is read and written in `health`.
"""
