"""A city service signs a citizen in through simin's OpenID Connect provider, with
Authlib (https://authlib.org) as the service's client: a library nobody on this project
wrote. Discovery, the authorization code flow with PKCE (S256), the ID token validated
by Authlib against the provider's JWKS, userinfo; then the refusals the issue names.

The citizen's side is the real wallet: `simin wallet login --yes LINK`.

Environment (set by scripts/browser-test): SIMIN_GATEWAY (the provider's URL), SIMIN_BIN
(the simin binary), SIMIN_WALLET_DIR and SIMIN_WALLET_PASSPHRASE (a wallet holding a
citizen card), SIMIN_NODE, SIMIN_OIDC_CLIENT_ID and SIMIN_OIDC_REDIRECT_URI (a public
client registered for age_over_19 and resident_district), SIMIN_OIDC_CONFIDENTIAL_ID
and SIMIN_OIDC_CONFIDENTIAL_SECRET (a confidential one), SIMIN_SUSPEND (a command that
suspends the wallet's card; SIMIN_UNSUSPEND lifts it).

Run: python -m unittest -v test_authlib_login.py
"""

import html
import os
import re
import subprocess
import time
import unittest
from urllib.parse import parse_qs, urlparse

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.integrations.base_client.errors import OAuthError as ClientOAuthError
from authlib.common.security import generate_token
from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken

GATEWAY = os.environ.get("SIMIN_GATEWAY", "http://127.0.0.1:8091").rstrip("/")
SIMIN = os.environ.get("SIMIN_BIN", "simin")
CLIENT_ID = os.environ.get("SIMIN_OIDC_CLIENT_ID", "authlib-test")
REDIRECT_URI = os.environ.get("SIMIN_OIDC_REDIRECT_URI", "http://127.0.0.1:9/callback")
CONFIDENTIAL_ID = os.environ.get("SIMIN_OIDC_CONFIDENTIAL_ID", "")
CONFIDENTIAL_SECRET = os.environ.get("SIMIN_OIDC_CONFIDENTIAL_SECRET", "")
SCOPE = "openid age_over_19 resident_district"


def discover():
    response = requests.get(f"{GATEWAY}/.well-known/openid-configuration", timeout=10)
    response.raise_for_status()
    return response.json()


METADATA = discover()


def wallet_login(link):
    """The citizen approves with the real wallet; returns the completed process."""
    return subprocess.run(
        [SIMIN, "wallet", "login", "--yes", link],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


class Browser:
    """The citizen's browser: keeps the provider's cookie, follows no redirect by itself."""

    def __init__(self):
        self.http = requests.Session()

    def open_authorize(self, url):
        return self.http.get(url, allow_redirects=False, timeout=10)

    def approve(self, url):
        """Opens the approval page, lets the wallet answer, returns the redirect to the
        service (the authorization response)."""
        page = self.open_authorize(url)
        assert page.status_code == 200, page.text
        link = html.unescape(re.search(r'data-wallet-link="([^"]+)"', page.text).group(1))
        request_id = urlparse(parse_qs(urlparse(link).query)["request_uri"][0]).path.rsplit("/", 1)[1]
        done = wallet_login(link)
        onward = self.http.get(
            f"{GATEWAY}/login/{request_id}/continue", allow_redirects=False, timeout=10
        )
        assert onward.status_code == 303, onward.text
        return done, onward.headers["Location"]


def client(**kwargs):
    return OAuth2Session(
        client_id=kwargs.pop("client_id", CLIENT_ID),
        scope=kwargs.pop("scope", SCOPE),
        redirect_uri=kwargs.pop("redirect_uri", REDIRECT_URI),
        code_challenge_method="S256",
        token_endpoint_auth_method=kwargs.pop("auth", "none"),
        **kwargs,
    )


def validated_id_token(token, nonce, client_id=CLIENT_ID):
    keys = JsonWebKey.import_key_set(requests.get(METADATA["jwks_uri"], timeout=10).json())
    claims = jwt.decode(
        token["id_token"],
        keys,
        claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "value": METADATA["issuer"]}},
        claims_params={"nonce": nonce, "client_id": client_id},
    )
    claims.validate(leeway=5)
    return claims


class AuthlibLogin(unittest.TestCase):
    def start(self, session, **params):
        verifier = generate_token(48)
        nonce = generate_token(20)
        url, state = session.create_authorization_url(
            METADATA["authorization_endpoint"], code_verifier=verifier, nonce=nonce, **params
        )
        return url, state, verifier, nonce

    def test_discovery_names_what_a_client_needs(self):
        self.assertEqual(METADATA["issuer"], GATEWAY)
        self.assertIn("S256", METADATA["code_challenge_methods_supported"])
        self.assertEqual(METADATA["subject_types_supported"], ["pairwise"])
        self.assertIn("EdDSA", METADATA["id_token_signing_alg_values_supported"])

    def test_code_flow_with_pkce_id_token_and_userinfo(self):
        session = client()
        url, state, verifier, nonce = self.start(session)
        done, location = Browser().approve(url)
        self.assertEqual(done.returncode, 0, done.stderr + done.stdout)
        token = session.fetch_token(
            METADATA["token_endpoint"],
            authorization_response=location,
            code_verifier=verifier,
            state=state,
        )
        claims = validated_id_token(token, nonce)
        self.assertEqual(claims["aud"], CLIENT_ID)
        self.assertEqual(claims["age_over_19"], True)
        self.assertIn("resident_district", claims)
        for private in ("card_number", "name", "birthdate"):
            self.assertNotIn(private, claims)
        info = session.get(METADATA["userinfo_endpoint"], timeout=10).json()
        self.assertEqual(info["sub"], claims["sub"])
        self.assertEqual(set(info), {"sub", "age_over_19", "resident_district"})

        # The authorization code cannot be used twice; the tokens it gave are revoked.
        again = client()
        with self.assertRaises(ClientOAuthError) as refused:
            again.fetch_token(
                METADATA["token_endpoint"],
                authorization_response=location,
                code_verifier=verifier,
                state=state,
            )
        self.assertEqual(refused.exception.error, "invalid_grant")
        self.assertEqual(
            session.get(METADATA["userinfo_endpoint"], timeout=10).status_code, 401
        )

    def test_pkce_mismatch_is_invalid_grant(self):
        session = client()
        url, state, _verifier, _nonce = self.start(session)
        done, location = Browser().approve(url)
        self.assertEqual(done.returncode, 0, done.stderr)
        with self.assertRaises(ClientOAuthError) as refused:
            session.fetch_token(
                METADATA["token_endpoint"],
                authorization_response=location,
                code_verifier=generate_token(48),
                state=state,
            )
        self.assertEqual(refused.exception.error, "invalid_grant")

    def test_confidential_client_authenticates_with_client_secret_basic(self):
        if not CONFIDENTIAL_ID:
            self.skipTest("no confidential client registered")
        session = client(
            client_id=CONFIDENTIAL_ID,
            client_secret=CONFIDENTIAL_SECRET,
            auth="client_secret_basic",
            scope="openid age_over_19",
        )
        url, state, verifier, nonce = self.start(session)
        done, location = Browser().approve(url)
        self.assertEqual(done.returncode, 0, done.stderr)
        token = session.fetch_token(
            METADATA["token_endpoint"],
            authorization_response=location,
            code_verifier=verifier,
            state=state,
        )
        claims = validated_id_token(token, nonce, CONFIDENTIAL_ID)
        self.assertEqual(claims["age_over_19"], True)
        self.assertNotIn("resident_district", claims, "only the scopes asked for")

    def test_unregistered_redirect_uri_is_shown_not_redirected(self):
        session = client(redirect_uri="http://127.0.0.1:9/somewhere-else")
        url, *_ = self.start(session)
        page = Browser().open_authorize(url)
        self.assertEqual(page.status_code, 400)
        self.assertNotIn("Location", page.headers)

    def test_scope_beyond_the_registration_is_invalid_scope(self):
        session = client(scope="openid name")
        url, state, *_ = self.start(session)
        page = Browser().open_authorize(url)
        self.assertEqual(page.status_code, 303)
        query = parse_qs(urlparse(page.headers["Location"]).query)
        self.assertEqual(query["error"], ["invalid_scope"])
        self.assertEqual(query["state"], [state])
        self.assertNotIn("code", query)

    def test_suspended_card_is_access_denied_and_no_code(self):
        suspend = os.environ.get("SIMIN_SUSPEND")
        unsuspend = os.environ.get("SIMIN_UNSUSPEND")
        if not suspend or not unsuspend:
            self.skipTest("no suspend command given")
        subprocess.run(suspend, shell=True, check=True, timeout=60)
        try:
            time.sleep(1.5)  # effective from the next block
            session = client()
            url, state, *_ = self.start(session)
            done, location = Browser().approve(url)
            self.assertNotEqual(done.returncode, 0, "the wallet reports the refusal")
            query = parse_qs(urlparse(location).query)
            self.assertEqual(query["error"], ["access_denied"])
            self.assertIn("suspended", query["error_description"][0])
            self.assertNotIn("code", query)
            with self.assertRaises(ClientOAuthError):
                session.fetch_token(
                    METADATA["token_endpoint"], authorization_response=location, state=state
                )
        finally:
            subprocess.run(unsuspend, shell=True, check=True, timeout=60)
            time.sleep(1.5)


if __name__ == "__main__":
    unittest.main(verbosity=2)
