"""The published copy of the Data Docs site (`settings.data_docs_dir`, written by GX's checkpoint
and trimmed to its last runs by quality.gx): every page and stylesheet rewritten to load local files
(rewrite.py), GX's images and fonts and the shipped assets (assets.py) hard-linked, so a publish
costs a few megabytes of metadata, not of data, every night.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from ...config import Settings
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
    for rel, source in files.items():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.suffix in REWRITTEN:
            text = source.read_text(encoding="utf-8")
            out = rewriter.page(text, rel) if source.suffix == ".html" else rewriter.css(text, rel)
            target.write_text(out, encoding="utf-8")
        else:
            _link(source, target)
    for rel in vendor.present:  # after the pages: a lazy asset is made when a page first needs it
        _link_tree(vendor.folder / rel, dest / VENDOR / rel)
    if rewriter.dropped:
        packages = sorted(set(vendor.missing.values()))
        log.warning(
            "Data Docs: left out %d remote assets with no local copy (%s)%s",
            len(rewriter.dropped),
            ", ".join(sorted(rewriter.dropped)),
            f"; install {', '.join(packages)}" if packages else "",
        )
    return index


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
