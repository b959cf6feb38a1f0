"""Blobs at the edge: fetched, verified and served by content address (`store`), kept within a disk quota (`cache`)."""
