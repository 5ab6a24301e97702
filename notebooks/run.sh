#!/bin/sh
# Executes every notebook headless with Debian's interpreter and the
# kernelspec in notebooks/kernels (argv /usr/bin/python3), writing the
# executed copies to OUTDIR. Any cell error fails the run.
#
#   QIANDUN_BIN=... QIANDUN_DEMO=... sh notebooks/run.sh OUTDIR
set -eu
out=${1:?usage: run.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
# The kernelspec directory comes first on JUPYTER_PATH, so kernel "python3"
# is Debian's /usr/bin/python3 whatever python3 is first on PATH.
export JUPYTER_PATH="$here${JUPYTER_PATH:+:$JUPYTER_PATH}"
export MPLBACKEND=Agg
for nb in "$here"/*.ipynb; do
	echo "notebooks: executing $(basename "$nb")" >&2
	/usr/bin/python3 -m nbconvert --to notebook --execute \
		--ExecutePreprocessor.kernel_name=python3 \
		--ExecutePreprocessor.timeout=600 \
		--output-dir "$out" "$nb"
done
