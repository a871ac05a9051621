"""The run's great-expectations Data Docs, published so that they open from disk with no network
(docs/reference.md §6): GX's pages load Bootstrap, Font Awesome, bootstrap-table, jQuery and
Vega from CDNs; the published copy ships them from installed packages and points the pages at them.

    assets.py   which remote URL becomes which local file, and the folder of those files (built once per versions)
    rewrite.py  the pages' and stylesheets' URLs rewritten to relative local paths
    publish.py  the copy itself: pages rewritten, everything else hard-linked
"""

from __future__ import annotations

from .publish import publish_data_docs

__all__ = ["publish_data_docs"]
