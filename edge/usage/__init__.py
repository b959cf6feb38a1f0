"""The village's usage, counted on the box and sent up as one `usage_day` record (counts only) per finished day.

Pages note views through `UsageTally` (in memory, flushed every few seconds); `lifecycle.usage_ctx` runs the
sampler and the day closer. docs/statistics.md defines every count.
"""
