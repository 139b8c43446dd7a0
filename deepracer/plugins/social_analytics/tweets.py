"""Tweets from a JSON-lines file: parsed, checked, and the bad ones reported.

Each non-blank line must be one JSON object in the Twitter API v1.1 shape with at
least ``id_str`` (a string of digits), ``text``, ``created_at`` (Twitter's
``Wed Oct 10 20:19:24 +0000 2018``) and an ``entities`` object. A line that is not
JSON, not an object, or lacks one of those becomes a :class:`Skipped` record with its
line number and the reason, and reading goes on. Blank lines are ignored (JSON-lines
writers often end with one).

``id`` is re-derived from ``id_str``: tweet ids exceed 2**53, and readers that parse
JSON numbers as doubles (JavaScript, some loaders) corrupt the numeric ``id``.

Contents:
    Tweet: one accepted tweet.
    Skipped: one rejected line, with its line number and why.
    TWITTER_TIME: the ``created_at`` format.
    parse_line: one line to a Tweet, a Skipped, or None (blank).
    iter_tweets: a file's lines, parsed one at a time.
    photos_of: the photo media of a tweet, and the media that are not analysed.
    Photo: one photo of one tweet.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from deepracer.errors import ConfigError

__all__ = [
    "TWITTER_TIME",
    "Photo",
    "Skipped",
    "Tweet",
    "iter_tweets",
    "parse_line",
    "photos_of",
]

TWITTER_TIME = "%a %b %d %H:%M:%S %z %Y"
"""``created_at`` of the Twitter API v1.1, e.g. ``Wed Oct 10 20:19:24 +0000 2018``."""


@dataclass(frozen=True)
class Tweet:
    """One accepted tweet.

    Attributes:
        line: Its line number in the input (1-based).
        data: The tweet as read, with ``id`` set from ``id_str``.
        id: The tweet id.
        created: ``created_at`` as an aware datetime.
        text: The tweet text.
    """

    line: int
    data: dict[str, Any]
    id: int
    created: datetime
    text: str


@dataclass(frozen=True)
class Skipped:
    """One input line that was not processed.

    Attributes:
        line: Its line number (1-based).
        reason: Why, in words.
        id_str: The tweet id when the line had one.
    """

    line: int
    reason: str
    id_str: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """For ``skipped.json``."""
        return {"line": self.line, "id_str": self.id_str, "reason": self.reason}


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def parse_line(line_no: int, line: str) -> Tweet | Skipped | None:
    """Parses and checks one input line.

    Args:
        line_no: The 1-based line number, for the report.
        line: The line's text.

    Returns:
        A Tweet, a Skipped with the reason, or None for a blank line.
    """
    if not line.strip():
        return None
    try:
        data = json.loads(line.rstrip("\r\n"))
    except json.JSONDecodeError as exc:
        what = exc.msg.removesuffix(" starting at").removesuffix(" at")
        return Skipped(line_no, f"not JSON ({what} at column {exc.colno})")
    if not isinstance(data, dict):
        return Skipped(line_no, f"not a JSON object (a {_kind(data)})")
    id_str = data.get("id_str")
    if not isinstance(id_str, str) or not id_str.isdigit():
        got = "missing" if "id_str" not in data else f"{id_str!r}"
        return Skipped(line_no, f"no id_str (a string of digits): {got}")
    entities = data.get("entities")
    if not isinstance(entities, dict):
        got = "missing" if "entities" not in data else f"a {_kind(entities)}"
        return Skipped(line_no, f"no entities object: {got}", id_str)
    text = data.get("text")
    if not isinstance(text, str):
        return Skipped(line_no, f"no text string: {_kind(text)}", id_str)
    created_at = data.get("created_at")
    try:
        created = datetime.strptime(str(created_at), TWITTER_TIME)
    except ValueError:
        return Skipped(
            line_no,
            f"created_at {created_at!r} is not like 'Wed Oct 10 20:19:24 +0000 2018'",
            id_str,
        )
    tweet_id = int(id_str)
    return Tweet(line_no, {**data, "id": tweet_id}, tweet_id, created, text)


def iter_tweets(path: Path) -> Iterator[Tweet | Skipped]:
    """The tweets and skipped lines of a JSON-lines file, in file order (blanks dropped).

    Lines are read one at a time, so the file may be larger than memory.

    Raises:
        ConfigError: The file cannot be opened or is not UTF-8.
    """
    try:
        with path.open(encoding="utf-8") as handle:
            for line_no, line in enumerate(handle, 1):
                parsed = parse_line(line_no, line)
                if parsed is not None:
                    yield parsed
    except FileNotFoundError:
        raise ConfigError(f"{path}: tweets file not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None


@dataclass(frozen=True)
class Photo:
    """One photo of one tweet.

    Attributes:
        tweet_id: The tweet's id.
        media_id: The media's ``id_str``.
        url: ``media_url_https`` (or ``media_url``).
        name: The URL's file name (``page.png``), which names the image locally.
    """

    tweet_id: int
    media_id: str
    url: str
    name: str


def photos_of(tweet: Tweet, extensions: Sequence[str]) -> tuple[list[Photo], list[str]]:
    """The photos of a tweet that are analysed, and why the other media are not.

    As in the article: ``extended_entities.media`` items of ``type`` ``photo`` whose
    URL has one of ``extensions`` (compared case-insensitively).

    Returns:
        ``(photos, notes)``: one note per media item left out (video, GIF, other
        extension, no URL).
    """
    extended = tweet.data.get("extended_entities")
    media = extended.get("media") if isinstance(extended, dict) else None
    if not isinstance(media, list):
        return [], []
    wanted = tuple(e.lower() for e in extensions)
    photos: list[Photo] = []
    notes: list[str] = []
    for item in media:
        if not isinstance(item, dict):
            notes.append(f"media item is a {_kind(item)}, not an object")
            continue
        url = item.get("media_url_https") or item.get("media_url")
        kind = item.get("type")
        if kind != "photo":
            notes.append(f"{url}: type {kind!r}, not a photo")
            continue
        if not isinstance(url, str) or not url:
            notes.append("photo without media_url_https")
            continue
        name = PurePosixPath(urlsplit(url).path).name
        if not name.lower().endswith(wanted):
            notes.append(f"{url}: not one of {', '.join(extensions)}")
            continue
        media_id = item.get("id_str")
        photos.append(Photo(tweet.id, str(media_id) if media_id else name, url, name))
    return photos, notes
