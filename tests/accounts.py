"""Accounts for tests: make a user of a role and sign a test client in through /login."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from hitwatch.accounts import add_user
from hitwatch.store import Database

PASSWORD = "correct horse battery staple"

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def form_token(client: FlaskClient, path: str = "/login") -> str:
    """The form token of the client's session, read from a page that carries a form."""
    match = _CSRF.search(client.get(path, follow_redirects=True).get_data(as_text=True))
    assert match, f"no form token on {path}"
    return match.group(1)


def make_user(database: Database, role: str, email: str | None = None) -> str:
    address = email or f"{role}@example.org"
    with database.session() as session:
        add_user(session, address, role, password=PASSWORD)
    return address


def sign_in(client: FlaskClient, database: Database, role: str, email: str | None = None) -> str:
    """Create an account of `role` and log `client` in with it, as a person would."""
    address = make_user(database, role, email)
    response = client.post(
        "/login", data={"csrf_token": form_token(client), "email": address, "password": PASSWORD}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return address
