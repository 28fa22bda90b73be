"""Renewal-notice emails: render admin-edited templates safely and hand them to SMTP.

Templates are rendered by a sandboxed engine (no loaders, no tag libraries) from plain
string values, so an edited template cannot include files or reach model methods. Every
header value is reduced to one clean line before it reaches the message, so a contact or
CSM name cannot inject headers.
"""

import contextlib
import functools
import re
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from email.utils import formataddr, parseaddr
from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import sanitize_address
from django.core.validators import validate_email
from django.template import Context, Engine, Template, TemplateDoesNotExist, TemplateSyntaxError
from django.template.loader import get_template
from django.utils.html import escape, linebreaks, urlize

from accounts.models import Contact

from . import answers, unsubscribe
from .models import Contract, NoticeTemplate, Renewal, RenewalNotice
from .terms import next_term_end, on_terms_amount

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Variables a template may use; shown to admins next to the editor.
CONTEXT_HELP = {
    "account": "Customer account name",
    "vendor": "Your company's name (CSM_VENDOR_NAME)",
    "program": "Program name (may be empty)",
    "contact_name": "Recipient's full name",
    "contact_first_name": "Recipient's first name",
    "contract_start": "Current term start, e.g. 1 May 2025",
    "contract_end": "Current term end",
    "days_left": "Days from the notice to the end of the term",
    "amount": "Current recurring amount per year, with currency",
    "uplift_pct": "Uplift on renewal, e.g. 5%",
    "renewal_amount": "Proposed renewal amount per year, with currency",
    "csm_name": "The success manager's name",
    "csm_email": "The success manager's email (also the Reply-To)",
    "is_follow_up": "True for follow-up notices",
    "unsubscribe_url": "Link that stops renewal notices to this recipient",
    "answer_renew_url": "Answer link: “We plan to renew”",
    "answer_talk_url": "Answer link: “Let's talk” (the CSM gets a call task)",
    "answer_wrong_person_url": "Answer link: “I'm not the right person” (names who is)",
    "auto_renew": "True when the contract renews automatically at its end",
    "auto_renewal_text": "For auto-renewing contracts: when it renews, for how much, and how to cancel",
}

SANDBOX = Engine(loaders=[], libraries={}, autoescape=True)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


class TransientSendError(Exception):
    """The mail server may accept the message later (4xx, connection trouble): retry."""


class NotTriedError(TransientSendError):
    """The server could not be reached for an earlier message of the batch; this one was not tried."""


class PermanentSendError(Exception):
    """The mail server refused for good (5xx, invalid address): do not retry."""


class UnknownOutcomeError(Exception):
    """The connection broke after the body went out: the server may or may not have it."""


class ServerRefusedError(Exception):
    """The relay refused the session or the sender (5xx greeting, 535 at AUTH, 5xx at MAIL FROM).

    Not the recipient's fault: every notice would fail the same way, so sending pauses.
    """


@dataclass(frozen=True)
class Sources:
    subject: str
    text_body: str
    html_body: str


def one_line(value: str, *, limit: int = 200) -> str:
    """Collapse control characters (CR, LF, tabs ...) to spaces: a header value stays one header."""
    return " ".join(_CONTROL.sub(" ", value).split())[:limit]


def builtin_sources() -> Sources:
    def source(name: str) -> str:
        return get_template(f"emails/{name}").template.source  # type: ignore[attr-defined]  # the Django backend's Template

    return Sources(
        source("renewal-notice-subject.txt").strip(),
        source("renewal-notice-body.txt"),
        source("renewal-notice-body.html"),
    )


def sources_for(program_id: int | None) -> Sources:
    """The program's own template, else the default row, else the built-in files."""
    rows = {row.program_id: row for row in NoticeTemplate.objects.filter(program_id__in=[program_id, None])}
    row = rows.get(program_id) or rows.get(None)
    if row is None:
        return builtin_sources()
    return Sources(row.subject, row.text_body, row.html_body)


def check_template_source(source: str) -> None:
    """Raise ValidationError when an admin's template does not compile or render."""
    try:
        SANDBOX.from_string(source).render(Context(sample_context()))
    except (TemplateSyntaxError, TemplateDoesNotExist, ValueError, LookupError, TypeError) as exc:
        raise ValidationError(f"This template does not render: {exc}") from exc


def money(amount: Decimal, currency: str) -> str:
    return f"{currency} {amount:,.2f}"


def pretty_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def sample_context() -> dict:
    return {
        "account": "Acme",
        "vendor": "Example Software",
        "program": "Professional",
        "contact_name": "Dana Buyer",
        "contact_first_name": "Dana",
        "contract_start": "1 May 2025",
        "contract_end": "30 April 2026",
        "days_left": 60,
        "amount": "USD 24,000.00",
        "uplift_pct": "5%",
        "renewal_amount": "USD 25,200.00",
        "csm_name": "Alice Martin",
        "csm_email": "alice@example.com",
        "is_follow_up": False,
        "unsubscribe_url": "https://csm.example.com/r/unsubscribe/sample/",
        "answer_renew_url": "https://csm.example.com/r/answer/renew/",
        "answer_talk_url": "https://csm.example.com/r/answer/talk/",
        "answer_wrong_person_url": "https://csm.example.com/r/answer/wrong-person/",
        "auto_renew": False,
        "auto_renewal_text": "",
    }


def notice_context(notice: RenewalNotice, *, follow_up: bool | None = None) -> dict:
    """The template variables of the notice; ``follow_up``, when the caller knows it (a sending
    batch reads it for all its notices at once), spares the query for ``is_follow_up``."""
    contract, renewal, contact = notice.contract, notice.renewal, notice.contact
    csm = renewal.owner or contract.account.owner
    uplift = renewal.uplift_pct.normalize()
    csm_name, csm_email = csm_identity(csm)
    renewal_amount = on_terms_amount(contract, renewal) if contract.auto_renew else renewal.renewal_amount
    return {
        "account": contract.account.name,
        "vendor": settings.CSM_VENDOR_NAME,
        "program": contract.program.name if contract.program else "",
        "contact_name": contact.name,
        "contact_first_name": contact.name.split(" ")[0] if contact.name else "",
        "contract_start": pretty_date(contract.starts_on),
        "contract_end": pretty_date(contract.ends_on),
        "days_left": contract.days_left(notice.scheduled_on),
        "amount": money(contract.recurring_amount, contract.currency),
        "uplift_pct": f"{uplift:f}%",
        "renewal_amount": money(renewal_amount, contract.currency),
        "csm_name": csm_name,
        "csm_email": csm_email,
        # A contract recorded late gets a follow-up cycle as its first email: not "A reminder:".
        "is_follow_up": follow_up
        if follow_up is not None
        else notice.cycle != RenewalNotice.FIRST
        and RenewalNotice.objects.filter(contract_id=notice.contract_id, status=RenewalNotice.Status.SENT)
        .exclude(cycle=notice.cycle)
        .exists(),
        "unsubscribe_url": unsubscribe.unsubscribe_url(notice),
        **answers.answer_urls(notice),
        "auto_renew": contract.auto_renew,
        "auto_renewal_text": auto_renewal_text(notice, csm_name=csm_name, csm_email=csm_email)
        if contract.auto_renew
        else "",
    }


def csm_identity(csm: "User | None") -> tuple[str, str]:
    """The name and address customers' mail comes from: the CSM's, else Customer Success at our address."""
    name = (csm.get_full_name() or csm.username) if csm else "Customer Success"
    email = csm.email if csm and csm.email else parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return name, email


def addresses(*, csm_name: str, csm_email: str, to_name: str, to: str) -> tuple[str, str, str]:
    """(From, To, Reply-To) of a customer email: the CSM's name on our address, the CSM as Reply-To.

    Every customer email (renewal notices, surveys) uses it, so the sender identity is one rule.
    """
    from_address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    sender = formataddr((one_line(csm_name, limit=100), from_address))
    recipient = formataddr((one_line(to_name, limit=100), to))
    reply_to = csm_email
    try:
        validate_email(reply_to)
    except ValidationError:
        reply_to = from_address
    return sender, recipient, reply_to


def auto_renewal_text(notice: RenewalNotice, *, csm_name: str, csm_email: str) -> str:
    """The auto-renewal wording: it renews on its terms unless cancelled before the end (renewals/lifecycle.py)."""
    contract = notice.contract
    amount = money(on_terms_amount(contract, notice.renewal), contract.currency)
    return (
        f"It renews automatically on {pretty_date(contract.ends_on + timedelta(days=1))} for a further term until "
        f"{pretty_date(next_term_end(contract))}, at {amount}"
        f" per year. Nothing needs to be done to continue. To cancel, reply to this email or write to {csm_name} at "
        f"{csm_email} before {pretty_date(contract.ends_on)}."
    )


def message_domain() -> str:
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return address.rpartition("@")[2] or "localhost"


@functools.lru_cache(maxsize=64)
def compiled(source: str) -> Template:
    """A template source compiled once per process (a batch renders the same few sources again and again)."""
    return SANDBOX.from_string(source)


def rendered(
    notice: RenewalNotice, context: dict | None = None, sources: Sources | None = None
) -> tuple[str, str, str]:
    """(subject, text, html) of the notice from its program's template, before any edit."""
    context = notice_context(notice) if context is None else context
    sources = sources_for(notice.contract.program_id) if sources is None else sources
    subject = one_line(compiled(sources.subject).render(Context(context, autoescape=False)))
    text: str = compiled(sources.text_body).render(Context(context, autoescape=False))
    html: str = compiled(sources.html_body).render(Context(context, autoescape=True))
    return subject, text, html


def edited_html(text: str) -> str:
    """The HTML part of a message the CSM edited as text: escaped, paragraphs and links kept."""
    return f"<!doctype html><html><body>{linebreaks(urlize(text, autoescape=True))}</body></html>"


def build_message(
    notice: RenewalNotice, *, sources: Sources | None = None, follow_up: bool | None = None
) -> EmailMultiAlternatives:
    """The notice as an email: the CSM's name on the From line, the CSM as Reply-To.

    A message edited in the approval queue replaces the template's subject and body; the
    unsubscribe link is added back if the edit took it out. ``follow_up``: notice_context.
    """
    context = notice_context(notice, follow_up=follow_up)
    sources = sources_for(notice.contract.program_id) if sources is None else sources
    subject, text, html = rendered(notice, context, sources)
    if notice.edited_subject.strip():
        subject = one_line(notice.edited_subject)
    if notice.edited_text.strip():
        text = notice.edited_text.rstrip()
        if context["auto_renew"] and context["auto_renewal_text"] not in text:
            text += f"\n\n{context['auto_renewal_text']}"
        if context["unsubscribe_url"] not in text:
            text += f"\n\nTo stop renewal notices: {context['unsubscribe_url']}"
        text += "\n"
        html = edited_html(text)
    elif context["auto_renew"] and "auto_renew" not in sources.text_body + sources.html_body:
        # An admin's template written before auto-renewal wording existed: the customer must
        # still learn that the contract renews by itself and how to cancel.
        text = f"{text.rstrip()}\n\n{context['auto_renewal_text']}\n"
        html = html.replace("</body>", f"<p>{escape(context['auto_renewal_text'])}</p></body>")
        if "</body>" not in html:
            html += f"<p>{escape(context['auto_renewal_text'])}</p>"

    try:
        validate_email(notice.email)
    except ValidationError as exc:
        raise PermanentSendError(f"invalid recipient address {notice.email!r}") from exc
    sender, recipient, reply_to = addresses(
        csm_name=context["csm_name"], csm_email=context["csm_email"], to_name=context["contact_name"], to=notice.email
    )
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=sender,
        to=[recipient],
        reply_to=[reply_to],
        headers={
            # The same id on every attempt lets mail systems drop a duplicate delivery.
            "Message-ID": f"<renewal-notice-{notice.pk}@{message_domain()}>",
            "Auto-Submitted": "auto-generated",
            **unsubscribe.headers_for(notice),
        },
    )
    message.attach_alternative(html, "text/html")
    return message


def preview_message(contract: Contract, *, today: date) -> tuple[EmailMultiAlternatives, bool]:
    """The first renewal notice of ``contract`` exactly as ``build_message`` writes it, for its
    first renewal recipient (or a stand-in when it has none, said by the second value); nothing
    is saved, and the links in it lead nowhere."""
    recipient = Contact.objects.renewal_recipients(today=today).filter(account_id=contract.account_id).first()
    stand_in = recipient is None
    if recipient is None:
        recipient = Contact(account=contract.account, name="Pat Example", email="pat@example.com")
    try:
        renewal = contract.renewal
    except Renewal.DoesNotExist:
        renewal = Renewal(contract=contract)
    notice = RenewalNotice(
        contract=contract,
        renewal=renewal,
        contact=recipient,
        email=recipient.email,
        cycle=RenewalNotice.FIRST,
        scheduled_on=today,
    )
    return build_message(notice), stand_in


class Session:
    """One mail connection for a batch of messages: ``with Session() as session: session.deliver(...)``.

    The connection opens at the first message and stays open for the next ones. A refusal of one
    message (4xx/5xx) resets the conversation (RSET) and the next message goes over the same
    connection; a connection that breaks is closed and the next message opens a new one. When the
    server cannot be reached at all, the rest of the batch gets the same TransientSendError without
    a new connection attempt per message. ``connections`` counts the connections opened.
    """

    def __init__(self) -> None:
        self.backend = get_connection()
        self.connections = 0
        self._smtp: smtplib.SMTP | None = None
        self._down = ""  # why the server could not be reached; then no more attempts in this batch
        self._sources: dict[int | None, Sources] = {}

    def sources_for(self, program_id: int | None) -> Sources:
        """The templates of a program, read once per batch (an edit applies from the next batch)."""
        if program_id not in self._sources:
            self._sources[program_id] = sources_for(program_id)
        return self._sources[program_id]

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        # Closing a broken connection must not hide the real error.
        with contextlib.suppress(Exception):
            self.backend.close()
        self._smtp = None

    def deliver(self, message: EmailMultiAlternatives, *, before_data: Callable[[], None]) -> None:
        """Send one message, calling ``before_data`` just before the body goes to the server.

        Until the body goes out, a crash provably sent nothing; after it, the outcome is
        unknown. SMTP is driven step by step to keep that second window as short as possible.
        """
        if not isinstance(self.backend, SMTPBackend):
            if not self.connections:
                self.backend.open()  # kept open across send_messages (an API backend's HTTP session)
                self.connections = 1
            before_data()
            self.backend.send_messages([message])
            return
        if self._down:
            raise NotTriedError(self._down)
        handed_over = False
        smtp = None
        try:
            smtp = self._session()
            encoding = message.encoding or settings.DEFAULT_CHARSET
            from_address = sanitize_address(message.from_email, encoding)
            recipients = [sanitize_address(address, encoding) for address in message.recipients()]
            payload = message.message().as_bytes(linesep="\r\n")  # type: ignore[call-arg]  # Django's MIMEMixin takes linesep
            _mail_from(smtp, from_address)
            for address in recipients:
                code, reply = smtp.rcpt(address)
                _check(code, reply, f"RCPT TO {address}")
            before_data()
            handed_over = True
            code, reply = smtp.data(payload)
            _check(code, reply, "DATA")
        except (smtplib.SMTPResponseException, ServerRefusedError) as exc:
            if smtp is None:  # refused at the greeting or AUTH: no more attempts in this batch
                self.close()
                self._down = str(exc)
            else:
                self._reset()
            if isinstance(exc, ServerRefusedError):
                raise
            raise (TransientSendError if exc.smtp_code < 500 else PermanentSendError)(
                f"{exc.smtp_code} {exc.smtp_error!r}"
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            if smtp is None:
                self._down = repr(exc)  # not reachable: the rest of the batch waits without trying
            raise (UnknownOutcomeError if handed_over else TransientSendError)(repr(exc)) from exc

    def _session(self) -> smtplib.SMTP:
        if self._smtp is None:
            self._smtp = _open_session(cast(SMTPBackend, self.backend))
            self.connections += 1
        return self._smtp

    def _reset(self) -> None:
        """After a refused message: RSET for the next one, or a new connection if that fails."""
        if self._smtp is None:
            return
        try:
            self._smtp.rset()
        except (smtplib.SMTPException, OSError):
            self.close()


def deliver(message: EmailMultiAlternatives, *, before_data: Callable[[], None]) -> None:
    """Send one message over its own connection (Session.deliver: the steps and the errors)."""
    with Session() as session:
        session.deliver(message, before_data=before_data)


def _open_session(backend: SMTPBackend) -> smtplib.SMTP:
    """Connect, greet and authenticate; a 5xx refusal of the session is the server's problem."""
    try:
        backend.open()
        smtp = cast(smtplib.SMTP, backend.connection)  # open() connected it
        smtp.ehlo_or_helo_if_needed()
    except smtplib.SMTPAuthenticationError as exc:
        raise ServerRefusedError(f"AUTH: {exc.smtp_code} {exc.smtp_error!r}") from exc
    except smtplib.SMTPResponseException as exc:
        if exc.smtp_code >= 500:
            raise ServerRefusedError(f"session: {exc.smtp_code} {exc.smtp_error!r}") from exc
        raise
    return smtp


def _mail_from(smtp: smtplib.SMTP, from_address: str) -> None:
    code, reply = smtp.mail(from_address)
    if code >= 500:
        raise ServerRefusedError(f"MAIL FROM: {code} {reply.decode(errors='replace')}")
    _check(code, reply, "MAIL FROM")


def probe() -> None:
    """Ask the relay whether it takes mail from our sender again, sending nothing.

    Raises ServerRefusedError or TransientSendError as a send would.
    """
    backend = get_connection()
    if not isinstance(backend, SMTPBackend):
        return
    try:
        smtp = _open_session(backend)
        _mail_from(smtp, sanitize_address(settings.DEFAULT_FROM_EMAIL, settings.DEFAULT_CHARSET))
        smtp.rset()
    except smtplib.SMTPResponseException as exc:
        raise TransientSendError(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise TransientSendError(repr(exc)) from exc
    finally:
        with contextlib.suppress(Exception):
            backend.close()


def _check(code: int, reply: bytes, step: str) -> None:
    if code >= 400:
        raise smtplib.SMTPResponseException(code, f"{step}: {reply.decode(errors='replace')}")
