#!/usr/bin/env bash
# Regenerates the conformance goldens (conformance/goldens/) with pinned reference
# implementations in a throw-away virtualenv. Offline work for maintainers: CI never runs
# this and needs no Python; it compares against the committed JSON.
#
#   conformance/generate.sh             # hl7, astm and dicom
#   conformance/generate.sh hl7 astm    # some of them
#
# Needs python3 (3.10 or later) with venv, and PyPI (or a mirror pip is configured for).
# Review `git diff conformance/goldens` afterwards: a changed golden is a changed claim.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${CONFORMANCE_VENV:-/tmp/labwire-conformance-venv}"

# The reference versions the goldens were made with; generate.py refuses others.
pins=(pydicom==3.0.2 hl7==0.4.5 hl7apy==1.3.5)
astm_pin=astm==0.5.0

if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet "${pins[@]}" wheel

# python astm 0.5 (2013) imports `Iterable` from `collections`, which Python 3.10 removed;
# even its setup.py imports the package. Build it with a shim that puts the old names back,
# then apply the one-line fix to the installed module.
# (-I: not the workspace's astm/ directory, which `import astm` would find from the root.)
if ! "$venv/bin/python" -I -c 'import astm.codec' 2>/dev/null; then
    shim="$(mktemp -d)"
    cat >"$shim/sitecustomize.py" <<'PY'
import collections
import collections.abc

for _name in ("Iterable", "Mapping", "MutableMapping", "Sequence", "Callable"):
    setattr(collections, _name, getattr(collections.abc, _name))
PY
    PYTHONPATH="$shim" "$venv/bin/pip" install --quiet --no-build-isolation "$astm_pin"
    rm -rf "$shim"
    codec="$("$venv/bin/python" -I -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/astm/codec.py"
    sed -i 's/^from collections import Iterable$/from collections.abc import Iterable/' "$codec"
    "$venv/bin/python" -I -c 'import astm.codec'
fi

"$venv/bin/python" "$here/generate.py" "$@"
