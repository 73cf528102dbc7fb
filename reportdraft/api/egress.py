"""Where the service may send requests of its own: the webhook egress policy.

A webhook URL is chosen by whoever holds an admin key, and the service POSTs to it from
inside the hospital network; without a policy that is a way to reach the cloud metadata
endpoint, the database's admin port or any intranet service (server-side request
forgery). The policy, in one place for registration and delivery:

* the scheme is ``https`` (plain ``http`` only for an allowlisted host);
* the host is not ``localhost`` / ``*.localhost`` and no address it names or resolves to
  is loopback, private (RFC 1918, ``fc00::/7``, site-local), link-local, unspecified,
  multicast, reserved, shared (CGNAT ``100.64.0.0/10``) or otherwise not globally
  reachable, including the IPv6 forms that embed an IPv4 address (IPv4-mapped,
  IPv4-compatible, 6to4, NAT64) and the old numeric IPv4 spellings that resolvers still
  accept (``2130706433``, ``0x7f.1``, ``0177.0.0.1``, ``127.1``);
* ``REPORTDRAFT_WEBHOOK_ALLOW`` (:class:`Allowlist`) names internal hosts an operator
  does want to reach: an exact host (``hooks.internal``) or host and port
  (``hooks.internal:8443``); for those the address checks are skipped and http is allowed.

Registration checks the URL and resolves its name once (so a name that points inside is
refused up front); delivery resolves again, checks every address, and connects to the
checked address (:func:`pin`), so a name that is re-pointed at an internal address after
registration (DNS rebinding) is not delivered to. Name resolution goes through an
injectable :data:`Resolver` (tests map names without sending any DNS query).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from reportdraft.errors import ConfigurationError, InputError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]
"""``(host, port) -> addresses`` as text; raises ``OSError`` when the name does not resolve."""

FORBIDDEN = "webhook_url_forbidden"
UNRESOLVABLE = "webhook_url_unresolvable"

_PRIVATE = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)
_SHARED = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_NUMERIC_HOST = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+))*$")


def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's resolver (``socket.getaddrinfo``), addresses in its order."""
    found: list[str] = []
    for *_, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        address = str(sockaddr[0])
        if address not in found:
            found.append(address)
    return found


class EgressRefused(InputError):  # noqa: N818 - names the outcome, like AttestationRefused
    """A webhook URL the policy refuses: 422 with the reason in ``details``."""

    code = FORBIDDEN
    http_status = 422

    def __init__(self, message: str, *, reason: str, host: str, code: str | None = None):
        super().__init__(message, code=code)
        self.reason = reason
        self.details: dict[str, Any] = {"reason": reason, "host": host}


def forbidden_reason(address: IPAddress) -> str | None:
    """Why the service may not connect to ``address`` (None: a global unicast address).

    ``ipaddress``'s ``is_global`` alone is not enough: it calls multicast, site-local and
    the IPv6 forms embedding an IPv4 address global, so those are checked first.
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return forbidden_reason(embedded)
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link_local"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return "private"
    if any(address in network for network in _PRIVATE):
        return "private"
    if address in _SHARED:
        return "shared"
    if address.is_reserved:
        return "reserved"
    if not address.is_global:
        return "not_global"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, 6to4, NAT64)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def literal_address(host: str) -> IPAddress | None:
    """The address ``host`` spells, in any spelling a resolver accepts; None for a name.

    Besides dotted quads and IPv6 this reads the ``inet_aton`` forms (one to four parts,
    each decimal, octal with a leading 0, or hex with ``0x``), because ``getaddrinfo``
    connects ``http://2130706433/`` to 127.0.0.1. A host made only of such parts that is
    not a valid address is refused rather than handed to DNS.
    """
    text = host.strip("[]")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if not _NUMERIC_HOST.match(text):
        return None
    try:
        parts = [_number(p) for p in text.split(".")]
    except ValueError:
        raise EgressRefused(
            f"host {host!r} is neither a name nor a valid address",
            reason="invalid_address",
            host=host,
        ) from None
    *head, last = parts
    limit = 1 << (8 * (4 - len(head)))
    if len(parts) > 4 or any(p > 255 for p in head) or last >= limit:
        raise EgressRefused(
            f"host {host!r} is neither a name nor a valid address",
            reason="invalid_address",
            host=host,
        )
    value = 0
    for part in head:
        value = (value << 8) | part
    value = (value << (8 * (4 - len(head)))) | last
    return ipaddress.IPv4Address(value)


def _number(part: str) -> int:
    if part.startswith("0x"):
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8)
    return int(part, 10)


@dataclass(frozen=True)
class Allowlist:
    """Hosts the operator allows despite the policy: exact ``host`` or ``host:port``.

    Hosts are compared lowercase without a trailing dot; an address entry is compared in
    its canonical form (``127.0.0.1``, ``[::1]:8080``), so any spelling of it matches.
    """

    entries: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> Allowlist:
        """Normalise the configured entries; a URL or path instead of a host is an error."""
        normalised: set[str] = set()
        for raw in entries:
            entry = raw.strip().lower()
            if not entry:
                continue
            if "/" in entry or "@" in entry or " " in entry:
                raise ConfigurationError(
                    f"REPORTDRAFT_WEBHOOK_ALLOW: {raw!r} is not a host or host:port"
                )
            host, port = _split_host_port(entry)
            if port is not None and not (port.isdigit() and 0 < int(port) < 65536):
                raise ConfigurationError(f"REPORTDRAFT_WEBHOOK_ALLOW: bad port in {raw!r}")
            normalised.add(_key(_canonical_host(host), int(port) if port else None))
        return cls(frozenset(normalised))

    def permits(self, host: str, port: int) -> bool:
        """Whether ``host`` (canonical) on ``port`` is allowlisted."""
        return _key(host, None) in self.entries or _key(host, port) in self.entries


def _split_host_port(entry: str) -> tuple[str, str | None]:
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        return host, rest[1:] if rest.startswith(":") else None
    if entry.count(":") == 1:
        host, _, port = entry.partition(":")
        return host, port
    return entry, None


def _canonical_host(host: str) -> str:
    host = host.strip("[]").rstrip(".").lower()
    try:
        address = literal_address(host)
    except EgressRefused:
        return host
    return str(address) if address is not None else host


def _key(host: str, port: int | None) -> str:
    shown = f"[{host}]" if ":" in host else host
    return shown if port is None else f"{shown}:{port}"


@dataclass(frozen=True, kw_only=True)
class Destination:
    """A URL that passed the static checks: its canonical host, port, and whether allowlisted.

    ``address`` is set when the host is an address literal (then nothing is resolved).
    """

    url: httpx.URL
    host: str
    port: int
    allowlisted: bool
    address: IPAddress | None


@dataclass(frozen=True)
class EgressPolicy:
    """The policy with its allowlist and resolver (one per service process)."""

    allow: Allowlist = field(default_factory=Allowlist)
    resolver: Resolver = system_resolver

    def destination(self, url: str) -> Destination:
        """Check ``url`` without resolving it; raises :class:`EgressRefused`."""
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError):
            raise EgressRefused("not a valid URL", reason="invalid_url", host="") from None
        host_text = parsed.raw_host.decode("ascii").rstrip(".").lower()
        if parsed.scheme not in ("http", "https"):
            raise EgressRefused(
                "webhook URLs are https (or http to an allowlisted host)",
                reason="scheme",
                host=host_text,
            )
        if not host_text:
            raise EgressRefused("the URL has no host", reason="no_host", host="")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        address = literal_address(host_text)
        host = str(address) if address is not None else host_text
        allowlisted = self.allow.permits(host, port)
        if not allowlisted:
            if host == "localhost" or host.endswith(".localhost"):
                raise EgressRefused(
                    f"{host} is this machine; allowlist it in REPORTDRAFT_WEBHOOK_ALLOW "
                    "to send webhooks to it",
                    reason="localhost",
                    host=host,
                )
            if address is not None:
                _check(address, host)
            if parsed.scheme != "https":
                raise EgressRefused(
                    "webhook URLs must use https (http only to an allowlisted host)",
                    reason="https_required",
                    host=host,
                )
        return Destination(
            url=parsed, host=host, port=port, allowlisted=allowlisted, address=address
        )

    def resolve(self, destination: Destination) -> list[IPAddress]:
        """Every address ``destination`` resolves to, each checked (unless allowlisted).

        A single forbidden address refuses the whole name: a resolver answer mixing a
        public and an internal address is the shape of a rebinding attack.
        """
        if destination.address is not None:
            return [destination.address]
        try:
            answers = list(self.resolver(destination.host, destination.port))
        except (OSError, UnicodeError) as exc:
            raise EgressRefused(
                f"{destination.host} does not resolve ({type(exc).__name__})",
                reason="unresolvable",
                host=destination.host,
                code=UNRESOLVABLE,
            ) from None
        addresses: list[IPAddress] = []
        for answer in answers:
            try:
                addresses.append(ipaddress.ip_address(answer))
            except ValueError:
                raise EgressRefused(
                    f"{destination.host} resolved to something that is not an address",
                    reason="invalid_address",
                    host=destination.host,
                ) from None
        if not addresses:
            raise EgressRefused(
                f"{destination.host} does not resolve",
                reason="unresolvable",
                host=destination.host,
                code=UNRESOLVABLE,
            )
        if not destination.allowlisted:
            for address in addresses:
                _check(address, destination.host)
        return addresses

    def check_registration(self, url: str) -> Destination:
        """What a new subscription must pass: the static checks and one resolution."""
        destination = self.destination(url)
        if not destination.allowlisted:
            self.resolve(destination)
        return destination

    def check_delivery(self, url: str) -> tuple[Destination, IPAddress]:
        """The destination of a delivery and the checked address to connect to."""
        destination = self.destination(url)
        return destination, self.resolve(destination)[0]


def _check(address: IPAddress, host: str) -> None:
    reason = forbidden_reason(address)
    if reason is None:
        return
    shown = str(address)
    if isinstance(address, ipaddress.IPv6Address) and _embedded_ipv4(address) is not None:
        shown += f" (IPv4 {_embedded_ipv4(address)})"
    subject = shown if str(address) == host else f"{host} resolves to {shown}, which"
    raise EgressRefused(
        f"{subject} is not a public address ({reason.replace('_', '-')}); webhooks may not "
        "reach internal addresses unless the host is in REPORTDRAFT_WEBHOOK_ALLOW",
        reason=reason,
        host=host,
    )


def pin(request: httpx.Request, destination: Destination, address: IPAddress) -> httpx.Request:
    """``request`` sent to ``address`` while naming ``destination``'s host.

    The connection goes to the checked address (the URL's host is replaced by it), the
    ``Host`` header keeps the name (it was set when the request was built), and for https
    the TLS server name (SNI) and the certificate check use the name, through httpcore's
    ``sni_hostname`` request extension. So the name is resolved exactly once per
    delivery, by the policy, and never again by the HTTP client.
    """
    if request.headers.get("host") is None:
        raise ValueError("pin() needs a request built with its Host header")
    request.url = destination.url.copy_with(host=str(address))
    if destination.url.scheme == "https":
        request.extensions = {
            **request.extensions,
            "sni_hostname": destination.url.raw_host.decode("ascii"),
        }
    return request
