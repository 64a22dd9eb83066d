#!/usr/bin/env bash
# Install the browser and deployment test dependencies from Debian when they are missing:
# Chromium for the real-browser tests (Playwright drives /usr/bin/chromium; it never downloads a
# browser of its own), and nginx with the openssl command for the test that runs
# deploy/nginx.conf with TLS in front of gunicorn (tests/e2e/test_deploy_tls.py).
#
# Debian starts nginx's own service on installation (the default site on port 80); the tests
# never use it, they run nginx with a configuration of their own on a free loopback port.
# `systemctl disable --now nginx` stops it on a machine that only runs the tests.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium chromium-driver fonts-dejavu-core)
[ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# pdftoppm: the browser tests turn server PDFs (report, one-page summary) into PNG to look at.
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
# redis-server: the fault suite stops and starts a private Redis of its own.
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
else
  echo "Missing ${missing[*]} and this user cannot install them: run 'apt-get install ${missing[*]}' as root." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "installed: ${missing[*]}"
/usr/bin/chromium --version
/usr/sbin/nginx -v
