"""The city hub: registry, scoped publishing, per-village signed feeds, blob store and the status poller.

`hub.app.create_app` builds the server; `hub.cli.main` is the `village-hub` command and `hub.provision_cli.main` the
technician's `village-provision`.
"""
