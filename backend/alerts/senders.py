"""Sending one alert to one channel: a signed JSON webhook, a Slack-compatible incoming webhook,
or an email through Django's email backend. Each raises Retry when the receiver may take it
later (5xx, 429, a timeout, no connection, an SMTP error) and Refused when it never will (4xx)."""
import hashlib
import hmac
import json
import smtplib

import requests
from django.conf import settings
from django.core.mail import send_mail

from alerts.models import Channel, ChannelKind

SIGNATURE_HEADER = "X-Loom-Signature"  # "sha256=" + hex HMAC-SHA256 of the body with the channel's secret


class Retry(Exception):
    pass


class Refused(Exception):
    pass


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _post(url: str, body: bytes, headers: dict) -> None:
    try:
        response = requests.post(url, data=body, headers={"Content-Type": "application/json", **headers},
                                 timeout=settings.LOOM_ALERT_TIMEOUT_S, allow_redirects=False)
    except requests.RequestException as e:
        raise Retry(f"{type(e).__name__}: {e}") from None
    if response.status_code >= 500 or response.status_code == 429:
        raise Retry(f"HTTP {response.status_code} from the receiver")
    if response.status_code >= 300:
        raise Refused(f"HTTP {response.status_code} from the receiver: {response.text[:200]}")


def alert_send(channel: Channel, message: dict, *, delivery_id: int | None = None) -> None:
    if channel.kind == ChannelKind.EMAIL:
        subject = message["text"].splitlines()[0][:200]
        try:
            send_mail(subject, message["text"], None, [channel.address], fail_silently=False)
        except (smtplib.SMTPException, OSError) as e:
            raise Retry(f"{type(e).__name__}: {e}") from None
        return
    if channel.kind == ChannelKind.SLACK:
        _post(channel.url, json.dumps({"text": message["text"]}).encode(), {})
        return
    body = json.dumps(message, sort_keys=True).encode()
    headers = {"X-Loom-Event": message["event"], **({"X-Loom-Delivery": str(delivery_id)} if delivery_id else {})}
    secret = channel.get_secret()
    if secret:
        headers[SIGNATURE_HEADER] = signature(secret, body)
    _post(channel.url, body, headers)
