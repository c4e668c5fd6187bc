"""Accounts: staff and reader users, roles, passwords, API tokens and the audit log.

Beside the pipeline (crawl -> classify -> index -> publish/alert): the web app asks it who
is calling and what they may do; the digest workflow and failure replays name the acting
user from it. Subscribers need no account (signed links serve them).
"""

from hitwatch.accounts.audit import (
    AUDIT_ACTIONS,
    count_events,
    list_events,
    record_event,
    shell_actor,
)
from hitwatch.accounts.tokens import (
    PASSWORD_LINK_MAX_AGE,
    PASSWORD_RESET_MAX_AGE,
    create_api_token,
    list_api_tokens,
    make_password_link,
    revoke_api_token,
    user_for_api_token,
    user_for_password_link,
)
from hitwatch.accounts.users import (
    ROLES,
    AccountError,
    Role,
    add_user,
    authenticate,
    count_admins,
    display_names,
    find_user,
    list_users,
    remove_user,
    set_password,
    set_role,
)

__all__ = [
    "AUDIT_ACTIONS",
    "PASSWORD_LINK_MAX_AGE",
    "PASSWORD_RESET_MAX_AGE",
    "ROLES",
    "AccountError",
    "Role",
    "add_user",
    "authenticate",
    "count_admins",
    "count_events",
    "create_api_token",
    "display_names",
    "find_user",
    "list_api_tokens",
    "list_events",
    "list_users",
    "make_password_link",
    "record_event",
    "remove_user",
    "revoke_api_token",
    "set_password",
    "set_role",
    "shell_actor",
    "user_for_api_token",
    "user_for_password_link",
]
