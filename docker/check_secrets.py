"""Refuse to deploy with a missing, placeholder, short or malformed secret.

docker-compose.yaml's `${X:?}` only checks that a secret is set, so the .env.example
placeholders got through, and a JWT secret everyone can read lets anyone forge an admin token.
Compose's `secrets-check` service runs this before every other service starts, on the secrets
it is given (every variable whose name has PASSWORD, SECRET or FERNET). Standard library only:
it runs in a bare Python image. One line per bad secret, naming it and how to make a good one.

    python docker/check_secrets.py        # checks the secrets in its environment
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import sys
from collections.abc import Mapping

SECRET_WORDS = ("PASSWORD", "SECRET", "FERNET")
TOKEN_COMMAND = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
FERNET_COMMAND = (
    "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
)
MIN_LENGTH = 32
# Airflow signs its JWTs with HS512, and RFC 7518 wants an HMAC key as long as the hash.
MIN_SECRET_LENGTH = 64
# The passwords go into connection URLs and every value into .env, where `@ : / ? # $`, quotes
# and blanks would break them; the generator's characters are these.
URL_SAFE = re.compile(r"[A-Za-z0-9._~-]+")
PLACEHOLDER = re.compile(r"<[^<>]*>")  # .env.example's form: <choose-a-postgres-password>
FERNET_KEY = re.compile(r"[A-Za-z0-9_-]{43}=")  # 32 bytes, url-safe base64, as Fernet makes them


def is_secret(name: str) -> bool:
    """Whether a variable holds a secret (the naming rule the compose file follows)."""
    return any(word in name for word in SECRET_WORDS)


def is_fernet_key(value: str) -> bool:
    """A key cryptography's Fernet accepts; Airflow also takes a comma-separated list
    (the new key first) while it rotates keys."""
    for key in value.split(","):
        try:
            valid = bool(FERNET_KEY.fullmatch(key)) and len(base64.urlsafe_b64decode(key)) == 32
        except (binascii.Error, ValueError):
            valid = False
        if not valid:
            return False
    return True


def problem(name: str, value: str) -> str | None:
    """What is wrong with secret `name` in one line, with the command that makes a good one;
    None when it is fine."""
    fernet = "FERNET" in name
    fix = f"generate one with: {FERNET_COMMAND if fernet else TOKEN_COMMAND}"
    if not value:
        return f"{name} is not set; {fix}"
    if PLACEHOLDER.fullmatch(value):
        return f"{name} is still the .env.example placeholder {value}; {fix}"
    if fernet:
        return None if is_fernet_key(value) else f"{name} is not a Fernet key; {fix}"
    if not URL_SAFE.fullmatch(value):
        return f"{name} has characters other than A-Z a-z 0-9 . _ ~ - (they break URLs); {fix}"
    need = MIN_SECRET_LENGTH if "SECRET" in name else MIN_LENGTH
    if len(value) < need:
        return f"{name} has {len(value)} characters, fewer than {need}; {fix}"
    return None


def problems(environ: Mapping[str, str]) -> list[str]:
    """One line per bad secret in `environ`; a line of its own when it holds no secret."""
    names = sorted(name for name in environ if is_secret(name))
    if not names:
        return ["no secrets to check: pass them to secrets-check in docker-compose.yaml"]
    return [line for name in names if (line := problem(name, environ[name])) is not None]


def main(environ: Mapping[str, str] = os.environ) -> int:
    found = problems(environ)
    for line in found:
        print(line, file=sys.stderr)
    if found:
        return 1
    print(f"secrets-check: {sum(map(is_secret, environ))} secrets are set and strong")
    return 0


if __name__ == "__main__":
    sys.exit(main())
