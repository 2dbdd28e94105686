"""Two-factor authentication: TOTP codes (RFC 6238, with pyotp), one-time recovery codes, login challenges.

- A TOTP code is accepted for the current 30-second step or one step either side (clock drift, RFC 6238 §5.2),
  and only once: the accepted step is stored and a code of that step or an earlier one is refused (replay).
- Recovery codes are 10 random codes shown once; stored as SHA-256 digests (they are high-entropy, so a fast hash
  is enough) and spent atomically (`UPDATE … WHERE used_at IS NULL`), so one code logs in once.
- After a correct password, an operator with 2FA gets a *challenge* instead of a session: an HMAC-signed token
  naming the operator and an expiry, bound to the operator's password hash (a password change voids it). The
  code is then sent with the challenge; code guesses are throttled per operator like passwords.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
from sqlalchemy import delete, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.auth.models import Operator, RecoveryCode
from helpline.platform.clock import utcnow
from helpline.platform.crypto import SecretBox
from helpline.platform.errors import Invalid, Unauthorized

ISSUER = "Helpline"
STEP_SECONDS = 30
DRIFT_STEPS = 1
RECOVERY_CODES = 10
CHALLENGE_SECONDS = 300


# ---------------------------------------------------------------- TOTP


def new_secret() -> str:
    """A random base32 secret (160 bits, RFC 4226 §4 recommends at least 128)."""
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, email: str, issuer: str = ISSUER) -> str:
    """The otpauth:// URI authenticator apps import (Key Uri Format)."""
    return pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(name=email, issuer_name=issuer)


def matching_step(secret: str, code: str, at: datetime) -> int | None:
    """The time step (Unix time // 30) whose code is `code`, within ±1 step of `at`; None if none matches."""
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    now_step = int(at.timestamp()) // STEP_SECONDS
    for step in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


async def accept_totp(session: AsyncSession, operator: Operator, code: str, box: SecretBox) -> bool:
    """True when `code` is valid now and was not used before (the step is recorded atomically)."""
    if not operator.totp_secret:
        return False
    step = matching_step(str(box.open(operator.totp_secret)["totp_secret"]), code, utcnow())
    if step is None:
        return False
    result = await session.execute(
        update(Operator)
        .where(
            Operator.id == operator.id,
            or_(Operator.totp_last_step.is_(None), Operator.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    accepted = bool(result.rowcount)  # type: ignore[attr-defined]
    if accepted:
        operator.totp_last_step = step
    return accepted


# ---------------------------------------------------------------- recovery codes


def _digest(code: str) -> str:
    normalized = "".join(code.split()).replace("-", "").lower()
    return hashlib.sha256(normalized.encode()).hexdigest()


def looks_like_recovery_code(code: str) -> bool:
    return len("".join(code.split()).replace("-", "")) == 10


async def replace_recovery_codes(session: AsyncSession, operator_id: int) -> list[str]:
    """Forget the operator's recovery codes and issue RECOVERY_CODES new ones ("xxxxx-xxxxx", hex); shown once."""
    await session.execute(delete(RecoveryCode).where(RecoveryCode.operator_id == operator_id))
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODES)]
    session.add_all(RecoveryCode(operator_id=operator_id, digest=_digest(code)) for code in codes)
    await session.flush()
    return [f"{code[:5]}-{code[5:]}" for code in codes]


async def use_recovery_code(session: AsyncSession, operator_id: int, code: str) -> bool:
    """Spend one recovery code; True once per code, False for an unknown or already used one."""
    result = await session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.operator_id == operator_id,
            RecoveryCode.digest == _digest(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def check_second_factor(session: AsyncSession, operator: Operator, code: str, box: SecretBox) -> str:
    """Accept a TOTP code or a recovery code; returns "totp" or "recovery_code"; raises Unauthorized otherwise."""
    if looks_like_recovery_code(code):
        if await use_recovery_code(session, operator.id, code):
            return "recovery_code"
    elif await accept_totp(session, operator, code, box):
        return "totp"
    raise Unauthorized("that code is not valid (or was already used)", code="bad_two_factor_code")


# ---------------------------------------------------------------- enrolment


async def begin_enrolment(operator: Operator, box: SecretBox) -> str:
    """Store a fresh, not yet enabled secret; returns it (the operator types it or imports the URI)."""
    if operator.totp_enabled:
        raise Invalid("two-factor authentication is already on; turn it off first", code="two_factor_enabled")
    secret = new_secret()
    operator.totp_secret = box.seal({"totp_secret": secret})
    operator.totp_last_step = None
    return secret


async def finish_enrolment(session: AsyncSession, operator: Operator, code: str, box: SecretBox) -> list[str]:
    """Enable 2FA once the operator proves the authenticator works; returns the new recovery codes."""
    if operator.totp_enabled:
        raise Invalid("two-factor authentication is already on", code="two_factor_enabled")
    if not operator.totp_secret:
        raise Invalid("start the set-up first (POST …/two-factor/setup)", code="two_factor_not_started")
    if not await accept_totp(session, operator, code, box):
        raise Invalid("that code does not match the authenticator; check the device clock", code="bad_two_factor_code")
    operator.totp_enabled = True
    return await replace_recovery_codes(session, operator.id)


async def turn_off(session: AsyncSession, operator: Operator) -> None:
    operator.totp_enabled = False
    operator.totp_secret = None
    operator.totp_last_step = None
    await session.execute(delete(RecoveryCode).where(RecoveryCode.operator_id == operator.id))


# ---------------------------------------------------------------- login challenge


@dataclass(frozen=True)
class Challenge:
    operator_id: int
    expires: int


def _challenge_mac(secret_key: str, operator_id: int, expires: int, password_hash: str) -> str:
    message = f"2fa-challenge:{operator_id}:{expires}:{password_hash}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def make_challenge(secret_key: str, operator: Operator, now: datetime) -> tuple[str, int]:
    """(token, seconds it is valid): "<operator id>.<expiry unix time>.<hmac>"."""
    expires = int(now.timestamp()) + CHALLENGE_SECONDS
    mac = _challenge_mac(secret_key, operator.id, expires, operator.password_hash)
    return f"{operator.id}.{expires}.{mac}", CHALLENGE_SECONDS


def parse_challenge(token: str) -> Challenge:
    """The claimed operator and expiry (not yet verified: `verify_challenge` checks the MAC)."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        raise Unauthorized("this sign-in step has expired; start again", code="bad_challenge")
    return Challenge(operator_id=int(parts[0]), expires=int(parts[1]))


def verify_challenge(secret_key: str, token: str, operator: Operator, now: datetime) -> None:
    challenge = parse_challenge(token)
    expected = _challenge_mac(secret_key, operator.id, challenge.expires, operator.password_hash)
    if (
        challenge.operator_id != operator.id
        or challenge.expires < int(now.timestamp())
        or not hmac.compare_digest(expected, token.rsplit(".", 1)[-1])
    ):
        raise Unauthorized("this sign-in step has expired; start again", code="bad_challenge")
