"""The Vega, Vega-Lite and vega-embed JavaScript inlined into the report, built by vl-convert and cached on disk."""

from __future__ import annotations

import hashlib
import os
import tempfile
from importlib.metadata import version
from pathlib import Path

import vl_convert
from altair.vegalite import SCHEMA_VERSION

# the globals the page's script calls (vl-convert's default snippet sets the same ones; named here so the
# bundle does not depend on that default)
SNIPPET = "window.vegaEmbed = vegaEmbed; window.vega = vega; window.vegaLite = vegaLite;"


def default_cache_dir() -> Path:
    """$XDG_CACHE_HOME/retention (or ~/.cache/retention): where the built bundle is kept between runs."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "retention"


def vega_lite_version() -> str:
    """The Vega-Lite version altair writes specs for, as vl-convert names it (`v6_4`)."""
    return "_".join(SCHEMA_VERSION.split(".")[:2])


def bundle_path(cache_dir: Path) -> Path:
    """The cache file of the bundle, keyed by what changes it: the vl-convert and Vega-Lite versions and the snippet."""
    snippet = hashlib.sha256(SNIPPET.encode()).hexdigest()[:8]
    return cache_dir / f"vega-embed-vlconvert{version('vl-convert-python')}-vl{vega_lite_version()}-{snippet}.js"


def javascript_bundle(cache_dir: Path | None = None) -> str:
    """The script that defines `vegaEmbed`, `vega` and `vegaLite` on `window`, with no external dependency.

    Building it takes seconds (vl-convert bundles the libraries each call), so it is read from the cache
    when there; a cache that cannot be written only costs the next run the build again.
    """
    path = bundle_path(cache_dir or default_cache_dir())
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        pass
    script = vl_convert.javascript_bundle(SNIPPET, vl_version=vega_lite_version())
    # `</script` inside the bundle would end the inline <script> early; it has none today, but a
    # future library version must not break the page silently
    script = script.replace("</script", "<\\/script")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # written aside and renamed: two runs at once never read half a file
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, suffix=".tmp", delete=False) as f:
            f.write(script)
        os.replace(f.name, path)
    except OSError:
        pass
    return script
