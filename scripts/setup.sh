#!/usr/bin/env bash
# Install the Debian packages vulnmail needs to build and to run its tests and demo.
#
# Safe to run again: it installs only what is missing. Mail servers are installed
# without letting the packages start system daemons (see shared notes): the test
# harness runs private, loopback-only instances instead.
set -euo pipefail

packages=(
  # building sequoia-openpgp with its default nettle backend
  clang libclang-dev nettle-dev pkg-config
  # SQLCipher (rusqlite bundled-sqlcipher) links the system libcrypto
  libssl-dev
  # interoperability peers
  gnupg gpg-agent gpg-wks-client sq
  # real mail servers for the test harness, and the benchmark peer
  dovecot-core dovecot-imapd dovecot-lmtpd postfix isync
  # utilities the tests and demo use
  openssl ca-certificates sqlite3 procps time
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  echo "setup: installing ${missing[*]}" >&2
  # Keep package scripts from starting system mail daemons on public ports.
  made_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  trap '[ -n "$made_policy" ] && $sudo rm -f /usr/sbin/policy-rc.d' EXIT
  echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Packages may have started daemons anyway where policy-rc.d pre-existed; stop them.
  for svc in dovecot postfix; do
    $sudo service "$svc" stop >/dev/null 2>&1 || true
  done
fi
echo "setup: system packages present" >&2
