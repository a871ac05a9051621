"""The published copy of the Data Docs site (`settings.data_docs_dir`, written by GX's checkpoint
and trimmed to its last runs by quality.gx): every page and stylesheet rewritten to load local files
(rewrite.py), GX's images and fonts and the shipped assets (assets.py) hard-linked.

A page is rewritten once: the rewritten copy is kept under $RETENTION_STATE_DIR/data_docs_offline
with what it was made from (the page's size and time, the assets folder), and each publish links it.
GX writes a new page per run and a new index.html, and leaves the 60 runs' older pages as they are,
so a nightly publish rewrites two pages and links the rest: no data copied (measured: 0.01 s on the
demo, 0.03-0.05 s with 60 runs kept; a fresh state folder's first publish 0.3 s, making the assets).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

from ...config import Settings
from ...durable import write_text
from .assets import VENDOR, vendor_folder
from .rewrite import Rewriter

log = logging.getLogger(__name__)
REWRITTEN = {".html", ".css"}  # the files that can name a remote URL; the rest are linked as they are

EMPTY = """<!doctype html><html><head><meta charset="utf-8"><title>Data Docs</title></head><body>
<p>No great-expectations Data Docs for run {run_id}: the audit did not build them.</p></body></html>"""


def publish_data_docs(settings: Settings, run_id: str, dest: Path) -> Path:
    """Write the Data Docs of run `run_id` into the folder `dest` (created); returns dest/index.html."""
    site = settings.data_docs_dir
    dest.mkdir(parents=True)
    index = dest / "index.html"
    if not (site / "index.html").is_file():
        index.write_text(EMPTY.format(run_id=run_id), encoding="utf-8")
        return index
    if not any((site / "validations").glob(f"*/{run_id}/*/*.html")):
        log.warning("Data Docs: no validation page of run %s in %s; publishing the site as it is", run_id, site)

    vendor = vendor_folder(settings)
    files = {p.relative_to(site).as_posix(): p for p in site.rglob("*") if p.is_file()}
    prefix = VENDOR + "/"
    rewriter = Rewriter(exists=lambda rel: rel in files or (rel.startswith(prefix) and vendor.provide(rel[len(prefix) :])))
    cache = settings.state_dir / "data_docs_offline"
    made_from = _read_manifest(cache)
    manifest = {}
    for rel, source in files.items():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.suffix not in REWRITTEN:
            _link(source, target)
            continue
        stat = source.stat()
        manifest[rel] = [stat.st_size, stat.st_mtime_ns, vendor.folder.name]
        rewritten = cache / rel
        if made_from.get(rel) != manifest[rel] or not rewritten.is_file():
            text = source.read_text(encoding="utf-8")
            out = rewriter.page(text, rel) if source.suffix == ".html" else rewriter.css(text, rel)
            rewritten.parent.mkdir(parents=True, exist_ok=True)
            # a new file, never one written over: the copies published before keep their link to the old
            tmp = rewritten.with_name(f".{rewritten.name}.{os.getpid()}.tmp")
            tmp.write_text(out, encoding="utf-8")
            os.replace(tmp, rewritten)
        _link(rewritten, target)
    write_text(cache / MANIFEST, json.dumps(manifest))
    for rel in made_from.keys() - manifest.keys():  # pages GX pruned (quality.gx keeps 60 runs)
        (cache / rel).unlink(missing_ok=True)
    for rel in vendor.present:  # after the pages: a lazy asset is made when a page first needs it
        _link_tree(vendor.folder / rel, dest / VENDOR / rel)
    if rewriter.dropped:
        log.warning("Data Docs: left out remote assets with no local copy: %s", ", ".join(sorted(rewriter.dropped)))
    if vendor.missing:
        packages = sorted(set(vendor.missing.values()))
        log.warning("Data Docs: published less styled, for want of %s (the README's set-up)", ", ".join(packages))
    return index


MANIFEST = ".manifest.json"  # rewritten page -> [size, mtime_ns, assets folder] of what it was made from


def _read_manifest(cache: Path) -> dict[str, list]:
    try:
        return json.loads((cache / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}


def _link(source: Path, target: Path) -> None:
    """A hard link (no data copied; the file is never written in place afterwards), or a copy where
    the two folders are on different file systems or the file system has no hard links."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _link_tree(source: Path, target: Path) -> None:
    if source.is_dir():
        for path in source.rglob("*"):
            if path.is_file():
                out = target / path.relative_to(source)
                out.parent.mkdir(parents=True, exist_ok=True)
                _link(path, out)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        _link(source, target)
