"""How good the library's sources are: every URL a row cites, judged against a short policy.

`source-policy.csv` (beside this module: the project's rule on sources, not an assumption)
lists domains by verdict, each with its reason:

- ``denied``: a page nobody else can check or that is no source at all (a private or personal
  host, a staging server, a search-engine result page, a chatbot answer). No row may cite one.
- ``weak``: a page that repeats a figure published elsewhere (a wiki, a shop's blog, a
  third-party transcription of a price list). A row citing one must say in its notes why it is
  kept (``weak source: ...``), and such rows must stay a small share of the library.

Hosts that are private by construction (``localhost``, IP literals, ``.local``, ``.lan``,
``.internal``, ``.home.arpa``, tailnets, staging/preview hosts) are denied whether or not the
policy lists them.
"""

from __future__ import annotations

import csv
import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd

from .paths import assumptions_dir

POLICY_FILE = "source-policy.csv"
URL_PATTERN = re.compile(r"https?://[^\s,;)\"'\]>]+", re.IGNORECASE)
PRIVATE_SUFFIXES = (".local", ".lan", ".internal", ".home.arpa", ".localdomain", ".ts.net",
                    ".ngrok.io", ".ngrok-free.app")
STAGING_LABEL = re.compile(r"(^|-)(staging|stage|preprod|preview|dev|test)[0-9]*($|-)", re.IGNORECASE)
"""A first host label that names a non-public copy of a site (``staging4.``, ``x-preprod.``)."""
WEAK_MARK = "weak source:"
"""How a row's notes explain why a weak source is kept."""


@dataclass(frozen=True)
class Rule:
    domain: str        # a host (matches it and its subdomains) or host/path prefix
    verdict: str       # denied or weak
    reason: str

    def matches(self, host: str, path: str) -> bool:
        domain, _, prefix = self.domain.partition("/")
        if host != domain and not host.endswith("." + domain):
            return False
        return path.lstrip("/").startswith(prefix) if prefix else True


POLICY_PATH = Path(__file__).with_name(POLICY_FILE)


@lru_cache(maxsize=1)
def load_policy() -> tuple[Rule, ...]:
    """The source policy: every domain rule, in file order."""
    with POLICY_PATH.open(newline="", encoding="utf-8") as handle:
        return tuple(Rule(r["domain"].strip().lower(), r["verdict"].strip(), r["reason"].strip())
                     for r in csv.DictReader(handle))


def private_host_reason(host: str) -> str | None:
    """Why `host` is private or personal by construction, or None."""
    host = host.lower().rstrip(".")
    if host in ("localhost", "") or host.endswith(PRIVATE_SUFFIXES):
        return "a private or local host: nobody else can read it"
    try:
        ipaddress.ip_address(host.strip("[]"))
        return "a bare IP address: no publisher, and it may be private"
    except ValueError:
        pass
    labels = host.split(".")
    if len(labels) >= 3 and STAGING_LABEL.search(labels[0]):   # not dev.to, a public site
        return "a staging or preview server: not the published page"
    return None


def judge_url(url: str, policy: tuple[Rule, ...]) -> tuple[str, str]:
    """``(verdict, reason)`` of one URL: ``denied``, ``weak`` or ``ok``."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if reason := private_host_reason(host):
        return "denied", reason
    for rule in policy:
        if rule.matches(host, parts.path):
            return rule.verdict, rule.reason
    return "ok", ""


def urls_of(*texts: str) -> list[str]:
    """Every http(s) URL in `texts`, in order, without repeats."""
    found = [match.rstrip(".") for text in texts for match in URL_PATTERN.findall(text or "")]
    return list(dict.fromkeys(found))


AUDIT_COLUMNS = ["file", "line", "id", "what", "quality", "url", "verdict", "reason", "explained"]


def audit(directory: Path | None = None) -> pd.DataFrame:
    """One row per (assumption row, cited URL) of every CSV table in the library, with the
    verdict on the URL; rows citing no URL (a document reference) appear once, verdict ``ok``."""
    directory = assumptions_dir() if directory is None else Path(directory)
    policy = load_policy()
    records = []
    for path in sorted(directory.glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            for record in reader:
                what = record.get("parameter") or record.get("quantity") or ""
                notes = record.get("notes") or ""
                explained = WEAK_MARK in notes.lower()
                urls = urls_of(record.get("url", ""), record.get("source", ""), notes,
                               record.get("conditions", ""))
                for url in urls or [""]:
                    verdict, reason = judge_url(url, policy) if url else ("ok", "")
                    records.append((path.name, reader.line_num, record.get("id", ""), what,
                                    record.get("quality", ""), url, verdict, reason, explained))
    return pd.DataFrame(records, columns=AUDIT_COLUMNS)


def quality_counts(directory: Path | None = None) -> pd.DataFrame:
    """Rows by file and quality mark, with the rows citing a weak source (README's table)."""
    frame = audit(directory)
    per_row = frame.groupby(["file", "line"]).agg(
        quality=("quality", "first"), weak=("verdict", lambda v: bool((v == "weak").any())))
    counts = pd.crosstab(per_row.index.get_level_values("file"), per_row["quality"])
    counts = counts.reindex(columns=["primary", "secondary", "estimate"], fill_value=0)
    counts["weak source"] = per_row.groupby(level="file")["weak"].sum()
    counts["rows"] = per_row.groupby(level="file").size()
    counts.index.name = "table"
    counts.loc["all"] = counts.sum()
    return counts.astype(int)


def quality_table_markdown(directory: Path | None = None) -> str:
    """`quality_counts` as the Markdown table README.md shows (kept equal by a test)."""
    counts = quality_counts(directory)
    lines = ["| table | rows | primary | secondary | estimate | weak source (explained) |",
             "|---|---|---|---|---|---|"]
    for table, row in counts.iterrows():
        name = "**all**" if table == "all" else f"`{table}`"
        lines.append(f"| {name} | {row['rows']} | {row['primary']} | {row['secondary']} | "
                     f"{row['estimate']} | {row['weak source']} |")
    return "\n".join(lines) + "\n"
