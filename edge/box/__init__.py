"""The box itself: its node key and provisioning bundle, the live view of that state, and moving to another village."""
