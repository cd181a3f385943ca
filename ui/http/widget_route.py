"""`GET /widget.js`: the embeddable chat widget with the `[brand]` settings and the start-up texts inlined,
gzipped when accepted."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

from fastapi import APIRouter, Request, Response

from assistant import messages
from assistant.config import BRAND_LANGUAGES, BrandSettings, Settings
from assistant.startup import STAGES

WIDGET = Path(__file__).resolve().parent.parent / "static" / "widget.js"
# widget.js holds `/*BRAND*/{}/*BRAND*/`: an empty brand when the file is served as it is (tests, a CDN copy).
PLACEHOLDER = "/*BRAND*/{}/*BRAND*/"
# ...and `/*READY*/{}/*READY*/`: what a starting server's stages are called, per language (English names without).
READY_PLACEHOLDER = "/*READY*/{}/*READY*/"
CACHE = "public, max-age=300"
MEDIA_TYPE = "application/javascript; charset=utf-8"
# Escaped in the inlined JSON (which is ASCII, so no line ends either) so no setting can close a <script>.
_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}


def brand_json(brand: BrandSettings) -> str:
    """The brand as a JSON object literal that is safe anywhere in a script (ASCII, no `<`, `>` or `&`)."""
    data = {
        "name": brand.name,
        "color": brand.color,
        "avatar": brand.avatar or "",
        "greeting": brand.greeting,
        "suggestions": brand.suggestions,
    }
    return script_json(data)


def script_json(data: object) -> str:
    """`data` as a JSON literal that is safe anywhere in a script (ASCII, no `<`, `>` or `&`)."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    return "".join(_UNSAFE.get(c, c) for c in text)


def ready_json() -> str:
    """The chat page's "Getting ready… {stage} ({percent} %)" texts for the widget, per language: the message,
    the one for a question that waited too long, and the stages' names (`assistant/messages.py`, one source)."""
    names = ("starting", *STAGES)
    data = {
        lang: {
            "text": messages.text("getting_ready", lang),
            "gaveUp": messages.text("getting_ready_gave_up", lang),
            "stages": {stage: messages.text(f"stage: {stage}", lang) for stage in names},
        }
        for lang in BRAND_LANGUAGES
    }
    return script_json(data)


def widget_source(brand: BrandSettings) -> bytes:
    """widget.js with `brand` and the start-up texts in their placeholders."""
    code = WIDGET.read_text(encoding="utf-8")
    for placeholder in (PLACEHOLDER, READY_PLACEHOLDER):
        if placeholder not in code:
            raise RuntimeError(f"{WIDGET} lost its placeholder {placeholder}")
    code = code.replace(PLACEHOLDER, brand_json(brand), 1)
    return code.replace(READY_PLACEHOLDER, ready_json(), 1).encode("utf-8")


def accepts_gzip(header: str) -> bool:
    """Whether an Accept-Encoding header admits gzip (`gzip` or `*`, not with q=0)."""
    allowed: dict[str, bool] = {}
    for part in header.lower().split(","):
        name, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if name.strip():
            allowed[name.strip()] = q > 0
    return allowed.get("gzip", allowed.get("*", False))


def widget_router(settings: Settings) -> APIRouter:
    """The widget's route; the script is branded and compressed once, when the router is made."""
    plain = widget_source(settings.brand)
    packed = gzip.compress(plain, 9, mtime=0)
    # Weak: the gzipped and the plain body are the same script.
    etag = 'W/"' + hashlib.sha256(plain).hexdigest()[:32] + '"'
    router = APIRouter()

    @router.get("/widget.js", include_in_schema=False)
    def widget(request: Request) -> Response:
        """The embeddable chat widget (before the Gradio mount at `/`, which would swallow it)."""
        headers = {"Cache-Control": CACHE, "ETag": etag, "Vary": "Accept-Encoding"}
        tags = {tag.strip().removeprefix("W/") for tag in request.headers.get("if-none-match", "").split(",")}
        if etag.removeprefix("W/") in tags or "*" in tags:
            return Response(status_code=304, headers=headers)
        if accepts_gzip(request.headers.get("accept-encoding", "")):
            headers["Content-Encoding"] = "gzip"
            return Response(packed, media_type=MEDIA_TYPE, headers=headers)
        return Response(plain, media_type=MEDIA_TYPE, headers=headers)

    return router
