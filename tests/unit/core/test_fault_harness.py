"""The fault harness's accounting, on made-up outcomes (the runs themselves are in
tests/integration/faults)."""

from __future__ import annotations

from email.message import EmailMessage

from hitwatch.bench.cli import _FAULT_NAMES
from hitwatch.bench.faults import ALERT_ADDRESS, FAULTS, Accounting, _alerts
from hitwatch.bench.inbox import Inbox


def _accounting(**changes: int) -> Accounting:
    fields = {
        "handed_over": 10,
        "indexed": 9,
        "searchable": 9,
        "stored": 9,
        "failures": 1,
        "lost": 0,
        "duplicates": 0,
        "stored_and_failed": 0,
        "alerts_sent": 4,
        "alerts_twice": 0,
        "alerts_unsent": 0,
        "replayed": 1,
        **changes,
    }
    return Accounting(fault="test", seconds=1.0, **fields)


def test_the_command_offers_every_fault_of_the_harness():
    assert set(_FAULT_NAMES) == set(FAULTS)


def test_a_run_holds_only_when_nothing_is_lost_twice_or_out_of_step():
    assert _accounting().holds
    assert "lost 0" in _accounting().line() and "twice 0" in _accounting().line()
    for broken in (
        {"lost": 1},
        {"duplicates": 1},
        {"alerts_twice": 1},
        {"alerts_unsent": 1},
        {"stored_and_failed": 1},
        {"searchable": 8},
    ):
        assert not _accounting(**broken).holds, broken


def _mail(subject: str, message_id: str) -> EmailMessage:
    message = EmailMessage()
    message["To"] = ALERT_ADDRESS
    message["Subject"] = subject
    message["Message-ID"] = message_id
    return message


def test_an_alert_resent_with_its_message_id_is_not_counted_twice_but_a_new_id_is():
    inbox = Inbox()
    inbox.messages = [
        _mail("a", "<alert.1.s1@example.org>"),
        _mail("a", "<alert.1.s1@example.org>"),  # sent again after a crash: shown once
        _mail("b", "<alert.1.s2@example.org>"),
        _mail("b", "<random@example.org>"),  # a reader sees this one twice
    ]
    assert _alerts(inbox) == (2, 1, 1)
