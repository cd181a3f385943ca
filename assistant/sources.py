"""What customers see of a cited source: a public URL or a neutral id, never a server file path."""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import quote, urlsplit

from assistant.schema import SourceOut
from knowledge.types import Hit


def public_path(hit: Hit) -> str:
    """The document's path in its knowledge base without the suffix ("en/return-policy"); a unit stored before
    public paths existed has only its file name to go by."""
    raw = hit.path or PurePosixPath(hit.uri.replace("\\", "/")).name
    parts = [p for p in PurePosixPath(raw).parts if p not in ("", ".", "..", "/")]
    if not parts:
        return hit.id
    parts[-1] = PurePosixPath(parts[-1]).stem or parts[-1]
    return "/".join(parts)


def is_http_url(url: str | None) -> bool:
    if not url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def public_url(hit: Hit, base_url: str | None) -> str | None:
    """The document's own URL (front matter), else `base_url` + its public path, else None."""
    if is_http_url(hit.url):
        return hit.url
    if not base_url or not hit.path:  # stored before public paths: its file name alone could be a wrong link
        return None
    return base_url.rstrip("/") + "/" + quote(public_path(hit), safe="/-._~")


def public_source(hit: Hit, base_url: str | None = None) -> SourceOut:
    """A hit as the API shows it: templates keep `template:<id>`, documents get their URL or `kb:<path>`."""
    if hit.kind == "template" or hit.uri.startswith("template:"):
        return SourceOut(id=hit.id, title=hit.title, uri=hit.uri, snippet=hit.snippet)
    url = public_url(hit, base_url)
    return SourceOut(
        id=hit.id, title=hit.title, uri=url or f"kb:{public_path(hit)}", snippet=hit.snippet, url=url
    )


def logged_source(source: dict) -> dict:
    """A source as a conversation log holds it, safe to show: logs written before public sources existed hold the
    server's file path as `uri`, which becomes `kb:<file name>` here."""
    uri = str(source.get("uri", ""))
    if uri.startswith(("template:", "kb:")) or is_http_url(uri):
        return source
    name = PurePosixPath(uri.replace("\\", "/")).name
    return {
        **source,
        "uri": f"kb:{PurePosixPath(name).stem or name}" if name else f"kb:{source.get('id', '')}",
    }
