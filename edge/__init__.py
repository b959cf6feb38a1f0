"""The village box (`village-edge`): serves the village's TVs and staff, keeps working offline, syncs with the hub.

The top level holds the app factory (`app`), the CLI (`cli`), the runtime object every handler reaches (`runtime`),
settings (`config`), the schema, the refusals (`errors`), the signed status document (`status`) and the two API
route modules. The rest lives in packages named for their idea:

- `sync/`: the loops that talk to the hub, its signed client and line budget, the freeze defence, receiving down
  batches, sync by USB stick and its CLI, and sync health (the only writer of `sync_health`);
- `feeds/`: the two feeds as this box keeps them: positions ("acknowledged up to where"), appending to the up feed,
  applying down entries;
- `box/`: the box's key and bundle, the live view of that state, moving to another village;
- `residents/`: what residents send and receive: the outbox, submission rules, households and pairing, the inbox,
  local replies, a device's own submissions;
- `notices/`: the notice board, the village's own notices, emergency alerts;
- `content/`: content-addressed blobs and the cache that keeps them within the disk quota;
- `lan/`: mDNS adverts and the table of STBs;
- `streams/`: live relays, village meetings, viewers, votes, recordings;
- `serving/`: the front door that serves cached blobs and segments with sendfile;
- `web/`: what the TV app and the staff page share: translations and the error middleware;
- `tv/`, `staff/`, `usb/`: the TV app, the staff page, the USB stick watcher.
- `updates/`: the box's own software updates: release offers, A/B slots, lifecycle hooks, the supervisor that
  `village-edge serve` runs (docs/updates.md).

Which package owns which table: docs/edge-data.md. The layout rules are checked by tests/layout/.
"""
