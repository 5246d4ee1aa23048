#!/usr/bin/env bash
# Browser for the e2e tests: Debian's chromium at /usr/bin/chromium (driven by playwright-core; never
# `playwright install`), plus a small CJK font so screenshots show Chinese text. Does nothing when both exist.
set -euo pipefail

need=()
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || need+=(chromium)
fc-list 2>/dev/null | grep -qi 'wqy\|noto sans cjk' || need+=(fonts-wqy-microhei)
if [ ${#need[@]} -eq 0 ]; then
  echo "chromium: $("${CHROMIUM_PATH:-/usr/bin/chromium}" --version 2>/dev/null || echo present)"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "installing ${need[*]} needs root (apt-get)" >&2; exit 1; }
  sudo="sudo"
fi
echo "installing ${need[*]} with apt-get"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
/usr/bin/chromium --version
