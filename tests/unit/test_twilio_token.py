"""The Twilio Video access token: decoded here by hand, its signature checked with the secret,
its claims read back; and the credentials check that explains what is missing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic_tui.domain.twilio_token import (
    DEFAULT_TTL_SECONDS,
    MAX_TTL_SECONDS,
    CredentialProblem,
    TwilioCredentials,
    credential_problems,
    credentials_from,
    video_access_token,
)

ACCOUNT = "AC" + "0123456789abcdef" * 2
KEY = "SK" + "fedcba9876543210" * 2
SECRET = "s3cr3t-of-the-clinic-api-key-000"
CREDENTIALS = TwilioCredentials(ACCOUNT, KEY, SECRET)
ISSUED = 1_795_000_000  # a moment in 2026


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def decode(token: str, secret: str = SECRET) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims, after checking the HS256 signature with `secret`."""
    header, payload, signature = token.split(".")
    expected = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert hmac.compare_digest(_unb64(signature), expected), "signature does not verify"
    return json.loads(_unb64(header)), json.loads(_unb64(payload))


def test_header_and_claims_are_twilios() -> None:
    token = video_access_token(
        CREDENTIALS, identity="staff-42", room="visit-20261122-ab12cd34ef", issued_at=ISSUED
    )
    header, claims = decode(token)
    assert header == {"alg": "HS256", "typ": "JWT", "cty": "twilio-fpa;v=1"}
    assert claims == {
        "jti": f"{KEY}-{ISSUED}",
        "iss": KEY,
        "sub": ACCOUNT,
        "exp": ISSUED + DEFAULT_TTL_SECONDS,
        "grants": {"identity": "staff-42", "video": {"room": "visit-20261122-ab12cd34ef"}},
    }


def test_the_token_is_url_safe_without_padding() -> None:
    token = video_access_token(CREDENTIALS, identity="patient-1", room="r", issued_at=ISSUED)
    assert token.count(".") == 2
    assert "=" not in token and "+" not in token and "/" not in token


def test_another_secret_does_not_verify_and_the_secret_is_not_inside() -> None:
    token = video_access_token(CREDENTIALS, identity="staff-1", room="room-1", issued_at=ISSUED)
    with pytest.raises(AssertionError, match="signature"):
        decode(token, secret="another-secret")
    assert SECRET not in token
    assert SECRET.encode() not in b"".join(_unb64(part) for part in token.split(".")[:2])
    assert SECRET not in repr(CREDENTIALS)


def test_a_changed_claim_breaks_the_signature() -> None:
    token = video_access_token(CREDENTIALS, identity="staff-1", room="room-1", issued_at=ISSUED)
    header, payload, signature = token.split(".")
    claims = json.loads(_unb64(payload))
    claims["grants"]["video"]["room"] = "someone-elses-room"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(AssertionError, match="signature"):
        decode(f"{header}.{forged}.{signature}")


def test_expiry_follows_the_ttl_and_stays_within_twilios_limit() -> None:
    token = video_access_token(
        CREDENTIALS, identity="staff-1", room="room-1", issued_at=ISSUED, ttl_seconds=600
    )
    assert decode(token)[1]["exp"] == ISSUED + 600
    for ttl in (0, -5, MAX_TTL_SECONDS + 1):
        with pytest.raises(ValueError):
            video_access_token(
                CREDENTIALS, identity="a", room="b", issued_at=ISSUED, ttl_seconds=ttl
            )
    with pytest.raises(ValueError):
        video_access_token(CREDENTIALS, identity="", room="b", issued_at=ISSUED)


@given(
    identity=st.text(min_size=1, max_size=100).filter(str.strip),
    room=st.from_regex(r"[A-Za-z0-9._-]{1,100}", fullmatch=True),
    issued_at=st.integers(min_value=1_500_000_000, max_value=4_000_000_000),
)
def test_any_identity_and_room_round_trip(identity: str, room: str, issued_at: int) -> None:
    _header, claims = decode(
        video_access_token(CREDENTIALS, identity=identity, room=room, issued_at=issued_at)
    )
    assert claims["grants"] == {"identity": identity, "video": {"room": room}}
    assert claims["jti"] == f"{KEY}-{issued_at}"


def test_credential_problems_name_what_is_missing_or_malformed() -> None:
    assert credential_problems(ACCOUNT, KEY, SECRET) == {}
    assert credential_problems(None, "", "  ") == {
        "account_sid": CredentialProblem.MISSING,
        "api_key_sid": CredentialProblem.MISSING,
        "api_key_secret": CredentialProblem.MISSING,
    }
    # The two SIDs swapped, a common slip when pasting from Twilio's console.
    assert credential_problems(KEY, ACCOUNT, SECRET) == {
        "account_sid": CredentialProblem.FORMAT,
        "api_key_sid": CredentialProblem.FORMAT,
    }


def test_credentials_from_the_environment() -> None:
    environ = {
        "CLINIC_TWILIO_ACCOUNT_SID": f" {ACCOUNT} ",
        "CLINIC_TWILIO_API_KEY_SID": KEY,
        "CLINIC_TWILIO_API_KEY_SECRET": SECRET,
    }
    assert credentials_from(environ) == (CREDENTIALS, {})
    credentials, problems = credentials_from({"CLINIC_TWILIO_ACCOUNT_SID": ACCOUNT})
    assert credentials is None
    assert problems == {
        "CLINIC_TWILIO_API_KEY_SID": CredentialProblem.MISSING,
        "CLINIC_TWILIO_API_KEY_SECRET": CredentialProblem.MISSING,
    }
