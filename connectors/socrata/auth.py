"""Credentials for a Socrata portal, sent with every request, never shown in full.

Socrata takes an application token in ``X-App-Token`` (raises rate limits), an API key
id/secret or a user name/password as HTTP Basic (needed for writes and private data),
or an OAuth 2 token as ``Authorization: OAuth <token>``.
"""

from __future__ import annotations

from dataclasses import dataclass

from btvstat_open.errors import UsageError

__all__ = ["Credentials", "redact"]


def redact(secret: str | None) -> str | None:
    """A secret shown safely: stars, and the last 2 characters of a secret of 12 or more.

    Example:
        >>> redact("s3cretvalue-long"), redact("short")
        ('***ng', '***')
        >>> redact(None) is None
        True
    """
    if secret is None:
        return None
    return "***" + (secret[-2:] if len(secret) >= 12 else "")


@dataclass(frozen=True)
class Credentials:
    """Who the connector is, for the portal. Its repr never shows a secret.

    Example:
        >>> Credentials(app_token="abcdefghijklmnop")
        Credentials(app_token='***op')
    """

    app_token: str | None = None
    username: str | None = None
    password: str | None = None
    api_key_id: str | None = None
    api_key_secret: str | None = None
    oauth_token: str | None = None

    def __post_init__(self) -> None:
        if (self.username is None) != (self.password is None):
            raise UsageError("Give both username and password (or neither).")
        if (self.api_key_id is None) != (self.api_key_secret is None):
            raise UsageError("Give both api_key_id and api_key_secret (or neither).")
        basics = (self.username is not None) + (self.api_key_id is not None) + (self.oauth_token is not None)
        if basics > 1:
            raise UsageError(
                "Use one of username/password, API key id/secret or an OAuth token, not several."
            )

    @property
    def any(self) -> bool:
        """Whether any credential is set (SODA 3 needs one)."""
        return any(v is not None for v in (self.app_token, self.username, self.api_key_id, self.oauth_token))

    def headers(self) -> dict[str, str]:
        """The headers that carry these credentials (the app token, an OAuth token).

        Example:
            >>> Credentials(app_token="t0ken", oauth_token="abc").headers()
            {'X-App-Token': 't0ken', 'Authorization': 'OAuth abc'}
        """
        found: dict[str, str] = {}
        if self.app_token:
            found["X-App-Token"] = self.app_token
        if self.oauth_token:
            found["Authorization"] = f"OAuth {self.oauth_token}"
        return found

    def basic_auth(self) -> tuple[str, str] | None:
        """HTTP Basic user and password: the API key id/secret, or the user name/password.

        Example:
            >>> Credentials(api_key_id="k", api_key_secret="s").basic_auth()
            ('k', 's')
        """
        if self.api_key_id is not None and self.api_key_secret is not None:
            return (self.api_key_id, self.api_key_secret)
        if self.username is not None and self.password is not None:
            return (self.username, self.password)
        return None

    def secrets(self) -> list[str]:
        """Every secret value, to scrub from messages."""
        values = (self.app_token, self.password, self.api_key_secret, self.oauth_token)
        return [v for v in values if v]

    def scrub(self, text: str) -> str:
        """``text`` with every secret replaced by its redacted form."""
        for secret in self.secrets():
            text = text.replace(secret, redact(secret) or "")
        return text

    def __repr__(self) -> str:
        parts = []
        if self.app_token:
            parts.append(f"app_token={redact(self.app_token)!r}")
        if self.username is not None:
            parts.append(f"username={self.username!r}, password='***'")
        if self.api_key_id is not None:
            parts.append(f"api_key_id={self.api_key_id!r}, api_key_secret='***'")
        if self.oauth_token:
            parts.append(f"oauth_token={redact(self.oauth_token)!r}")
        return f"Credentials({', '.join(parts)})"
