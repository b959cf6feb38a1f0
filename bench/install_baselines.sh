#!/usr/bin/env bash
# What `make bench` compares against, installed when missing: nginx (streams) and Node.js with npm (PouchDB).
set -euo pipefail
missing=()
command -v nginx >/dev/null || missing+=(nginx-light)
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi
