#!/bin/sh
# Installs Debian's Python stack for the notebooks into Debian's own
# interpreter (/usr/bin/python3): pandas, matplotlib, nbconvert, ipykernel,
# jupyter-client. Does nothing when they import already.
set -eu
if /usr/bin/python3 -c 'import pandas, matplotlib, nbconvert, nbformat, ipykernel, jupyter_client' 2>/dev/null; then
	exit 0
fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
echo "notebooks: installing Debian's python3-pandas python3-matplotlib jupyter-nbconvert python3-ipykernel" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
	python3-pandas python3-matplotlib jupyter-nbconvert python3-nbconvert python3-ipykernel \
	python3-jupyter-client jupyter-client python3-nbformat >/dev/null
