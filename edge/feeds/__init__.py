"""The two feeds as this box keeps them, and the only code that writes their tables.

`positions` answers "applied down to where" and "acknowledged up to where"; `up_append` appends an edge-owned record
to the up feed inside the caller's transaction; `down_apply` applies verified down entries in one transaction.
"""
