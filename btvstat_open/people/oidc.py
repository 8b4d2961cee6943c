"""Sign-in with the city's identity provider: OpenID Connect's authorization code flow, by Authlib.

The issuer and client id come from settings, the client secret from the environment
(``BTVSTAT_OIDC_CLIENT_SECRET``). ``/login/sso`` sends the browser to the provider with a
fresh ``state``, ``nonce`` and PKCE verifier, kept in a short-lived signed cookie (SameSite=Lax,
so it comes back with the provider's redirect); ``/auth/callback`` checks the state, trades the
code for tokens, validates the ID token (signature from the provider's keys, issuer, audience,
expiry, nonce) and starts a session for the person it names, with the groups it lists (from
the claim ``oidc_groups_claim``, else the userinfo endpoint).
"""

from __future__ import annotations

import secrets
from typing import Any

from authlib.integrations.base_client.sync_app import BaseApp, OAuth2Mixin
from authlib.integrations.base_client.sync_openid import OpenIDMixin
from authlib.integrations.requests_client import OAuth2Session
from itsdangerous import BadSignature, URLSafeTimedSerializer

from btvstat_open.errors import BtvstatError, UsageError
from btvstat_open.people.access import Person
from btvstat_open.web.settings import Settings

__all__ = ["STATE_COOKIE", "OidcClient", "OidcFailed"]

STATE_COOKIE = "__Host-btvstat-oidc"
_STATE_SECONDS = 600


class OidcFailed(BtvstatError):
    """The identity provider's answer could not sign anyone in (HTTP 401)."""

    http_status = 401
    exit_code = 1
    default_code = "sign_in.failed"


class _NoTokenStore:
    """Authlib's framework hook: tokens are used once, at sign-in, and never kept."""

    def update_token(self, *args: Any, **kwargs: Any) -> None:
        return None


class _App(OAuth2Mixin, OpenIDMixin, BaseApp):  # type: ignore[misc]
    client_cls = OAuth2Session


class OidcClient:
    """The relying party of one server."""

    def __init__(self, settings: Settings) -> None:
        if not (settings.oidc_issuer and settings.oidc_client_id and settings.oidc_client_secret):
            raise UsageError(
                "Sign-in with an identity provider needs BTVSTAT_OIDC_ISSUER, BTVSTAT_OIDC_CLIENT_ID and "
                "BTVSTAT_OIDC_CLIENT_SECRET; set all three, or none to use local accounts only."
            )
        issuer = settings.oidc_issuer.rstrip("/")
        self.groups_claim = settings.oidc_groups_claim
        self._app = _App(
            _NoTokenStore(),
            name="sso",
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            server_metadata_url=f"{issuer}/.well-known/openid-configuration",
            client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256", "timeout": 10},
        )
        self._signer = URLSafeTimedSerializer(secrets.token_bytes(32), salt="btvstat-oidc-state")

    def start(self, redirect_uri: str, next_path: str) -> tuple[str, str]:
        """The provider's authorization URL and the state cookie's value."""
        try:
            made = self._app.create_authorization_url(redirect_uri)
        except Exception as exc:  # the provider is down or its discovery document is wrong
            raise OidcFailed(
                f"The identity provider did not answer ({type(exc).__name__}); try again later."
            ) from None
        kept = {
            "state": made["state"],
            "nonce": made["nonce"],
            "verifier": made["code_verifier"],
            "next": next_path,
            "redirect": redirect_uri,
        }
        return str(made["url"]), self._signer.dumps(kept)

    def finish(self, cookie: str | None, state: str, code: str) -> Person:
        """Check the provider's redirect against the state cookie; the person it signs in."""
        try:
            kept: dict[str, str] = self._signer.loads(cookie or "", max_age=_STATE_SECONDS)
        except BadSignature:
            raise OidcFailed("The sign-in took too long or came from elsewhere; start again.") from None
        if not code or not secrets.compare_digest(kept["state"], state):
            raise OidcFailed("The identity provider's answer does not match this sign-in; start again.")
        try:
            token = self._app.fetch_access_token(
                redirect_uri=kept["redirect"], code=code, code_verifier=kept["verifier"]
            )
            claims = dict(self._app.parse_id_token(token, nonce=kept["nonce"]))
            if self.groups_claim not in claims:
                claims.update(dict(self._app.userinfo(token=token)))
        except OidcFailed:
            raise
        except Exception as exc:
            raise OidcFailed(f"The identity provider's tokens were refused ({type(exc).__name__}).") from None
        return _person(claims, self.groups_claim)

    def next_path(self, cookie: str | None) -> str:
        """Where the person was going when sign-in started."""
        try:
            kept: dict[str, str] = self._signer.loads(cookie or "", max_age=_STATE_SECONDS)
        except BadSignature:
            return "/updates"
        return kept.get("next", "/updates")


def _person(claims: dict[str, Any], groups_claim: str) -> Person:
    """The person an ID token (and userinfo) names.

    Example:
        >>> _person({"email": "Ann@Example.gov", "name": "Ann", "groups": ["pw"]}, "groups")
        Person(email='ann@example.gov', name='Ann', groups=('pw',))
    """
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email or claims.get("email_verified") is False:
        raise OidcFailed(
            "The identity provider gave no verified e-mail address; ask it to release the email claim."
        )
    groups = claims.get(groups_claim) or []
    if isinstance(groups, str):
        groups = [groups]
    name = claims.get("name") if isinstance(claims.get("name"), str) else email
    return Person(email.lower(), str(name), tuple(str(g) for g in groups if isinstance(g, (str, int))))
