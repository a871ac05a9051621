"""The report's inlined vega-embed bundle is built once and then read from the disk cache."""

from __future__ import annotations

from retention.outputs.report import bundle


def test_bundle_is_built_once_then_read_from_the_cache(tmp_path, monkeypatch):
    built = []

    def fake_build(snippet, vl_version=None):
        built.append((snippet, vl_version))
        return "window.vegaEmbed = function () {}; /* </script> */"

    monkeypatch.setattr(bundle.vl_convert, "javascript_bundle", fake_build)
    first = bundle.javascript_bundle(tmp_path / "cache")
    second = bundle.javascript_bundle(tmp_path / "cache")
    assert first == second and len(built) == 1
    assert "vegaEmbed" in built[0][0]  # the snippet puts vegaEmbed on window for the page's script
    # a `</script` inside the bundle would end the page's inline script early
    assert "</script" not in first
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [bundle.bundle_path(tmp_path / "cache").name]


def test_an_unwritable_cache_still_gives_the_bundle(tmp_path, monkeypatch):
    monkeypatch.setattr(bundle.vl_convert, "javascript_bundle", lambda snippet, vl_version=None: "/* js */")
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    assert bundle.javascript_bundle(blocked / "cache") == "/* js */"
