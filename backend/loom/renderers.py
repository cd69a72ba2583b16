"""The API's JSON renderer: DRF's, plus JSON text the database already has, sent as it is.

A workflow's graph is the bulk of its GET (hundreds of kilobytes for a large one). Read as
text (`graph::text`) and wrapped in RawJSON, it goes into the response without being parsed
into Python objects and encoded back, which was most of such a request's time.
"""
import json
import secrets

from rest_framework.renderers import JSONRenderer


class RawJSON(bytes):
    """A JSON document (from the database, so well-formed) as the bytes to send unchanged. Taken
    as such only as a top-level value of a response body (e.g. a workflow's `graph`)."""

    @classmethod
    def from_text(cls, text: str) -> "RawJSON":
        # As DRF's renderer does for the rest: U+2028/2029 escaped for JavaScript's sake.
        return cls(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode("utf-8"))


class RawJSONRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        raw = {k: v for k, v in data.items() if isinstance(v, RawJSON)} if isinstance(data, dict) else {}
        if not raw:
            return super().render(data, accepted_media_type, renderer_context)
        mark = secrets.token_hex(8)  # placeholders no other text in the body can equal
        placeholders = {k: f"loom-raw-{mark}-{i}" for i, k in enumerate(raw)}
        body = super().render({**data, **placeholders}, accepted_media_type, renderer_context)
        for k, value in raw.items():
            head, tail = body.split(json.dumps(placeholders[k]).encode(), 1)
            body = b"".join((head, value, tail))  # one copy of the large value, no search through it
        return body
