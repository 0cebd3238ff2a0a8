"""A Twilio Video access token, built here: a JWT signed HS256 with the API key's secret.

Twilio checks the signature when the client joins the room, so nothing needs the network
and nothing beyond the standard library (hmac, base64, json) is needed to make one. The
token carries the grant for one room and one participant identity, and an expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

DEFAULT_TTL_SECONDS: Final = 3600  # Twilio's own default: long enough for one visit
MAX_TTL_SECONDS: Final = 24 * 3600  # Twilio refuses tokens that live longer
HEADER: Final = {"alg": "HS256", "typ": "JWT", "cty": "twilio-fpa;v=1"}
_ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
_API_KEY_SID = re.compile(r"SK[0-9a-fA-F]{32}")


@dataclass(frozen=True)
class TwilioCredentials:
    account_sid: str  # "AC…": whose account the room belongs to
    api_key_sid: str  # "SK…": which key signed the token
    api_key_secret: str = field(repr=False)  # never printed, logged or stored


class CredentialProblem(StrEnum):
    MISSING = "missing"
    FORMAT = "format"


def credential_problems(
    account_sid: str | None, api_key_sid: str | None, api_key_secret: str | None
) -> dict[str, CredentialProblem]:
    """Which of the three values is absent or cannot be right (field name → problem), so the
    clinic learns of a swapped or mistyped value before a participant fails to join."""
    problems: dict[str, CredentialProblem] = {}
    for name, value, shape in (
        ("account_sid", account_sid, _ACCOUNT_SID),
        ("api_key_sid", api_key_sid, _API_KEY_SID),
        ("api_key_secret", api_key_secret, None),
    ):
        if not value or not value.strip():
            problems[name] = CredentialProblem.MISSING
        elif shape is not None and not shape.fullmatch(value.strip()):
            problems[name] = CredentialProblem.FORMAT
    return problems


# Where the clinic puts them: the environment of clinic-tui (field name → variable).
TWILIO_VARIABLES: Final = {
    "account_sid": "CLINIC_TWILIO_ACCOUNT_SID",
    "api_key_sid": "CLINIC_TWILIO_API_KEY_SID",
    "api_key_secret": "CLINIC_TWILIO_API_KEY_SECRET",
}


def credentials_from(
    environ: Mapping[str, str],
) -> tuple[TwilioCredentials | None, dict[str, CredentialProblem]]:
    """The credentials in an environment, or each variable that is missing or malformed."""
    values = {name: (environ.get(var) or "").strip() for name, var in TWILIO_VARIABLES.items()}
    problems = credential_problems(**values)
    if problems:
        return None, {TWILIO_VARIABLES[name]: problem for name, problem in problems.items()}
    return TwilioCredentials(**values), {}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def video_access_token(
    credentials: TwilioCredentials,
    *,
    identity: str,
    room: str,
    issued_at: int,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
) -> str:
    """The signed token for `identity` to join `room`; `issued_at` is Unix time in seconds."""
    if not identity or not room:
        raise ValueError("a video token needs an identity and a room")
    if not 0 < ttl_seconds <= MAX_TTL_SECONDS:
        raise ValueError(f"ttl_seconds must be 1…{MAX_TTL_SECONDS}")
    payload = {
        "jti": f"{credentials.api_key_sid}-{issued_at}",
        "iss": credentials.api_key_sid,
        "sub": credentials.account_sid,
        "exp": issued_at + ttl_seconds,
        "grants": {"identity": identity, "video": {"room": room}},
    }
    signing_input = f"{_b64url(_json(HEADER))}.{_b64url(_json(payload))}"
    signature = hmac.new(
        credentials.api_key_secret.encode("utf-8"), signing_input.encode("ascii"), hashlib.sha256
    ).digest()
    return f"{signing_input}.{_b64url(signature)}"
