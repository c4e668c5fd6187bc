"""The mirror's imitation of the NHC-style anti-bot answer: HTTP 412 and a script that
computes a cookie and reloads. The crawler must emulate the script to get the page."""

from __future__ import annotations

__all__ = ["challenge_page", "expected_cookie"]

# Each site names its cookie differently; all mirrored sites share one host, so they must.
COOKIE_NAMES = {"www.nhc.gov.cn": "__jsl_clearance_s", "www.nmpa.gov.cn": "NfBCSins2OywS"}


def _parts(secret: int, host: str) -> tuple[int, int, str]:
    salt = sum(host.encode()) % 89
    return secret + salt, (secret + salt) % 97 + 3, f"{salt:x}"


def expected_cookie(secret: int, host: str) -> tuple[str, str]:
    stamp, check, key = _parts(secret, host)
    return COOKIE_NAMES.get(host, "__jsl_clearance"), f"{stamp}.{check}|{key}"


def challenge_page(secret: int, host: str) -> str:
    stamp, _check, key = _parts(secret, host)
    name = COOKIE_NAMES.get(host, "__jsl_clearance")
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><script>'
        f"var _0x5c1={stamp};var _0x2d7='{key}';var _0x9a4=_0x5c1%97+3;"
        f"document.cookie='{name}='+_0x5c1+'.'+_0x9a4+'|'+_0x2d7+';max-age=3600;path=/';"
        "location.href=location.pathname+location.search;"
        "</script></body></html>"
    )
