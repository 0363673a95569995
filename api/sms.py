"""Sending one SMS through an HTTP gateway (``PSQ_SMS_URL``, ``PSQ_SMS_TOKEN``): a POST of
JSON ``{"to", "text", "sender", "reference"}`` with ``Authorization: Bearer <token>``.
A 2xx answer is sent; a 4xx but 408/429 is refused for good; anything else (5xx, no
answer, a timeout) is retried. Errors are said without the token.

The gateway is an adapter: most SMS providers take such a request or sit behind a small
relay that does."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from api.mailer import MailError
from geo.errors import InvalidInputError

#: An SMS is cut to this many characters (several segments at most).
SMS_MAX_CHARS = 459


@dataclass(frozen=True)
class SmsGateway:
    """Where and how to send an SMS."""

    url: str
    token: str | None = field(default=None, repr=False)
    sender: str = "PSQ"
    timeout: float = 20.0

    @classmethod
    def from_settings(
        cls, url: str, token: str | None, *, sender: str = "PSQ", timeout: float = 20.0
    ) -> SmsGateway:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidInputError("sms_url_expected", field="PSQ_SMS_URL")
        return cls(url=url.strip(), token=token, sender=sender, timeout=timeout)


def send_sms(gateway: SmsGateway, *, to: str, text: str, reference: str) -> None:
    """POST one SMS to the gateway; :class:`api.mailer.MailError` when it fails
    (``permanent`` when the gateway refused it for good)."""
    payload = json.dumps(
        {"to": to, "text": text[:SMS_MAX_CHARS], "sender": gateway.sender, "reference": reference},
        ensure_ascii=False,
    ).encode()
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if gateway.token:
        headers["Authorization"] = f"Bearer {gateway.token}"
    request = urllib.request.Request(gateway.url, data=payload, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=gateway.timeout) as answer:
            answer.read(4096)
    except urllib.error.HTTPError as exc:
        permanent = 400 <= exc.code < 500 and exc.code not in (408, 429)
        raise MailError(f"passerelle SMS : réponse HTTP {exc.code}", permanent=permanent) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise MailError(f"passerelle SMS injoignable : {reason}") from None
