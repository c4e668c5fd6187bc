"""Emulation of the small JavaScript anti-bot answers (HTTP 412) of NHC-style sites.

The page's script declares a few variables, computes a cookie with string concatenation
and simple arithmetic, assigns it to `document.cookie` and reloads. Evaluating exactly
that subset (literals, names, + - * % and parentheses) with Python's `ast` is enough, and
never runs the site's code.
"""

from __future__ import annotations

import ast
import re

__all__ = ["ChallengeError", "solve_cookie_challenge"]

_VAR = re.compile(r"\bvar\s+([A-Za-z_$][\w$]*)\s*=\s*([^;]+);")
_ASSIGN = re.compile(r"document\.cookie\s*=\s*(.+?);\s*(?=location|window|setTimeout|$)", re.S)

Value = str | int


class ChallengeError(ValueError):
    """The anti-bot page uses a construct the emulator does not understand."""


def _evaluate(node: ast.AST, names: dict[str, Value]) -> Value:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, names)
    if isinstance(node, ast.Constant) and isinstance(node.value, str | int):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in names:
            raise ChallengeError(f"challenge script uses unknown name {node.id!r}")
        return names[node.id]
    if isinstance(node, ast.BinOp):
        left, right = _evaluate(node.left, names), _evaluate(node.right, names)
        if isinstance(node.op, ast.Add):
            if isinstance(left, str) or isinstance(right, str):
                return f"{left}{right}"  # JavaScript: a string on either side concatenates
            return left + right
        if isinstance(left, int) and isinstance(right, int):
            if isinstance(node.op, ast.Sub):
                return left - right
            if isinstance(node.op, ast.Mult):
                return left * right
            if isinstance(node.op, ast.Mod):
                return left % right
    raise ChallengeError(f"challenge script uses an unsupported expression: {ast.dump(node)[:80]}")


def _expression(source: str, names: dict[str, Value]) -> Value:
    # JavaScript identifiers may contain `$`; Python's may not.
    python = re.sub(r"\$", "_S_", source.strip())
    try:
        tree = ast.parse(python, mode="eval")
    except SyntaxError as exc:
        raise ChallengeError(f"cannot read challenge expression {source[:60]!r}") from exc
    return _evaluate(tree, {k.replace("$", "_S_"): v for k, v in names.items()})


def solve_cookie_challenge(html: str) -> tuple[str, str]:
    """The cookie (name, value) the challenge page's script would set."""
    script = " ".join(re.findall(r"<script[^>]*>(.*?)</script>", html, re.S | re.I)) or html
    names: dict[str, Value] = {}
    for name, expression in _VAR.findall(script):
        names[name] = _expression(expression, names)
    match = _ASSIGN.search(script)
    if match is None:
        raise ChallengeError("no document.cookie assignment in the challenge page")
    cookie = str(_expression(match.group(1), names))
    pair = cookie.split(";", 1)[0]
    if "=" not in pair:
        raise ChallengeError(f"challenge cookie has no name=value: {pair[:60]!r}")
    name, value = pair.split("=", 1)
    return name.strip(), value.strip()
