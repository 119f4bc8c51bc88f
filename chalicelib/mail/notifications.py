"""Email out through SES (v2), behind one small interface.

Everything that emails (payments, waivers) builds an `Email` and the outbox
hands it to `send`. Tests read what went out from moto's SES backend, so they
never patch anything in here.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib import aws, config


@dataclass(frozen=True)
class Email:
    """One message: recipients, subject, and its plain-text and HTML parts."""

    to: list[str]
    subject: str
    text: str
    html: str


class NotSent(Exception):
    """The email could not be handed to SES (the outbox counts it as a failed attempt)."""


def send(to: list[str], subject: str, text: str, html: str) -> str:
    """Send one email from SENDER_EMAIL via SES v2 SendEmail; returns SES's MessageId."""
    recipients = [address for address in to if address]
    if not recipients:
        raise NotSent("no recipients: set CREW_NOTIFY_EMAILS for this stage")
    reply = aws.client("sesv2").send_email(
        FromEmailAddress=config.sender_email(),
        Destination={"ToAddresses": recipients},
        Content={
            "Simple": {
                "Subject": {"Data": subject, "Charset": "UTF-8"},
                "Body": {
                    "Text": {"Data": text, "Charset": "UTF-8"},
                    "Html": {"Data": html, "Charset": "UTF-8"},
                },
            }
        },
    )
    return reply["MessageId"]


def send_email(email: Email) -> str:
    """`send` for an `Email`."""
    return send(email.to, email.subject, email.text, email.html)
