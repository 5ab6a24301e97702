#!/bin/sh
# Installs what the report browser test needs: Debian's headless-capable
# Chromium and a CJK font so Chinese text renders. Does nothing when both
# are present. CI runs as root on Debian; elsewhere sudo is used if found.
set -eu
need=""
[ -x /usr/bin/chromium ] || need="$need chromium"
[ -d /usr/share/fonts/opentype/noto ] && ls /usr/share/fonts/opentype/noto/NotoSansCJK* >/dev/null 2>&1 || need="$need fonts-noto-cjk"
[ -z "$need" ] && exit 0
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
echo "browser-deps: installing$need" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $need >/dev/null
