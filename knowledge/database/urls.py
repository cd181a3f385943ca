"""Database URLs: which backend a URL names, the driver SQLAlchemy should use, and a form safe to print.

Plain standard library, so `assistant.config` can validate and redact a URL without loading SQLAlchemy.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

# What `database_url` may start with; each is served by psycopg 3.
POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")


def is_postgres_url(url: str | None) -> bool:
    """True for a `postgresql://…` URL (the only server database Lepton speaks)."""
    return bool(url) and urlsplit(str(url)).scheme.lower() in POSTGRES_SCHEMES


def check_database_url(url: str) -> str:
    """`url` stripped, or ValueError (whose message never shows the password) when it names no PostgreSQL."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in POSTGRES_SCHEMES:
        # Only the scheme is repeated: a value that is no URL may be anything, a bare password included.
        given = f"it is a {parts.scheme}:// URL" if parts.scheme and "://" in url else "it is not a URL"
        raise ValueError(
            f"database_url must be a postgresql://user:password@host:port/database URL ({given}; leave it"
            " unset to keep SQLite files in the home)"
        )
    if not parts.path.strip("/"):
        raise ValueError(f"database_url names no database: {redact_url(url)!r}")
    return url


def driver_url(url: str) -> str:
    """The URL SQLAlchemy opens: `postgresql+psycopg://…` (psycopg 3) for any PostgreSQL spelling."""
    parts = urlsplit(url)
    if parts.scheme.lower() in POSTGRES_SCHEMES:
        return urlunsplit(("postgresql+psycopg", *parts[1:]))
    return url


def redact_url(url: str | None) -> str:
    """`url` with its password (in the netloc or a `password=` query parameter) replaced by ***."""
    if not url:
        return ""
    try:
        parts = urlsplit(str(url))
        netloc = parts.netloc
        if parts.password is not None:
            userinfo, _, hostport = netloc.rpartition("@")
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}:***@{hostport}"
        query = "&".join(
            "password=***" if item.lower().startswith("password=") else item
            for item in parts.query.split("&")
            if item
        )
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:  # unparseable (e.g. a bad port): show nothing of it rather than a password
        return "<unreadable database URL>"
