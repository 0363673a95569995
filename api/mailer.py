"""Sending one e-mail through SMTP (``smtplib``): the server's URL (``PSQ_SMTP_URL``),
the MIME message (a text body, an optional attachment, a ``.ics`` as
``text/calendar; method=…``), and the error of a failed attempt said without secrets.

Every socket operation (connect, TLS handshake, each command) has a timeout.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from urllib.parse import unquote, urlsplit

from geo.errors import InvalidInputError

#: URL scheme → (default port, TLS mode).
SCHEMES = {
    "smtp": (25, "none"),
    "smtp+starttls": (587, "starttls"),
    "smtps": (465, "tls"),
}


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to send: parsed from ``PSQ_SMTP_URL`` by :meth:`from_url`."""

    host: str
    port: int
    tls: str  # none, starttls or tls
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 20.0

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 20.0) -> SmtpServer:
        """``smtp://host:port``, ``smtp+starttls://…`` or ``smtps://…``, with an optional
        ``user:password@`` (URL-encoded). A bad URL is an :class:`InvalidInputError`
        naming ``PSQ_SMTP_URL``, without the password."""
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError as exc:
            raise InvalidInputError("url_port_invalid", field="PSQ_SMTP_URL") from exc
        if parts.scheme not in SCHEMES:
            raise InvalidInputError(
                "url_scheme_unknown",
                field="PSQ_SMTP_URL",
                scheme=parts.scheme,
                expected=[s + "://" for s in SCHEMES],
            )
        if not parts.hostname:
            raise InvalidInputError("url_host_missing", field="PSQ_SMTP_URL")
        default_port, tls = SCHEMES[parts.scheme]
        return cls(
            host=parts.hostname,
            port=port or default_port,
            tls=tls,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
            timeout=timeout,
        )

    def describe(self) -> str:
        """The server as a log or a message may name it: scheme, user, host and port,
        never the password."""
        scheme = {v[1]: k for k, v in SCHEMES.items()}[self.tls]
        user = f"{self.user}@" if self.user else ""
        return f"{scheme}://{user}{self.host}:{self.port}"


@dataclass(frozen=True)
class Mail:
    """One message to send."""

    sender: str
    recipient: str
    subject: str
    body: str
    #: ``(file name, content type, bytes)``.
    attachment: tuple[str, str, bytes] | None = None
    #: The ``Message-ID`` (so that a message sent twice is recognisably the same one).
    message_id: str | None = None
    date: datetime | None = None


class MailError(Exception):
    """A failed attempt: ``reason`` says why (no secret in it); ``permanent`` when the
    server refused the message for good (a 5xx answer to the recipient or the data), so
    that retrying is pointless."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


def build_message(mail: Mail) -> EmailMessage:
    """The MIME message: a UTF-8 text body and, when there is one, the attachment as its
    own part; a ``text/calendar`` attachment keeps its ``method`` parameter, as calendar
    clients expect of an invitation."""
    msg = EmailMessage()
    msg["From"] = mail.sender
    msg["To"] = mail.recipient
    msg["Subject"] = mail.subject
    msg["Date"] = format_datetime(mail.date or datetime.now(UTC))
    if mail.message_id:
        msg["Message-ID"] = mail.message_id
    msg.set_content(mail.body, charset="utf-8")
    if mail.attachment is not None:
        name, content_type, content = mail.attachment
        main, _, rest = content_type.partition("/")
        subtype, *raw_params = (p.strip() for p in rest.split(";"))
        params = dict(p.split("=", 1) for p in raw_params if "=" in p)
        if (main, subtype) == ("text", "calendar"):
            params.setdefault("charset", "utf-8")
        msg.add_attachment(content, maintype=main, subtype=subtype, filename=name, params=params)
    return msg


def _reason(exc: BaseException) -> tuple[str, bool]:
    """Why an attempt failed, in words a person can act on, and whether it is permanent."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        answers = "; ".join(
            f"{rcpt} : {code} {msg.decode(errors='replace')}"
            for rcpt, (code, msg) in exc.recipients.items()
        )
        return f"destinataire refusé ({answers})", all(500 <= c < 600 for c in codes)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"authentification refusée : {exc.smtp_code}", False
    if isinstance(exc, smtplib.SMTPResponseException):
        text = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        permanent = 500 <= exc.smtp_code < 600 and isinstance(
            exc, smtplib.SMTPDataError | smtplib.SMTPSenderRefused
        )
        return f"réponse SMTP {exc.smtp_code} : {text}", permanent
    if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
        # smtplib reports a timeout while reading an answer as a disconnection
        return "délai dépassé en parlant au serveur SMTP", False
    if isinstance(exc, ConnectionRefusedError):
        return "connexion refusée par le serveur SMTP", False
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return f"le serveur SMTP a coupé la connexion : {exc}", False
    if isinstance(exc, ssl.SSLError):
        return f"échec TLS : {exc.reason or exc}", False
    if isinstance(exc, OSError):
        return f"erreur réseau : {exc.strerror or exc}", False
    return f"{type(exc).__name__} : {exc}", False


def send(server: SmtpServer, mail: Mail) -> None:
    """Send one message; :class:`MailError` says why it was not."""
    msg = build_message(mail)
    context = ssl.create_default_context()
    client: smtplib.SMTP | None = None
    try:
        if server.tls == "tls":
            client = smtplib.SMTP_SSL(
                server.host, server.port, timeout=server.timeout, context=context
            )
        else:
            client = smtplib.SMTP(server.host, server.port, timeout=server.timeout)
        if server.tls == "starttls":
            client.starttls(context=context)
        if server.user is not None:
            client.login(server.user, server.password or "")
        client.send_message(msg, from_addr=parseaddr(mail.sender)[1], to_addrs=[mail.recipient])
    except (smtplib.SMTPException, OSError) as exc:
        reason, permanent = _reason(exc)
        if server.password:  # never let a secret reach the attempts' log
            reason = reason.replace(server.password, "***")
        raise MailError(reason, permanent=permanent) from exc
    finally:
        if client is not None:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()
