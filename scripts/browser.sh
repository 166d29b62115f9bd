#!/usr/bin/env bash
# Browser tests need Debian's Chromium and ChromeDriver; install them when missing and allowed.
set -u
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing chromium for the browser tests (Debian packages)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-noto-core >/dev/null) \
    || echo "could not install chromium; browser tests will be skipped" >&2
else
  echo "chromium not found: browser tests will be skipped (as root: apt-get install chromium chromium-driver)" >&2
fi
exit 0
