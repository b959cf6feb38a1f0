"""The project's own update hooks (Mender-style state scripts) in `scripts/`, run by edge/updates/ as programs.

Names follow `<State>_<Enter|Leave|Error>_<NN>[_name]`; exit 0 goes on, 1 rolls back, 21 retries later. Each gets
VILLAGENET_DATA, VILLAGENET_PYTHON, VILLAGENET_STATE, VILLAGENET_ACTION, VILLAGENET_TARGET_VERSION and, from
ArtifactInstall on, VILLAGENET_SLOT_DIR in its environment. A site adds its own in DATA/hooks (docs/updates.md).
"""
