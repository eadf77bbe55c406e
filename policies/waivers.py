"""Waivers with an owner and an expiry (policies/waivers.yaml, shipped with the pack, so the real
CLI and the offline check read the same file).

    waivers:
      - policy: aws-rds-instance-backup-retention
        resource: printflow-staging-db-postgres   # logical name or URN; a glob is allowed
        stack: staging                             # optional
        reason: restore test instance, rebuilt weekly
        owner: platform-team
        expires: 2027-01-31

An unexpired waiver turns exactly its violation into an advisory note that names the waiver; an
expired one leaves the violation in place and says when it expired. A malformed file stops the
pack with one paragraph naming the entry and the key. Standalone: the offline check imports it
too, to validate the file up front and to list unused waivers.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Iterable, List, Optional

import yaml

WAIVERS_FILE = Path(__file__).resolve().with_name("waivers.yaml")
REQUIRED = ("policy", "resource", "reason", "owner", "expires")
ALLOWED = REQUIRED + ("stack",)
NOTE = re.compile(r"^WAIVED by waiver #(?P<index>\d+) \(owner (?P<owner>.*?), expires (?P<expires>\d{4}-\d{2}-\d{2})\): "
                  r"(?P<reason>.*?)\. Finding: ", re.S)
"""How a waived finding's message starts; the offline check reads the waiver back from it."""
EXPIRED_NOTE = re.compile(r" Waiver #(?P<index>\d+) \(.*\) expired on \d{4}-\d{2}-\d{2}; renew it in "
                          r"policies/waivers\.yaml or fix the finding\.$", re.S)
"""How an expired waiver's finding ends."""


class WaiverError(ValueError):
    """waivers.yaml breaks the format; the message names the entry and the key."""


@dataclass(frozen=True)
class Waiver:
    index: int
    """1-based position in the file, as the messages name it."""
    policy: str
    resource: str
    """A logical name or URN; a glob (fnmatch) is allowed."""
    reason: str
    owner: str
    expires: date
    stack: Optional[str] = None

    def matches(self, policy: str, urn: str, stack: str) -> bool:
        name = urn.split("::")[-1] if urn else ""
        return (policy == self.policy and (self.stack is None or self.stack == stack)
                and any(fnmatch.fnmatchcase(target, self.resource) for target in (name, urn) if target))

    def expired(self, today: date) -> bool:
        return today > self.expires

    def note(self) -> str:
        return (f"WAIVED by waiver #{self.index} (owner {self.owner}, expires {self.expires.isoformat()}): "
                f"{self.reason}. Finding: ")

    def expiry_note(self) -> str:
        return (f" Waiver #{self.index} ({self.owner}: {self.reason}) expired on "
                f"{self.expires.isoformat()}; renew it in policies/waivers.yaml or fix the finding.")


def _problem(where: str, text: str) -> WaiverError:
    return WaiverError(f"policies/waivers.yaml: {where} {text}. Each waiver is a mapping with "
                       f"{', '.join(REQUIRED)} (and optionally stack); expires is a date "
                       "(YYYY-MM-DD). Fix the file; nothing was checked.")


def parse(text: str, known_policies: Iterable[str] = ()) -> List[Waiver]:
    """The waivers in `text`, or WaiverError naming the entry and the key."""
    try:
        document = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        raise _problem("is not YAML:", str(exc).replace("\n", " ")[:200]) from None
    if document is None:
        document = {}
    if not isinstance(document, dict) or set(document) - {"waivers"}:
        raise _problem("must be a mapping with the single key", "'waivers' (a list)")
    entries = document.get("waivers") or []
    if not isinstance(entries, list):
        raise _problem("'waivers'", "must be a list")
    known = set(known_policies)
    waivers = []
    for index, entry in enumerate(entries, start=1):
        where = f"waiver #{index}"
        if not isinstance(entry, dict):
            raise _problem(where, "must be a mapping")
        unknown = sorted(str(k) for k in set(entry) - set(ALLOWED))
        if unknown:
            raise _problem(where, f"has unknown key(s) {', '.join(unknown)}")
        for key in REQUIRED:
            if key not in entry or entry[key] in (None, ""):
                raise _problem(where, f"has no '{key}'")
        for key in ("policy", "resource", "reason", "owner", "stack"):
            if key in entry and not isinstance(entry[key], str):
                raise _problem(where, f"'{key}' must be text")
        expires = entry["expires"]
        if isinstance(expires, str):
            try:
                expires = date.fromisoformat(expires)
            except ValueError:
                raise _problem(where, f"'expires' is not a date: {expires[:40]!r}") from None
        if not isinstance(expires, date) or hasattr(expires, "hour"):
            raise _problem(where, "'expires' must be a date (YYYY-MM-DD)")
        if known and entry["policy"] not in known:
            raise _problem(where, f"names the policy '{entry['policy'][:80]}', which the pack does not have")
        waivers.append(Waiver(index=index, policy=entry["policy"], resource=entry["resource"],
                              reason=" ".join(entry["reason"].split()), owner=entry["owner"],
                              expires=expires, stack=entry.get("stack")))
    return waivers


def load(path: Path = WAIVERS_FILE, known_policies: Iterable[str] = ()) -> List[Waiver]:
    """The waivers of the pack; none when the file does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise _problem("cannot be read:", str(exc)[:200]) from None
    return parse(text, known_policies)


def find(waivers: Iterable[Waiver], policy: str, urn: str, stack: str, today: date) -> Optional[Waiver]:
    """The waiver of this finding: an unexpired one before an expired one, so a renewal added
    next to the expired entry takes effect."""
    matching = [w for w in waivers if w.matches(policy, urn, stack)]
    return next((w for w in matching if not w.expired(today)), matching[0] if matching else None)


def stack_of(urn: str) -> str:
    """urn:pulumi:<stack>::<project>::..."""
    return urn.split("::")[0].removeprefix("urn:pulumi:") if urn.startswith("urn:pulumi:") else ""


def waived_in(message: str) -> Optional[dict[str, Any]]:
    """The waiver a finding's message names, if it was waived."""
    match = NOTE.match(message)
    return match.groupdict() if match else None


def waiver_named_in(message: str) -> Optional[int]:
    """The index of the waiver the pack applied to this finding, waived or expired."""
    match = NOTE.match(message) or EXPIRED_NOTE.search(message)
    return int(match["index"]) if match else None
