"""SSML for Amazon Polly's conversational style: build, validate, tokenize.

Polly speaks the conversational style when the text is SSML wrapped in
``<amazon:domain name="conversational">``, with the neural engine and the US
English voices Joanna or Matthew. Polly refuses SSML that uses a tag the neural
engine lacks; :func:`validate_ssml` refuses the same documents here, before any
synthesis, with one error naming the line, the column, the tag and the problem.

Characters: Polly bills the text, not the tags (``<break time="1s"/>`` costs
nothing), and limits requests both by billed characters and by the document's
total length; :class:`SsmlDocument` counts both.

Contents:
    SsmlError: an SSML document or a voice/engine choice Polly would refuse.
    VOICES, ENGINES, STYLES: what this plugin accepts.
    check_voice, check_engine: one clear error for another voice or engine.
    build_ssml: plain text to an SSML document (escaped, paragraphs, the domain).
    validate_ssml: parse and check a document; an :class:`SsmlDocument`.
    SsmlDocument, Break: what validation found.
    Token, tokenize: the document as verbatim tokens with their offsets.
    decode_text: XML character data (entities resolved).
    break_seconds: a ``time`` attribute to seconds.
"""

from __future__ import annotations

import re
import xml.parsers.expat
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from deepracer.errors import DeepRacerError, suggest

__all__ = [
    "ENGINES",
    "STYLES",
    "VOICES",
    "Break",
    "SsmlDocument",
    "SsmlError",
    "Token",
    "break_seconds",
    "build_ssml",
    "check_engine",
    "check_voice",
    "decode_text",
    "tokenize",
    "validate_ssml",
]

VOICES: tuple[str, ...] = ("Joanna", "Matthew")
"""The voices with the conversational style (US English, neural)."""
ENGINES: tuple[str, ...] = ("neural",)
"""Polly's ``amazon:domain`` styles are neural-only."""
STYLES: tuple[str, ...] = ("conversational", "neutral")
"""``conversational`` wraps/needs the domain tag; ``neutral`` speaks without it."""
_POLLY_ENGINES = ("standard", "neural", "long-form", "generative")

MAX_BREAK_S = 10.0
"""Polly's longest ``<break time>``."""


class SsmlError(DeepRacerError, ValueError):
    """An SSML document, voice or engine that Polly's conversational style refuses."""


@dataclass(frozen=True)
class Break:
    """One ``<break>`` of a validated document.

    Attributes:
        line: 1-based line of the tag.
        seconds: Its ``time`` in seconds; None for a ``strength``-only break.
        strength: Its ``strength``, if given.
    """

    line: int
    seconds: float | None
    strength: str | None


@dataclass(frozen=True)
class SsmlDocument:
    """A validated SSML document.

    Attributes:
        text: The document exactly as validated (speech marks' byte offsets refer
            to its UTF-8 encoding).
        billed_characters: Characters of text, tags excluded (what Polly bills).
        total_characters: Characters of the whole document, tags included.
        words: Whitespace-separated words of the text.
        has_domain: Whether it holds ``<amazon:domain name="conversational">``.
        breaks: Its ``<break>`` tags in order.
        tags: How often each tag occurs.
    """

    text: str
    billed_characters: int
    total_characters: int
    words: int
    has_domain: bool
    breaks: tuple[Break, ...] = ()
    tags: Mapping[str, int] = field(default_factory=dict)

    @property
    def break_seconds(self) -> float:
        """The total ``time`` of the document's breaks [s]."""
        return sum(b.seconds or 0.0 for b in self.breaks)


def check_voice(voice: str) -> None:
    """Raises :class:`SsmlError` unless ``voice`` has the conversational style."""
    if voice not in VOICES:
        hint = suggest(voice, VOICES)
        raise SsmlError(
            f"voice {voice!r}: the conversational style is available for"
            f" {' and '.join(VOICES)} only (US English, neural).{hint}"
        )


def check_engine(engine: str) -> None:
    """Raises :class:`SsmlError` unless ``engine`` is Polly's neural engine."""
    if engine not in ENGINES:
        known = "a Polly engine" if engine in _POLLY_ENGINES else "not a Polly engine"
        raise SsmlError(
            f"engine {engine!r} ({known}): the conversational style needs the neural"
            " engine (engine: neural)"
        )


_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def build_ssml(text: str, *, style: str = "conversational") -> str:
    """Wraps plain text into an SSML document Polly's conversational style accepts.

    Blank lines separate paragraphs (``<p>``); ``&``, ``<`` and ``>`` are escaped.

    Args:
        text: Plain text (not SSML).
        style: ``conversational`` adds ``<amazon:domain name="conversational">``.

    Raises:
        SsmlError: The text is empty or the style unknown.
    """
    if style not in STYLES:
        raise SsmlError(f"style {style!r}: expected one of {', '.join(STYLES)}")
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    paragraphs = [p for p in paragraphs if p]
    if not paragraphs:
        raise SsmlError("text: nothing to speak (the text is empty)")
    escaped = ["".join(_ESCAPES.get(c, c) for c in p) for p in paragraphs]
    body = escaped[0] if len(escaped) == 1 else "\n".join(f"<p>{p}</p>" for p in escaped)
    if style == "conversational":
        body = f'<amazon:domain name="conversational">\n{body}\n</amazon:domain>'
    return f"<speak>\n{body}\n</speak>\n"


# -- validation --------------------------------------------------------------------------

_BREAK_TIME = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)$")
_STRENGTHS = ("none", "x-weak", "weak", "medium", "strong", "x-strong")
_RATE = re.compile(r"^(x-slow|slow|medium|fast|x-fast|(\d+(?:\.\d+)?)%)$")
_VOLUME = re.compile(r"^(silent|x-soft|soft|medium|loud|x-loud|[+-]\d+(?:\.\d+)?dB)$")
_SAY_AS = (
    "characters",
    "spell-out",
    "cardinal",
    "number",
    "ordinal",
    "digits",
    "fraction",
    "unit",
    "date",
    "time",
    "address",
    "expletive",
    "telephone",
)
_W_ROLES = (
    "amazon:VB",
    "amazon:VBD",
    "amazon:DT",
    "amazon:IN",
    "amazon:JJ",
    "amazon:NN",
    "amazon:SENSE_1",
)
# Tag -> (allowed attributes, required attributes). Polly's neural-engine table
# (Supported SSML tags): everything here is available to neural voices.
_TAGS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "speak": (frozenset({"xml:lang", "version", "xmlns", "xmlns:amazon"}), frozenset()),
    "break": (frozenset({"time", "strength"}), frozenset()),
    "lang": (frozenset({"xml:lang", "onlangfailure"}), frozenset({"xml:lang"})),
    "mark": (frozenset({"name"}), frozenset({"name"})),
    "p": (frozenset(), frozenset()),
    "s": (frozenset(), frozenset()),
    "phoneme": (frozenset({"alphabet", "ph"}), frozenset({"alphabet", "ph"})),
    "prosody": (frozenset({"rate", "volume", "pitch", "amazon:max-duration"}), frozenset()),
    "say-as": (frozenset({"interpret-as", "format", "detail"}), frozenset({"interpret-as"})),
    "sub": (frozenset({"alias"}), frozenset({"alias"})),
    "w": (frozenset({"role"}), frozenset({"role"})),
    "amazon:domain": (frozenset({"name"}), frozenset({"name"})),
    "amazon:effect": (frozenset({"name", "phonation", "vocal-tract-length"}), frozenset()),
}
# Polly tags the neural engine refuses (Polly answers InvalidSsmlException).
_NOT_NEURAL = {
    "emphasis": "<emphasis> is not available with the neural engine",
    "amazon:auto-breaths": "<amazon:auto-breaths> is not available with the neural engine",
    "amazon:breath": "<amazon:breath> is not available with the neural engine",
}
_EMPTY = ("break", "mark")
"""Tags that hold nothing."""


def break_seconds(value: str) -> float | None:
    """A break's ``time`` (``500ms``, ``1.5s``) in seconds; None if malformed."""
    match = _BREAK_TIME.match(value)
    if match is None:
        return None
    number = float(match.group(1))
    return number / 1000.0 if match.group(2) == "ms" else number


class _Validator:
    """Expat handlers that check each element as it opens (so errors carry its line)."""

    def __init__(self, parser: xml.parsers.expat.XMLParserType, source: str) -> None:
        self.parser = parser
        self.source = source
        self.stack: list[str] = []
        self.content: list[bool] = []  # whether each open element holds anything
        self.billed = 0
        self.words = 0
        self.in_word = False
        self.domain = False
        self.breaks: list[Break] = []
        self.tags: dict[str, int] = {}

    def fail(self, problem: str) -> SsmlError:
        line = self.parser.CurrentLineNumber
        column = self.parser.CurrentColumnNumber + 1
        return SsmlError(f"{self.source}: line {line}, column {column}: {problem}")

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if self.content:
            self.content[-1] = True
        if not self.stack and name != "speak":
            raise self.fail(f"the root element is <{name}>; an SSML document is <speak>...</speak>")
        if self.stack and name == "speak":
            raise self.fail("<speak> inside <speak>: only the root is <speak>")
        if self.stack and self.stack[-1] in _EMPTY:
            raise self.fail(f"<{name}> inside <{self.stack[-1]}>, which must be empty")
        if name in _NOT_NEURAL:
            raise self.fail(_NOT_NEURAL[name] + " (Polly refuses it)")
        if name not in _TAGS:
            hint = suggest(name, [*_TAGS, *_NOT_NEURAL])
            raise self.fail(f"unknown tag <{name}>.{hint} Known: {', '.join(sorted(_TAGS))}")
        allowed, required = _TAGS[name]
        for attr in attrs:
            if attr not in allowed and not attr.startswith("xmlns"):
                hint = suggest(attr, allowed)
                valid = ", ".join(sorted(allowed)) or "none"
                raise self.fail(f"<{name}> has no attribute {attr!r}.{hint} Valid: {valid}")
        missing = sorted(required - set(attrs))
        if missing:
            raise self.fail(f"<{name}> needs the attribute {missing[0]!r}")
        getattr(self, "_" + name.replace(":", "_").replace("-", "_"), _no_check)(attrs)
        self.tags[name] = self.tags.get(name, 0) + 1
        self.stack.append(name)
        self.content.append(False)
        self.in_word = False

    def end(self, name: str) -> None:
        self.stack.pop()
        self.content.pop()
        self.in_word = False

    def text(self, data: str) -> None:
        if self.content:
            self.content[-1] = True
        if self.stack and self.stack[-1] in _EMPTY:
            raise self.fail(f"<{self.stack[-1]}> must be empty, it holds text {data.strip()!r}")
        self.billed += len(data)
        # Words may span several callbacks (expat splits at entities and newlines).
        for char in data:
            if char.isspace():
                self.in_word = False
            elif not self.in_word:
                self.in_word = True
                self.words += 1

    # -- per-tag checks (called with the element's attributes) --------------------------

    def _break(self, attrs: dict[str, str]) -> None:
        seconds = None
        if "time" in attrs:
            seconds = break_seconds(attrs["time"])
            if seconds is None:
                raise self.fail(
                    f"<break time={attrs['time']!r}>: expected milliseconds or seconds such"
                    ' as "500ms" or "1.5s"'
                )
            if seconds > MAX_BREAK_S:
                raise self.fail(
                    f"<break time={attrs['time']!r}>: Polly's longest break is {MAX_BREAK_S:g}s"
                )
        strength = attrs.get("strength")
        if strength is not None and strength not in _STRENGTHS:
            raise self.fail(
                f"<break strength={strength!r}>: expected one of {', '.join(_STRENGTHS)}"
            )
        self.breaks.append(Break(self.parser.CurrentLineNumber, seconds, strength))

    def _amazon_domain(self, attrs: dict[str, str]) -> None:
        name = attrs["name"]
        if name != "conversational":
            what = " (Polly's newscaster style)" if name == "news" else ""
            raise self.fail(
                f'<amazon:domain name="{name}">{what}: this plugin speaks the conversational'
                ' style, name="conversational"'
            )
        if "amazon:domain" in self.stack:
            raise self.fail("<amazon:domain> inside another <amazon:domain>")
        self.domain = True

    def _amazon_effect(self, attrs: dict[str, str]) -> None:
        if set(attrs) != {"name"} or attrs["name"] != "drc":
            shown = " ".join(f'{k}="{v}"' for k, v in attrs.items())
            raise self.fail(
                f"<amazon:effect {shown}> is not available with the neural engine (only"
                ' name="drc" is)'
            )

    def _prosody(self, attrs: dict[str, str]) -> None:
        if "pitch" in attrs:
            raise self.fail("<prosody pitch> is not supported by the neural engine (rate, volume)")
        if "amazon:max-duration" in attrs:
            raise self.fail("<prosody amazon:max-duration> is not available with the neural engine")
        if not attrs:
            raise self.fail("<prosody> needs rate or volume")
        rate = attrs.get("rate")
        if rate is not None:
            match = _RATE.match(rate)
            if match is None or (match.group(2) and not 20 <= float(match.group(2)) <= 200):
                raise self.fail(
                    f"<prosody rate={rate!r}>: expected x-slow, slow, medium, fast, x-fast or"
                    " 20%-200%"
                )
        volume = attrs.get("volume")
        if volume is not None and _VOLUME.match(volume) is None:
            raise self.fail(
                f"<prosody volume={volume!r}>: expected silent, x-soft, soft, medium, loud,"
                ' x-loud or a change in dB such as "+6dB"'
            )

    def _p(self, attrs: dict[str, str]) -> None:
        for outer in ("p", "s"):
            if outer in self.stack:
                raise self.fail(f"<p> inside <{outer}>")

    def _s(self, attrs: dict[str, str]) -> None:
        if "s" in self.stack:
            raise self.fail("<s> inside <s>")

    def _say_as(self, attrs: dict[str, str]) -> None:
        kind = attrs["interpret-as"]
        if kind not in _SAY_AS:
            raise self.fail(
                f"<say-as interpret-as={kind!r}>.{suggest(kind, _SAY_AS)} Valid:"
                f" {', '.join(_SAY_AS)}"
            )

    def _phoneme(self, attrs: dict[str, str]) -> None:
        if attrs["alphabet"] not in ("ipa", "x-sampa"):
            raise self.fail(f"<phoneme alphabet={attrs['alphabet']!r}>: expected ipa or x-sampa")

    def _w(self, attrs: dict[str, str]) -> None:
        if attrs["role"] not in _W_ROLES:
            raise self.fail(f"<w role={attrs['role']!r}>: expected one of {', '.join(_W_ROLES)}")


def _no_check(attrs: dict[str, str]) -> None:
    """Tags without value checks."""


def validate_ssml(
    text: str,
    *,
    voice: str = "Joanna",
    engine: str = "neural",
    style: Literal["conversational", "neutral"] | str = "conversational",
    source: str = "ssml",
) -> SsmlDocument:
    """Checks that Polly's conversational style would accept ``text``.

    Checked: the voice and engine; well-formed XML (no DOCTYPE, no CDATA); the root
    ``<speak>``; every tag known to Polly and available to the neural engine, with
    valid attributes and values (break times, prosody rate/volume, say-as kinds, ...);
    ``<amazon:domain name="conversational">``, present exactly when ``style`` is
    ``conversational``; and some text to speak. Nothing is synthesized.

    Args:
        text: The SSML document.
        voice: The Polly voice (Joanna or Matthew).
        engine: The Polly engine (neural).
        style: ``conversational`` requires the domain tag; ``neutral`` forbids it.
        source: Names the document in errors (a file name, ``speech.ssml``).

    Raises:
        SsmlError: The first problem found, with its line and column.
    """
    check_voice(voice)
    check_engine(engine)
    if style not in STYLES:
        raise SsmlError(f"style {style!r}: expected one of {', '.join(STYLES)}")
    parser = xml.parsers.expat.ParserCreate()  # no namespaces: amazon:domain stays a name
    check = _Validator(parser, source)
    parser.StartElementHandler = check.start
    parser.EndElementHandler = check.end
    parser.CharacterDataHandler = check.text
    parser.buffer_text = False

    def no_doctype(*_: object) -> None:
        # Refusing DOCTYPE also refuses entity definitions (and their expansion bombs).
        raise check.fail("DOCTYPE is not allowed in SSML")

    def no_cdata() -> None:
        raise check.fail("CDATA sections are not supported; escape the text (&amp; &lt;)")

    parser.StartDoctypeDeclHandler = no_doctype
    parser.StartCdataSectionHandler = no_cdata
    try:
        parser.Parse(text, True)
    except xml.parsers.expat.ExpatError as exc:
        message = xml.parsers.expat.ErrorString(exc.code)
        raise SsmlError(
            f"{source}: line {exc.lineno}, column {exc.offset + 1}: not well-formed XML ({message})"
        ) from None
    if style == "conversational" and not check.domain:
        raise SsmlError(
            f'{source}: no <amazon:domain name="conversational">: wrap the text in it for'
            " the conversational style (or set style: neutral)"
        )
    if style == "neutral" and check.domain:
        raise SsmlError(
            f"{source}: style neutral, but the document has <amazon:domain>; remove it or"
            " set style: conversational"
        )
    if check.words == 0:
        raise SsmlError(f"{source}: nothing to speak (the document holds no text)")
    return SsmlDocument(
        text=text,
        billed_characters=check.billed,
        total_characters=len(text),
        words=check.words,
        has_domain=check.domain,
        breaks=tuple(check.breaks),
        tags=dict(check.tags),
    )


# -- tokens ------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"(?P<comment><!--.*?-->)"
    r"|(?P<pi><\?.*?\?>)"
    r"|(?P<tag><(?P<close>/?)(?P<name>[^\s/>]+)(?:[^>\"']|\"[^\"]*\"|'[^']*')*?(?P<empty>/?)>)"
    r"|(?P<text>[^<]+)",
    re.DOTALL,
)
_ENTITY = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


@dataclass(frozen=True)
class Token:
    """A verbatim piece of a document.

    Attributes:
        kind: ``open``, ``close``, ``empty`` (``<x/>``), ``text`` or ``other``
            (a comment or the XML declaration).
        name: The tag name (empty for text and other).
        raw: The characters exactly as in the document.
        char: Offset of its first character in the document.
        byte: Offset of its first byte in the document's UTF-8 encoding.
    """

    kind: Literal["open", "close", "empty", "text", "other"]
    name: str
    raw: str
    char: int
    byte: int

    def attribute(self, name: str) -> str | None:
        """The value of one attribute of a tag (entities resolved), or None."""
        match = re.search(rf"\s{re.escape(name)}\s*=\s*(\"[^\"]*\"|'[^']*')", self.raw)
        return decode_text(match.group(1)[1:-1]) if match else None


def tokenize(text: str) -> list[Token]:
    """Splits a well-formed document into verbatim tokens (see :func:`validate_ssml`)."""
    tokens: list[Token] = []
    byte = 0
    for match in _TOKEN.finditer(text):
        raw = match.group(0)
        kind: Literal["open", "close", "empty", "text", "other"]
        if match.group("text") is not None:
            kind, name = "text", ""
        elif match.group("tag") is not None:
            name = match.group("name")
            kind = "close" if match.group("close") else "empty" if match.group("empty") else "open"
        else:
            kind, name = "other", ""
        tokens.append(Token(kind, name, raw, match.start(), byte))
        byte += len(raw.encode("utf-8"))
    return tokens


def decode_text(raw: str) -> str:
    """Character data with its entities (``&amp;``, ``&#233;``) resolved."""

    def one(match: re.Match[str]) -> str:
        ref = match.group(1)
        if ref.startswith("#x"):
            return chr(int(ref[2:], 16))
        if ref.startswith("#"):
            return chr(int(ref[1:]))
        return _NAMED[ref]

    return _ENTITY.sub(one, raw)
