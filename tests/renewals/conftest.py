"""Fixtures for renewals: days around Acme's contract end, and a local SMTP sink."""

import asyncio
import socket
import threading
from collections.abc import Iterator
from datetime import date, datetime, time
from email import message_from_bytes
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

# Acme's contract (tests/conftest.py) ends on 30 April 2026: its first notice is due 1 March.
NOTICE_DAY = date(2026, 3, 1)


def at(day: date, hour: int = 6) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


class SmtpSink:
    """An SMTP server on 127.0.0.1 that keeps what it accepts.

    ``rcpt_reply``/``data_reply`` answer with an error code instead; ``hold_after`` makes
    every RCPT after that many wait (``held`` is set) until ``release`` is set, as a slow server would;
    ``drop_after`` closes the connection once, at the RCPT after that many were accepted.
    ``sessions`` counts the connections the server greeted.
    """

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.mail_reply: str | None = None  # e.g. "550 5.7.1 sender rejected": refuse the sender
        self.mail_froms = 0
        self.rcpt_reply: str | None = None
        self.data_reply: str | None = None
        self.hold_after: int | None = None
        self.drop_after: int | None = None
        self.sessions = 0
        self.accepted_rcpts = 0
        self.held = threading.Event()
        self.release = threading.Event()

    @property
    def recipients(self) -> list[str]:
        return [address for message in self.messages for address in message["X-Rcpt"].split(",")]

    async def handle_EHLO(self, server, session, envelope, hostname, responses) -> list[str]:  # noqa: N802
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options) -> str:  # noqa: N802
        self.mail_froms += 1
        if self.mail_reply:
            return self.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:  # noqa: N802
        if self.rcpt_reply:
            return self.rcpt_reply
        if self.drop_after is not None and self.accepted_rcpts >= self.drop_after:
            self.drop_after = None
            server.transport.close()  # the connection drops mid-conversation
            return "421 Connection dropped"
        if self.hold_after is not None and self.accepted_rcpts >= self.hold_after:
            self.held.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "421 Service shutting down"
        self.accepted_rcpts += 1
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
        if self.data_reply:
            return self.data_reply
        message = message_from_bytes(envelope.content)
        message["X-Rcpt"] = ",".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    controller.start()
    sink.port = controller.port
    yield sink
    sink.release.set()
    controller.stop()


@pytest.fixture
def smtp_settings(settings, smtp_sink) -> SmtpSink:
    """Send through the local sink with Django's SMTP backend, in this process."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_sink.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    return smtp_sink


@pytest.fixture
def worker_env(worker_env, smtp_sink) -> dict[str, str]:
    """A real worker sends to the local sink (never external SMTP)."""
    return {**worker_env, "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(smtp_sink.port), "EMAIL_USE_TLS": "0"}
