"""A minimal Solr core for a real CKAN in the tests (test equipment: Solr is on neither PyPI nor
Debian's package lists, so it cannot be installed here).

It answers what CKAN 2.12 asks of its ``solr_url`` core, through pysolr: the schema (its name
carries the CKAN schema version CKAN checks at start), ``/update`` (JSON documents to add,
``<delete>`` by id or ``*:*``, ``<commit/>``) and ``/select`` (every document held, paged by
``start``/``rows``; queries and filters are not evaluated: the tests never search).
"""

from __future__ import annotations

import json
import threading
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

SCHEMA = b'<?xml version="1.0" encoding="UTF-8"?><schema name="ckan-2.11" version="1.6"></schema>'


class SolrStandin:
    """The core's documents by id, and the ASGI app that serves them."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()

    def update(self, body: bytes, content_type: str) -> None:
        """Apply an update message: JSON documents, or XML ``<add>``/``<delete>``/``<commit>``."""
        if not body.strip():
            return
        if "json" in content_type:
            docs = json.loads(body)
            with self.lock:
                for doc in docs if isinstance(docs, list) else [docs]:
                    self.docs[str(doc.get("id"))] = doc
            return
        root = ET.fromstring(body)
        if root.tag != "delete":
            return
        with self.lock:
            for element in root:
                if element.tag == "id" and element.text:
                    self.docs.pop(element.text, None)
                elif element.tag == "query":
                    self.docs.clear()  # CKAN deletes by index id or the whole site's documents

    def select(self, query: dict[str, str]) -> dict[str, Any]:
        start, rows = int(query.get("start") or 0), int(query.get("rows") or 10)
        with self.lock:
            docs = list(self.docs.values())
        return {
            "responseHeader": {"status": 0, "QTime": 0, "params": query},
            "response": {"numFound": len(docs), "start": start, "docs": docs[start : start + rows]},
        }

    async def __call__(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        query = {k: v[-1] for k, v in parse_qs(scope.get("query_string", b"").decode()).items()}
        path = scope["path"].rstrip("/")
        kind, answer = "application/json", b""
        if path.endswith("/schema") or path.endswith("/admin/file"):
            kind, answer = "application/xml", SCHEMA
        elif path.endswith("/update"):
            self.update(body, headers.get("content-type", ""))
            answer = json.dumps({"responseHeader": {"status": 0, "QTime": 0}}).encode()
        elif path.endswith("/select"):
            if body and "x-www-form-urlencoded" in headers.get("content-type", ""):
                query |= {k: v[-1] for k, v in parse_qs(body.decode()).items()}
            answer = json.dumps(self.select(query)).encode()
        status = 200 if answer else 404
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", kind.encode()), (b"content-length", str(len(answer)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": answer})
