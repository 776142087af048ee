#!/usr/bin/env bash
# CI for the site, on a fresh Debian machine: install what the browser test needs (Debian's
# chromium and the Noto CJK fonts, only when missing), then build the site and check it in
# headless Chromium (`deno task site:test`). `.ci/run` calls this after it has installed Deno.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep -q "install ok installed" ||
  missing+=(fonts-noto-cjk)
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing ${missing[*]} from Debian"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
/usr/bin/chromium --version

# Deno, pinned by README.md's `npx -y deno@X.Y.Z task test` line (.ci/run installs it the same way).
if ! command -v deno >/dev/null; then
  version=$(grep -m1 -oE '^npx -y deno@[0-9]+\.[0-9]+\.[0-9]+' README.md | sed 's/.*@//')
  echo "Installing deno@$version from npm"
  npm install -g "deno@$version"
fi

echo "\$ deno task site:test"
deno task site:test
