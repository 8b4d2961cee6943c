"""Webhooks end to end: ``btvstat-open notify`` posts to a local receiver that checks the HMAC
signature (and remembers delivery ids); Slack's and Teams' shapes; replayed or altered posts fail."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from notify_helpers import load_demo, run_notify
from servers import Receive, Send, read_request, serve

from catalog.demo import DEMO_DIR
from catalog.notify.webhook import verify

SECRET = "whsec-test-4f1c"


@dataclass
class Receiver:
    """A webhook receiver: checks /signed posts with the shared secret, accepts the others."""

    posts: list[tuple[str, dict[str, str], bytes, int]] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await read_request(scope, receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        status = 200
        if scope["path"] == "/signed":
            with self.lock:
                delivery = headers.get("x-btvstat-delivery", "")
                if not verify(body, headers, SECRET) or delivery in self.seen:
                    status = 401
                else:
                    self.seen.add(delivery)
        with self.lock:
            self.posts.append((scope["path"], headers, body, status))
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[Receiver, str]]:
    hooks = Receiver()
    with serve(hooks) as base:
        yield hooks, base


@pytest.fixture(scope="module")
def loaded_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return load_demo(tmp_path_factory, "hooks")


def _catalog(folder: Path, base: str) -> Path:
    root = folder / "catalog"
    shutil.copytree(DEMO_DIR, root)
    with (root / "catalog.yaml").open("a") as settings:
        settings.write(
            "webhooks:\n"
            f"  signed: {{url: '{base}/signed', secret_env: TEST_HOOK_SECRET}}\n"
            "  slack: {url_env: TEST_SLACK_URL, shape: slack}\n"
            f"  teams: {{url: '{base}/teams', shape: teams}}\n"
            "notify:\n"
            "  - {on: [off_track, overdue, unattended], by: webhook, webhook: signed}\n"
            "  - {on: [off_track, unattended], by: webhook, webhook: slack}\n"
            "  - {on: [overdue], by: webhook, webhook: teams}\n"
        )
    return root


def test_notify_posts_signed_json_and_the_slack_and_teams_shapes(
    receiver: tuple[Receiver, str], loaded_store: Path, tmp_path: Path
) -> None:
    hooks, base = receiver
    root = _catalog(tmp_path, base)
    shutil.copytree(loaded_store, tmp_path / "store")
    env = {"TEST_HOOK_SECRET": SECRET, "TEST_SLACK_URL": f"{base}/slack"}
    run = run_notify(root, tmp_path / "store", env)
    assert run.returncode == 0, run.stderr
    assert SECRET not in run.stdout + run.stderr
    by_path = {path: (headers, body, status) for path, headers, body, status in hooks.posts}
    assert sorted(by_path) == ["/signed", "/slack", "/teams"] and len(hooks.posts) == 3
    headers, body, status = by_path["/signed"]
    assert status == 200 and headers["content-type"] == "application/json"
    doc = json.loads(body)
    assert doc["type"] == "btvstat-open.events"
    assert {e["kind"] for e in doc["events"]} == {"off_track", "overdue", "unattended"}
    assert all(e["url"].startswith("http://127.0.0.1:8000/kpi/") for e in doc["events"])
    slack = json.loads(by_path["/slack"][1])
    assert slack["text"].endswith("2 events") and slack["blocks"][1]["text"]["type"] == "mrkdwn"
    assert "<http://127.0.0.1:8000/kpi/pothole-closed-within-7-days|" in slack["blocks"][1]["text"]["text"]
    teams = json.loads(by_path["/teams"][1])
    card = teams["attachments"][0]
    assert teams["type"] == "message" and card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["type"] == "AdaptiveCard" and "Add a second pothole crew" in json.dumps(card)

    # The same post again (a replay) fails; so does an altered body or a signature from another secret.
    replay = requests.post(f"{base}/signed", data=body, headers=headers, timeout=30)
    assert replay.status_code == 401
    fresh = {**headers, "x-btvstat-delivery": "another-id"}  # a new id, but the signature covers the id
    assert requests.post(f"{base}/signed", data=body, headers=fresh, timeout=30).status_code == 401
    altered = body.replace(b"off_track", b"on_track_")
    assert len(altered) == len(body) and altered != body
    assert not verify(altered, headers, SECRET) and verify(body, headers, SECRET)
    assert requests.post(f"{base}/signed", data=altered, headers=headers, timeout=30).status_code == 401

    # Nothing changed: a second run posts nothing.
    count = len(hooks.posts)
    again = run_notify(root, tmp_path / "store", env)
    assert again.returncode == 0 and len(hooks.posts) == count


def test_a_refusing_webhook_is_retried_and_its_url_never_printed(
    receiver: tuple[Receiver, str], loaded_store: Path, tmp_path: Path
) -> None:
    _hooks, base = receiver
    root = _catalog(tmp_path, base)
    shutil.copytree(loaded_store, tmp_path / "store")
    # the wrong secret: the receiver answers 401, the delivery fails and waits in the outbox
    env = {"TEST_HOOK_SECRET": "wrong", "TEST_SLACK_URL": f"{base}/slack"}
    run = run_notify(root, tmp_path / "store", env)
    assert run.returncode == 1
    assert "delivery to signed failed (OSError: the webhook answered HTTP 401)" in run.stderr
    assert "1 waiting in the outbox" in run.stdout
    # an unreachable Slack URL (a secret) is reported without the URL
    env["TEST_SLACK_URL"] = "http://127.0.0.1:9/services/T000/B000/very-secret-path"
    env["TEST_HOOK_SECRET"] = SECRET
    shutil.rmtree(tmp_path / "store")
    shutil.copytree(loaded_store, tmp_path / "store")
    run = run_notify(root, tmp_path / "store", env)
    assert run.returncode == 1 and "could not reach the webhook (ConnectionError)" in run.stderr
    assert "very-secret-path" not in run.stdout + run.stderr
