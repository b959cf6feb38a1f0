"""The village staff page at /staff/: accounts, dashboard, inbox, local replies, village notices, households.

`site.create_staff_app()` builds the sub-application the edge mounts from the `pages_*` routes, which share
`web` (rendering, roles, session); `api_pairing.routes` is the STB's side.
"""
