#!/usr/bin/env bash
# System packages some tests need (Debian): Chromium + ChromeDriver for browser tests,
# Noto fonts for PDFs with Arabic/Persian shaping, poppler-utils to render PDF pages.
# Installed when missing and allowed (root); otherwise those tests skip (or fail under CI=true).
set -u
need=()
[ -x /usr/bin/chromium ] || need+=(chromium chromium-driver)
[ -f /usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf ] || need+=(fonts-noto-core)
command -v pdftoppm >/dev/null || need+=(poppler-utils)
[ -d /usr/lib/postgresql ] || need+=(postgresql)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian packages for the tests: ${need[*]}"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null) \
    || echo "could not install ${need[*]}; the tests that need them will be skipped" >&2
else
  echo "missing Debian packages: ${need[*]} (as root: apt-get install ${need[*]})" >&2
fi
exit 0
