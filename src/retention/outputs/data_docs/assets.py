"""The assets GX's Data Docs pages fetch from CDNs, shipped from installed packages instead.

PyPI packages first: they come through requirements.lock and `make install`. bootstrap-table (with
its filter-control extension) and bootstrap-dark are on no PyPI package, so they come from npm
(`npm/package.json`, installed by `make install`). Versions against what GX's templates ask for:

    Bootstrap 4.3.1        XStatic-Bootstrap 4.5.3 (no 4.3 on PyPI; same major, drop-in)
    Popper 1.12.9          Popper 1.16.1 inside Bootstrap's bootstrap.bundle.min.js: its own tag is dropped
    jQuery 3.7.1           XStatic-jQuery 3.7.1 (the same)
    Font Awesome 6.6.0     fontawesomefree 6.6.0 (the same), with its webfonts
    bootstrap-datepicker 1.9.0   XStatic-Bootstrap-Datepicker 1.4.0 (the newest on PyPI; used by the index's date filter)
    bootstrap-table 1.19.1 (+ filter-control 1.19.0)   npm bootstrap-table 1.19.1 (both)
    bootstrap-dark 1.1.0   npm @forevolve/bootstrap-dark 1.1.0 (the same; applies only when the OS prefers dark)
    vega 5, vega-lite 5, vega-embed 6   vl-convert-python's one bundle of all three (Vega 6, Vega-Lite 5.21,
                           vega-embed 7), loaded by the vega tag; the other two tags are dropped. GX puts the
                           three tags on every page, but only a page with a chart calls vegaEmbed: the others
                           drop them (rewrite.py), and the bundle (3 s to make) is made the first time a page needs it
    GX's logo on S3        GX's own static/images/logo-long.png (the S3 URL also carried the context id)

A missing package does not fail the nightly publish: its tags are dropped (the page still opens
offline, less styled) and publish.py logs which package to install.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ...config import Settings

VENDOR = "static/vendor"  # where the shipped assets live in a published copy (beside GX's own static/)
NPM_DIR = Path(__file__).parent / "npm"
LAYOUT = "1"  # bump when the files below change shape: a new folder of assets is built
VL_VERSION = "5.21"  # the newest Vega-Lite 5 vl-convert bundles (GX asks for vega-lite@5)


@dataclass(frozen=True)
class Asset:
    path: str  # under VENDOR
    package: str  # what to install when it is missing
    source: Callable[[], Path | str]  # a file or folder of an installed package, or the file's text
    lazy: bool = False  # made the first time a page needs it (Vendor.provide), not with the folder


def _xstatic(module: str, *parts: str) -> Callable[[], Path]:
    return lambda: Path(importlib.import_module(f"xstatic.pkg.{module}").BASE_DIR, *parts)


def _fontawesome(*parts: str) -> Callable[[], Path]:
    return lambda: Path(importlib.import_module("fontawesomefree").__file__ or "").parent.joinpath(
        "static", "fontawesomefree", *parts
    )


def _npm(*parts: str) -> Callable[[], Path]:
    return lambda: NPM_DIR.joinpath("node_modules", *parts)


def _vega_bundle() -> str:
    import vl_convert

    # Wrapped in a function: the bundle's top-level names (n, t …) would otherwise be globals of the
    # page, clashing with GX's inline scripts; it publishes window.vega, vegaLite and vegaEmbed itself.
    bundle = vl_convert.javascript_bundle(vl_version=VL_VERSION)  # type: ignore[call-arg]  # the stub misses snippet's default
    return "(function () {\n" + bundle + "\n})();\n"


BOOTSTRAP_TABLE = "npm: bootstrap-table (make install)"
ASSETS = (
    Asset("bootstrap/css/bootstrap.min.css", "XStatic-Bootstrap", _xstatic("bootstrap", "css", "bootstrap.min.css")),
    Asset("bootstrap/js/bootstrap.bundle.min.js", "XStatic-Bootstrap", _xstatic("bootstrap", "js", "bootstrap.bundle.min.js")),
    Asset("jquery/jquery.min.js", "XStatic-jQuery", _xstatic("jquery", "jquery.min.js")),
    Asset(
        "bootstrap-datepicker/datepicker.css", "XStatic-Bootstrap-Datepicker", _xstatic("bootstrap_datepicker", "datepicker.css")
    ),
    Asset(
        "bootstrap-datepicker/bootstrap-datepicker.js",
        "XStatic-Bootstrap-Datepicker",
        _xstatic("bootstrap_datepicker", "bootstrap-datepicker.js"),
    ),
    Asset("fontawesome/css/all.min.css", "fontawesomefree", _fontawesome("css", "all.min.css")),
    Asset("fontawesome/webfonts", "fontawesomefree", _fontawesome("webfonts")),  # all.min.css loads ../webfonts/
    Asset("bootstrap-table/bootstrap-table.min.css", BOOTSTRAP_TABLE, _npm("bootstrap-table", "dist", "bootstrap-table.min.css")),
    Asset("bootstrap-table/bootstrap-table.min.js", BOOTSTRAP_TABLE, _npm("bootstrap-table", "dist", "bootstrap-table.min.js")),
    Asset(
        "bootstrap-table/filter-control.min.css",
        BOOTSTRAP_TABLE,
        _npm("bootstrap-table", "dist", "extensions", "filter-control", "bootstrap-table-filter-control.min.css"),
    ),
    Asset(
        "bootstrap-table/filter-control.min.js",
        BOOTSTRAP_TABLE,
        _npm("bootstrap-table", "dist", "extensions", "filter-control", "bootstrap-table-filter-control.min.js"),
    ),
    Asset(
        "bootstrap-dark/bootstrap-prefers-dark.css",
        "npm: @forevolve/bootstrap-dark (make install)",
        _npm("@forevolve", "bootstrap-dark", "dist", "css", "bootstrap-prefers-dark.css"),
    ),
    Asset("vega/vega-bundle.js", "vl-convert-python", _vega_bundle, lazy=True),
)

_BS_TABLE = "unpkg.com/bootstrap-table@1.19"
# A shipped file only a page that contains this text needs; other pages drop its tags
NEEDED_ONLY_BY = {f"{VENDOR}/vega/vega-bundle.js": "vegaEmbed("}

# Remote URL (host and path: no scheme, query or fragment) -> the local file in a published copy,
# relative to its root; None: drop the tag (what it loads comes with another asset).
REMOTE: dict[str, str | None] = {
    "maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": f"{VENDOR}/bootstrap/css/bootstrap.min.css",
    "stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": f"{VENDOR}/bootstrap/js/bootstrap.bundle.min.js",
    "cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": None,  # in bootstrap.bundle.min.js
    "code.jquery.com/jquery-3.7.1.min.js": f"{VENDOR}/jquery/jquery.min.js",
    "cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": f"{VENDOR}/fontawesome/css/all.min.css",
    "cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": (
        f"{VENDOR}/bootstrap-datepicker/datepicker.css"
    ),
    "cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": (
        f"{VENDOR}/bootstrap-datepicker/bootstrap-datepicker.js"
    ),
    f"{_BS_TABLE}.1/dist/bootstrap-table.min.css": f"{VENDOR}/bootstrap-table/bootstrap-table.min.css",
    f"{_BS_TABLE}.1/dist/bootstrap-table.min.js": f"{VENDOR}/bootstrap-table/bootstrap-table.min.js",
    f"{_BS_TABLE}.0/dist/extensions/filter-control/bootstrap-table-filter-control.css": (
        f"{VENDOR}/bootstrap-table/filter-control.min.css"
    ),
    f"{_BS_TABLE}.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css": (
        f"{VENDOR}/bootstrap-table/filter-control.min.css"
    ),
    f"{_BS_TABLE}.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js": (
        f"{VENDOR}/bootstrap-table/filter-control.min.js"
    ),
    "cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css": (
        f"{VENDOR}/bootstrap-dark/bootstrap-prefers-dark.css"
    ),
    "cdn.jsdelivr.net/npm/vega@5": f"{VENDOR}/vega/vega-bundle.js",
    "cdn.jsdelivr.net/npm/vega-lite@5": None,  # in the vega bundle
    "cdn.jsdelivr.net/npm/vega-embed@6": None,  # in the vega bundle
    "great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png": "static/images/logo-long.png",
    # the dark-mode logo: GX ships none locally; its light logo is the nearest
    "great-expectations-web-assets.s3.us-east-2.amazonaws.com/full_logo_dark.png": "static/images/logo-long.png",
}


def _versions() -> dict[str, str]:
    """What the built folder depends on: a change to any of these builds a new folder."""
    out = {"layout": LAYOUT}
    for dist in ("XStatic-Bootstrap", "XStatic-jQuery", "XStatic-Bootstrap-Datepicker", "fontawesomefree", "vl-convert-python"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = "missing"
    npm_installed = NPM_DIR / "node_modules" / ".package-lock.json"  # npm's record of what it installed
    out["npm"] = hashlib.sha256(npm_installed.read_bytes()).hexdigest()[:16] if npm_installed.is_file() else "missing"
    return out


@dataclass
class Vendor:
    folder: Path  # holds the assets under their Asset.path
    present: set[str]  # the Asset.paths it has
    missing: dict[str, str]  # Asset.path -> the package to install

    def provide(self, path: str) -> bool:
        """Whether the folder has the asset at `path` (under VENDOR), making a lazy one now."""
        if path in self.present:
            return True
        asset = next((a for a in ASSETS if a.path == path and a.lazy), None)
        if asset is None or path in self.missing:
            return False
        if _write(asset, self.folder):
            self.present.add(path)
        else:
            self.missing[path] = asset.package
        return path in self.present


def vendor_folder(settings: Settings) -> Vendor:
    """The assets, as files under $RETENTION_STATE_DIR/data_docs_assets/KEY: made the first time for
    these package versions, then only linked from (each publish links, never copies, them)."""
    versions = _versions()
    key = hashlib.sha256(json.dumps(versions, sort_keys=True).encode()).hexdigest()[:16]
    root = settings.state_dir / "data_docs_assets"
    folder = root / key
    if not (folder / "assets.json").is_file():
        _build(folder, versions)
    for old in root.iterdir():  # folders of older versions: nothing links from them any more
        if old.name != key and not old.name.startswith("."):
            shutil.rmtree(old, ignore_errors=True)
    recorded = json.loads((folder / "assets.json").read_text())
    lazy = {a.path for a in ASSETS if a.lazy and (folder / a.path).is_file()}
    return Vendor(folder, set(recorded["present"]) | lazy, recorded["missing"])


def _build(folder: Path, versions: dict[str, str]) -> None:
    """Write the folder under a temporary name and rename it: a run that dies half-way leaves no
    half folder that a later run would take for complete."""
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    present, missing = [], {}
    for asset in ASSETS:
        if not asset.lazy:
            if _write(asset, tmp):
                present.append(asset.path)
            else:
                missing[asset.path] = asset.package
    (tmp / "assets.json").write_text(json.dumps({"versions": versions, "present": present, "missing": missing}, indent=1))
    shutil.rmtree(folder, ignore_errors=True)
    try:
        os.rename(tmp, folder)
    except OSError:  # another run built it meanwhile: theirs is as good
        shutil.rmtree(tmp, ignore_errors=True)


def _write(asset: Asset, folder: Path) -> bool:
    """Put one asset into `folder` from its package (a file through a temporary name, so a reader of
    the folder never sees half of it); False when the package is not installed."""
    target = folder / asset.path
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        source = asset.source()
        if not isinstance(source, str) and source.is_dir():
            shutil.copytree(source, target)
            return True
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        if isinstance(source, str):
            tmp.write_text(source, encoding="utf-8")
        else:
            shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    except (ImportError, OSError):
        return False
    return True
