"""The box's own software updates: release offers, the A/B slots, the lifecycle with its hooks, the supervisor.

`offers` keeps the `release` records the down feed (or a stick) brought; `taker` (in the serving process) checks
them and downloads the artifact; `supervisor` (the parent process of `village-edge serve`) installs it into the
inactive slot, switches, checks health, commits or rolls back. Both keep their progress in `state` (one file,
written atomically), so a power cut at any step ends on the old or the new version. docs/updates.md says more.
"""
