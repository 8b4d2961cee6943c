"""A real S3-protocol server on 127.0.0.1 (moto's server mode), for tests that write to ``s3://``.

Test equipment: moto answers the S3 REST API over real HTTP (PUT, multipart uploads, listings,
ETags, Last-Modified), so s3fs talks to it exactly as to AWS.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from servers import free_port

__all__ = ["S3Server", "s3_server"]

KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


class S3Server:
    """A running server: its endpoint, the s3fs options and environment that reach it."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    @property
    def storage_options(self) -> dict[str, Any]:
        """s3fs options for this server (fresh listings: no cache between a write and a check)."""
        return {
            "key": KEYS["AWS_ACCESS_KEY_ID"],
            "secret": KEYS["AWS_SECRET_ACCESS_KEY"],
            "client_kwargs": {"endpoint_url": self.endpoint, "region_name": KEYS["AWS_DEFAULT_REGION"]},
            "use_listings_cache": False,
        }

    @property
    def env(self) -> dict[str, str]:
        """Environment for a child process (botocore reads ``AWS_ENDPOINT_URL``)."""
        return {**KEYS, "AWS_ENDPOINT_URL": self.endpoint}

    def create_bucket(self, name: str) -> None:
        """Create a bucket (in us-east-1, which needs no location constraint)."""
        import boto3

        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=KEYS["AWS_DEFAULT_REGION"],
            aws_access_key_id=KEYS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=KEYS["AWS_SECRET_ACCESS_KEY"],
        )
        client.create_bucket(Bucket=name)

    def filesystem(self) -> Any:
        """A fresh s3fs filesystem on this server."""
        import s3fs

        return s3fs.S3FileSystem(skip_instance_cache=True, **self.storage_options)


@contextmanager
def s3_server() -> Iterator[S3Server]:
    """Start moto's threaded server on a free port; yield it; stop it."""
    from moto.server import ThreadedMotoServer

    # werkzeug logs every request to stderr; the tests check what the objects hold instead.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield S3Server(f"http://127.0.0.1:{port}")
    finally:
        server.stop()
