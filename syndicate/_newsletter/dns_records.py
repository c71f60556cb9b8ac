"""The DNS records a sending site publishes (DKIM key, SPF, DMARC), and whether they are there.

``syndicate newsletter check-dns`` prints each record to publish and, when a
resolver answers, what DNS holds now. A resolver that cannot be reached
(offline, firewalled) gives "not checked" for that record, never a failure:
the records are still worth printing.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import asdict, dataclass
from email.utils import parseaddr
from enum import StrEnum
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .._config import Config
from .._errors import ConfigError
from .._textguard import whole_number

__all__ = ["DnsCheck", "DnsRecord", "Resolver", "check_dns", "dkim_txt_value", "dns_resolver", "records_to_publish"]

# name -> the TXT strings found; raises LookupError for "no such record", OSError when DNS is unreachable.
Resolver = Callable[[str], list[str]]


class DnsCheck(StrEnum):
    OK = "ok"
    MISSING = "missing"
    DIFFERENT = "different"
    NOT_CHECKED = "not checked"


@dataclass(frozen=True, slots=True)
class DnsRecord:
    purpose: str  # "DKIM", "SPF", "DMARC"
    name: str
    value: str
    check: DnsCheck = DnsCheck.NOT_CHECKED
    found: str = ""
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def dkim_txt_value(private_key_pem: bytes) -> str:
    """The ``v=DKIM1`` TXT value publishing the public half of a PEM RSA private key."""
    try:
        key = serialization.load_pem_private_key(private_key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"not a PEM private key without a passphrase: {exc}", key="smtp.dkim_key_file") from None
    if isinstance(key, rsa.RSAPrivateKey):
        der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode('ascii')}"
    raise ConfigError("the DKIM key must be an RSA key (rsa-sha256)", key="smtp.dkim_key_file")


def _tags(value: str) -> dict[str, str]:
    out = {}
    for part in value.split(";"):
        name, eq, tag_value = part.partition("=")
        if eq:
            out[name.strip().lower()] = "".join(tag_value.split())
    return out


def records_to_publish(config: Config) -> list[DnsRecord]:
    """What to publish for the site's sending domain (DKIM only when a key is configured)."""
    from_domain = parseaddr(config.smtp.from_)[1].rpartition("@")[2].lower()
    if not from_domain:
        raise ConfigError("is not set: the records are for the From address's domain", key="smtp.from")
    records = []
    smtp = config.smtp
    if smtp.dkim_selector and smtp.dkim_key_file:
        path = config.path(smtp.dkim_key_file)
        try:
            pem = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror}", key="smtp.dkim_key_file") from None
        domain = (smtp.dkim_domain or from_domain).lower()
        records.append(
            DnsRecord(
                "DKIM",
                f"{smtp.dkim_selector}._domainkey.{domain}",
                dkim_txt_value(pem),
                note="over 255 characters: zone files take it as several quoted strings, joined on lookup",
            )
        )
    bounce_domain = config.newsletter.verp_address.rpartition("@")[2].lower() or from_domain
    relay = smtp.host if smtp.host not in ("localhost", "127.0.0.1", "::1") else ""
    mechanism = f"a:{relay} " if relay else ""
    records.append(
        DnsRecord(
            "SPF",
            bounce_domain,
            f"v=spf1 {mechanism}~all",
            note="a hint: add every host or include: your relay documents (SPF is checked on the bounce domain)",
        )
    )
    records.append(
        DnsRecord(
            "DMARC",
            f"_dmarc.{from_domain}",
            f"v=DMARC1; p=none; rua=mailto:dmarc-reports@{from_domain}; adkim=r; aspf=r",
            note="start with p=none, move to quarantine once reports show only your own mail",
        )
    )
    return records


def _compare(record: DnsRecord, found: list[str]) -> DnsRecord:
    def with_check(check: DnsCheck, text: str = "") -> DnsRecord:
        return DnsRecord(record.purpose, record.name, record.value, check, text[:1000], record.note)

    if record.purpose == "DKIM":
        wanted = _tags(record.value).get("p", "")
        for value in found:
            if _tags(value).get("p") == wanted:
                return with_check(DnsCheck.OK, value)
        dkim = [v for v in found if "v=dkim1" in v.lower() or "p=" in v.lower()]
        return with_check(DnsCheck.DIFFERENT, dkim[0]) if dkim else with_check(DnsCheck.MISSING)
    prefix = "v=spf1" if record.purpose == "SPF" else "v=dmarc1"
    matching = [v for v in found if v.lower().replace(" ", "").startswith(prefix)]
    if not matching:
        return with_check(DnsCheck.MISSING)
    if record.purpose == "SPF" and len(matching) > 1:
        return DnsRecord(
            record.purpose,
            record.name,
            record.value,
            DnsCheck.DIFFERENT,
            " | ".join(matching)[:1000],
            "more than one SPF record: receivers treat that as an error (RFC 7208 4.5)",
        )
    return with_check(DnsCheck.OK, matching[0])


def check_dns(records: list[DnsRecord], resolver: Resolver | None) -> list[DnsRecord]:
    """Each record with what DNS holds; "not checked" when there is no resolver or it cannot be reached."""
    if resolver is None:
        return records
    checked = []
    for record in records:
        try:
            found = resolver(record.name)
        except LookupError:
            found = []
        except OSError as exc:
            checked.append(
                DnsRecord(
                    record.purpose, record.name, record.value, DnsCheck.NOT_CHECKED, "", f"DNS unreachable: {exc}"
                )
            )
            continue
        checked.append(_compare(record, found))
    return checked


def dns_resolver(timeout: float = 3.0, nameserver: str = "") -> Resolver | None:
    """A dnspython resolver as a :data:`Resolver`; None when the system has no resolver configured.

    ``nameserver`` (``IP`` or ``IP:PORT``) asks that server instead of the
    system's, e.g. the domain's authoritative server before changes propagate.
    """
    import dns.exception
    import dns.resolver

    try:
        resolver = dns.resolver.Resolver(configure=not nameserver)
    except (dns.exception.DNSException, OSError):
        return None
    if nameserver:
        host, port = nameserver, "53"
        if nameserver.count(":") == 1:  # IPv4:port (an IPv6 address has several colons)
            host, _, port = nameserver.partition(":")
        number = whole_number(port, 5)
        if number is None or not host:
            raise ConfigError(f"--nameserver {nameserver!r}: give IP or IP:PORT")
        resolver.nameservers = [host]
        resolver.port = number
    resolver.lifetime = timeout

    def lookup(name: str) -> list[str]:
        try:
            answer = resolver.resolve(name, "TXT")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer) as exc:
            raise LookupError(name) from exc
        except dns.exception.DNSException as exc:  # timeout, no nameservers: offline
            raise OSError(str(exc) or type(exc).__name__) from exc
        return [b"".join(rdata.strings).decode("utf-8", "replace") for rdata in answer]  # type: ignore[attr-defined]

    return lookup
