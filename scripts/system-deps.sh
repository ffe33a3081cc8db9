#!/usr/bin/env bash
# Installs the Debian packages the test suite and benchmarks need, only where missing.
set -euo pipefail

needed=()
need() { command -v "$1" >/dev/null 2>&1 || needed+=("$2"); }

# (each later capability adds its packages here: command, Debian package)
need chromium chromium   # the web page's browser tests (Playwright drives it)
need redis-server redis-server   # rate limits shared through Redis (tests/security)
need curl curl                   # peers in bench/
need aria2c aria2                # a peer in bench/
need /usr/bin/time time          # CPU and peak memory of each bench run
need /usr/sbin/nginx nginx       # the plain reverse proxy bench/server_bench.py compares with

if [ ${#needed[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "system-deps: missing ${needed[*]}; run as root or install them: apt-get install ${needed[*]}" >&2
    exit 1
fi
echo "system-deps: installing ${needed[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
