"""Splitting long SSML within Polly's limits, at sentence boundaries.

Polly synthesizes at most 3,000 billed characters (6,000 in all, tags included) per
``synthesize_speech`` call and 100,000 (200,000) per ``start_speech_synthesis_task``.
A longer document is cut into chunks of whole sentences, never inside a tag: each
chunk is itself a valid document that reopens the elements (``<speak>``,
``<amazon:domain>``, ``<prosody>``, ``<p>``...) its text sits in, with their
attributes. Inline elements (``<say-as>``, ``<sub>``, ``<phoneme>``, ``<w>``,
``<break>``, ``<mark>``) are never cut. A single sentence over the limit is cut
between words (counted in :attr:`Chunk.forced`); a single inline element over it
is an error.

Text is copied verbatim, so every chunk knows where its text came from: speech
marks' byte offsets into a chunk map back to the validated document
(:meth:`Chunk.to_source`).

Contents:
    SYNC_LIMITS, TASK_LIMITS: Polly's (billed, total) character limits.
    Chunk: one chunk, with its sentences and its text's source offsets.
    Sentence: a sentence's place and text in the source document.
    split_ssml: a validated document to chunks.
"""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass, field

from deepracer.plugins.speech.ssml import SsmlDocument, SsmlError, Token, decode_text, tokenize

__all__ = ["SYNC_LIMITS", "TASK_LIMITS", "Chunk", "Sentence", "split_ssml"]

SYNC_LIMITS = (3000, 6000)
"""``synthesize_speech``: billed characters, total characters."""
TASK_LIMITS = (100_000, 200_000)
"""``start_speech_synthesis_task``: billed characters, total characters."""

_CONTAINERS = frozenset({"speak", "amazon:domain", "amazon:effect", "prosody", "p", "s", "lang"})
"""Elements a chunk boundary may fall inside (they are reopened in the next chunk)."""
_SENTENCE_END = re.compile(r"[.!?]+[\"')\]]*\s+")
_FINAL = re.compile(r"[.!?]+[\"')\]]*\s*$")
_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "st", "vs", "etc", "e.g", "i.e", "no", "approx", "jr", "sr"}
)
_WORD_GAP = re.compile(r"\s+")


@dataclass(frozen=True)
class Sentence:
    """A sentence of the source document.

    Attributes:
        start: Byte offset of its first non-space character in the source.
        end: Byte offset just past its last non-space character.
        value: Its text (entities resolved, whitespace collapsed, tags dropped).
    """

    start: int
    end: int
    value: str


@dataclass
class Chunk:
    """One request's worth of SSML.

    Attributes:
        ssml: A complete document (``<speak>...</speak>``).
        billed: Its billed characters (text, tags excluded).
        sentences: The sentences it speaks, in source offsets.
        forced: Sentences cut between words because one alone was over the limit.
        segments: ``(chunk byte, source byte, length in bytes)`` of each verbatim text
            piece, in order.
    """

    ssml: str
    billed: int
    sentences: list[Sentence] = field(default_factory=list)
    forced: int = 0
    segments: list[tuple[int, int, int]] = field(default_factory=list)

    def to_source(self, offset: int) -> int:
        """Maps a byte offset into :attr:`ssml` to the source document's.

        An offset inside a text piece maps exactly; one in a tag maps to the start
        of the next piece of text (the end of the last one past all text).
        """
        if not self.segments:
            return 0
        starts = [s[0] for s in self.segments]
        k = bisect.bisect_right(starts, offset) - 1
        if k >= 0:
            chunk_start, source_start, length = self.segments[k]
            if offset <= chunk_start + length:
                return source_start + (offset - chunk_start)
        if k + 1 < len(self.segments):
            return self.segments[k + 1][1]
        chunk_start, source_start, length = self.segments[-1]
        return source_start + length


@dataclass
class _Atom:
    """An indivisible run of tokens inside one stack of container elements."""

    tokens: list[Token]
    stack: tuple[Token, ...]
    billed: int
    end_of_sentence: bool = False


def _text_pieces(token: Token) -> list[tuple[Token, bool]]:
    """A text token cut after each sentence end: (piece, ends a sentence)."""
    pieces: list[tuple[Token, bool]] = []
    start = 0
    raw = token.raw
    for match in _SENTENCE_END.finditer(raw):
        before = raw[start : match.start()].rsplit(None, 1)
        last_word = before[-1].lower() if before else ""
        rest = raw[match.end() :]
        if last_word in _ABBREVIATIONS or (rest[:1].islower()):
            continue  # "Dr. Smith", "e.g. this": not a sentence end
        pieces.append((_slice(token, start, match.end()), True))
        start = match.end()
    if start < len(raw):
        tail = raw[start:]
        pieces.append((_slice(token, start, len(raw)), bool(_FINAL.search(tail))))
    return pieces


def _slice(token: Token, start: int, end: int) -> Token:
    raw = token.raw[start:end]
    byte = token.byte + len(token.raw[:start].encode("utf-8"))
    return Token("text", "", raw, token.char + start, byte)


def _billed(tokens: list[Token]) -> int:
    return sum(len(decode_text(t.raw)) for t in tokens if t.kind == "text")


def _atoms(tokens: list[Token]) -> list[_Atom]:
    """Flattens the document into atoms, marking sentence ends."""
    atoms: list[_Atom] = []
    stack: list[Token] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.kind == "other":
            i += 1  # comments and the XML declaration are not sent
        elif token.kind == "open" and token.name in _CONTAINERS:
            stack.append(token)
            i += 1
        elif token.kind == "close" and token.name in _CONTAINERS:
            stack.pop()
            if token.name in ("s", "p") and atoms:
                atoms[-1].end_of_sentence = True
            i += 1
        elif token.kind == "text" and not stack:
            i += 1  # whitespace around the root element: not spoken, not sent
        elif token.kind == "text":
            for piece, ends in _text_pieces(token):
                atoms.append(_Atom([piece], tuple(stack), _billed([piece]), ends))
            i += 1
        else:  # an inline element, taken whole up to its matching close
            depth, j = 0, i
            while True:
                kind = tokens[j].kind
                depth += 1 if kind == "open" else -1 if kind == "close" else 0
                if depth == 0:
                    break
                j += 1
            run = tokens[i : j + 1]
            atoms.append(_Atom(run, tuple(stack), _billed(run)))
            i = j + 1
    return atoms


class _Writer:
    """Serializes atoms into one chunk, reopening containers as needed."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0  # characters
        self.bytes = 0
        self.stack: tuple[Token, ...] = ()
        self.billed = 0
        self.segments: list[tuple[int, int, int]] = []

    def _emit(self, raw: str) -> None:
        self.parts.append(raw)
        self.length += len(raw)
        self.bytes += len(raw.encode("utf-8"))

    def add(self, atom: _Atom) -> None:
        common = 0
        while (
            common < min(len(self.stack), len(atom.stack))
            and self.stack[common] is atom.stack[common]
        ):
            common += 1
        for open_tag in reversed(self.stack[common:]):
            self._emit(f"</{open_tag.name}>")
        for open_tag in atom.stack[common:]:
            self._emit(open_tag.raw)
        self.stack = atom.stack
        for token in atom.tokens:
            if token.kind == "text":
                size = len(token.raw.encode("utf-8"))
                self.segments.append((self.bytes, token.byte, size))
            self._emit(token.raw)
        self.billed += atom.billed

    def closing(self) -> int:
        return sum(len(t.name) + 3 for t in self.stack)

    def finish(self) -> str:
        for open_tag in reversed(self.stack):
            self._emit(f"</{open_tag.name}>")
        self.stack = ()
        return "".join(self.parts)

    def state(self) -> tuple[int, int, int, tuple[Token, ...], int, int]:
        return (
            len(self.parts),
            self.length,
            self.bytes,
            self.stack,
            self.billed,
            len(self.segments),
        )

    def restore(self, state: tuple[int, int, int, tuple[Token, ...], int, int]) -> None:
        parts, self.length, self.bytes, self.stack, self.billed, segments = state
        del self.parts[parts:]
        del self.segments[segments:]


def _sentence(atoms: list[_Atom]) -> Sentence:
    texts = [t for a in atoms for t in a.tokens if t.kind == "text" and t.raw.strip()]
    value = " ".join(decode_text("".join(t.raw for t in texts)).split())
    if not texts:
        return Sentence(0, 0, value)
    first, last = texts[0], texts[-1]
    lead = len(first.raw) - len(first.raw.lstrip())
    start = first.byte + len(first.raw[:lead].encode("utf-8"))
    end = last.byte + len(last.raw.rstrip().encode("utf-8"))
    return Sentence(start, end, value)


def _words(atom: _Atom) -> list[_Atom]:
    """A text atom cut after each run of spaces (for a sentence over the limit)."""
    if len(atom.tokens) != 1 or atom.tokens[0].kind != "text":
        return [atom]
    token = atom.tokens[0]
    cuts = [m.end() for m in _WORD_GAP.finditer(token.raw)]
    bounds = [0, *[c for c in cuts if 0 < c < len(token.raw)], len(token.raw)]
    pieces = [_slice(token, a, b) for a, b in itertools.pairwise(bounds) if b > a]
    out = [_Atom([p], atom.stack, _billed([p])) for p in pieces]
    out[-1].end_of_sentence = atom.end_of_sentence
    return out


def _line(text: str, char: int) -> int:
    return text.count("\n", 0, char) + 1


class _Packer:
    """Packs sentences greedily into chunks within the limits."""

    def __init__(self, max_billed: int, max_total: int, text: str, source: str) -> None:
        self.max_billed, self.max_total = max_billed, max_total
        self.text, self.source = text, source
        self.chunks: list[Chunk] = []
        self.writer = _Writer()
        self.current: list[Sentence] = []
        self.forced = 0

    def fits(self) -> bool:
        w = self.writer
        return w.billed <= self.max_billed and w.length + w.closing() <= self.max_total

    def flush(self) -> None:
        w = self.writer
        if w.parts:
            self.chunks.append(Chunk(w.finish(), w.billed, self.current, self.forced, w.segments))
        self.writer, self.current, self.forced = _Writer(), [], 0

    def note(self, atoms: list[_Atom]) -> None:
        found = _sentence(atoms)
        if found.value:  # not the whitespace between closing tags
            self.current.append(found)

    def sentence(self, atoms: list[_Atom]) -> None:
        """Adds a sentence to this chunk, or to a new one, or cut between words."""
        for attempt in range(2):
            state = self.writer.state()
            for atom in atoms:
                self.writer.add(atom)
            if self.fits():
                self.note(atoms)
                return
            self.writer.restore(state)
            if attempt == 0:
                self.flush()
        self.note(atoms)
        self.forced += 1
        for atom in (w for a in atoms for w in _words(a)):
            state = self.writer.state()
            self.writer.add(atom)
            if self.fits():
                continue
            self.writer.restore(state)
            if self.writer.parts:
                self.flush()
                self.forced = 1  # the rest of a sentence cut between words
            self.writer.add(atom)
            if not self.fits():
                w = self.writer
                raise SsmlError(
                    f"{self.source}: line {_line(self.text, atom.tokens[0].char)}: one"
                    f" element holds {atom.billed} billed characters"
                    f" ({w.length + w.closing()} in all), over the chunk limit of"
                    f" {self.max_billed} ({self.max_total}); shorten it"
                )


def split_ssml(
    document: SsmlDocument,
    *,
    max_billed: int = SYNC_LIMITS[0],
    max_total: int = SYNC_LIMITS[1],
    source: str = "ssml",
) -> list[Chunk]:
    """Cuts a validated document into chunks within Polly's limits.

    Args:
        document: From :func:`~deepracer.plugins.speech.ssml.validate_ssml`.
        max_billed: Billed characters per chunk (3,000 synchronous, 100,000 task).
        max_total: Characters per chunk, tags included (6,000 / 200,000).
        source: Names the document in errors.

    Returns:
        The chunks in order; one chunk if the document fits (then its SSML is the
        document without comments, XML declaration and whitespace around the root).

    Raises:
        SsmlError: One inline element alone is over the limits.
    """
    if max_billed < 1 or max_total < 1:
        raise SsmlError(f"chunk limits must be >= 1, got {max_billed}, {max_total}")
    sentences: list[list[_Atom]] = [[]]
    for atom in _atoms(tokenize(document.text)):
        sentences[-1].append(atom)
        if atom.end_of_sentence:
            sentences.append([])
    packer = _Packer(max_billed, max_total, document.text, source)
    for sentence in sentences:
        if sentence:
            packer.sentence(sentence)
    packer.flush()
    return packer.chunks
