"""The URLs of one Data Docs page or stylesheet, rewritten for a copy that opens from disk.

Every remote stylesheet, script and image (a <link>, <script src>, <img> tag or a CSS url()) becomes
a path relative to the page, to a file of the published copy (assets.REMOTE); a tag whose asset is
not there is dropped, so the page never waits on the network. Anchors (<a href>) stay as they are:
they load nothing until a reader follows them.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .assets import NEEDED_ONLY_BY, REMOTE

TAG = re.compile(r"<(?:link|img)\b[^>]*>|<script\b[^>]*\bsrc\s*=[^>]*>\s*</script>", re.IGNORECASE)
URL_ATTR = re.compile(r"""\b(src|href)\s*=\s*(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)
# integrity: the CDN file's hash, which a local file of another version cannot match (the browser
# would refuse it); crossorigin: a CORS fetch, which file:// pages cannot make
FETCH_ATTRS = re.compile(r"""\s+(?:integrity|crossorigin)(?:\s*=\s*(["']).*?\1)?""", re.IGNORECASE | re.DOTALL)
CSS_URL = re.compile(r"""url\(\s*(["']?)((?:https?:)?//[^"')\s]+)\1\s*\)""", re.IGNORECASE)
CSS_IMPORT = re.compile(r"""@import\s+(?:url\()?\s*["']?(?:https?:)?//[^;]*;""", re.IGNORECASE)


def is_remote(url: str) -> bool:
    return url.lower().startswith(("http://", "https://", "//"))


def remote_key(url: str) -> str:
    """The host and path of a URL: the key of assets.REMOTE (GX adds a query to its logo's URL)."""
    parts = urlsplit(url if not url.startswith("//") else "https:" + url)
    return parts.netloc.lower() + parts.path


@dataclass
class Rewriter:
    """Rewrites the files of one published copy. `exists(path)` tells whether a path, relative to
    the copy's root, is a file of it (an asset whose package is missing is not)."""

    exists: Callable[[str], bool]
    dropped: set[str] = field(default_factory=set)  # remote URLs no local file stands for
    _text: str = ""  # the page being rewritten

    def local(self, url: str, page: str) -> str | None:
        """The relative path from page (relative to the root) to the local file of a remote URL."""
        target = REMOTE.get(remote_key(url))
        if target in NEEDED_ONLY_BY and NEEDED_ONLY_BY[target] not in self._text:
            return None  # a page with no chart: the tag goes, nothing is missing
        if target is None or not self.exists(target):
            if remote_key(url) not in REMOTE or REMOTE[remote_key(url)] is not None:
                self.dropped.add(url)
            return None
        return posixpath.relpath(target, posixpath.dirname(page) or ".")

    def page(self, text: str, page: str) -> str:
        """An HTML page at `page` (a path relative to the root)."""
        self._text = text
        text = TAG.sub(lambda m: self._tag(m.group(0), page), text)
        return self.css(text, page)  # <style> blocks and style="" attributes

    def css(self, text: str, page: str) -> str:
        text = CSS_IMPORT.sub("", text)
        return CSS_URL.sub(lambda m: f'url("{p}")' if (p := self.local(m.group(2), page)) else "none", text)

    def _tag(self, tag: str, page: str) -> str:
        found = URL_ATTR.search(tag)
        if found is None:
            return tag
        url = found.group(3)
        if is_remote(url):
            path = self.local(url, page)
            if path is None:
                return ""
        else:
            path = self._static(url, page)
            if path is None:
                return tag
        tag = tag[: found.start(3)] + path + tag[found.end(3) :]
        return FETCH_ATTRS.sub("", tag)

    def _static(self, url: str, page: str) -> str | None:
        """GX's validation pages, four folders deep, link its favicon three folders up: a local
        reference to a static/ file that does not resolve is pointed at the copy's static/."""
        if "static/" not in url or "#" in url or "?" in url:
            return None
        if self.exists(posixpath.normpath(posixpath.join(posixpath.dirname(page), url))):
            return None
        target = "static/" + url.split("static/", 1)[1]
        return posixpath.relpath(target, posixpath.dirname(page) or ".") if self.exists(target) else None
