"""The subtitles plugin: frames, transcript errors, segmentation, rules, files, AWS."""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("srt")
pytest.importorskip("webvtt")
pytest.importorskip("pysubs2")

from deepracer import plugins
from deepracer.cli import main as cli
from deepracer.errors import ConfigError, DeepRacerError
from deepracer.plugins.subtitles import SubtitlesConfig
from deepracer.plugins.subtitles.aws import parse_s3_location, start_request, transcribe_media
from deepracer.plugins.subtitles.formats import (
    read_back,
    to_events,
    validate,
    write_srt,
    write_vtt,
)
from deepracer.plugins.subtitles.rules import check_cues, check_written
from deepracer.plugins.subtitles.run import SAMPLE, transcript_path
from deepracer.plugins.subtitles.segmenter import Cue, Segmenter
from deepracer.plugins.subtitles.style import (
    Language,
    Style,
    classify_break,
    find_names,
    name_pairs,
)
from deepracer.plugins.subtitles.timing import (
    FRAME_RATES,
    frame_rate,
    frame_to_ms,
    ms_to_frame,
    parse_clock,
    parse_seconds,
)
from deepracer.plugins.subtitles.transcript import (
    TranscriptError,
    Word,
    parse_transcript,
    read_transcript,
    split_sentences,
)
from deepracer.plugins.subtitles.translate import (
    AwsTranslator,
    MemoryTranslator,
    TranslationError,
    load_memory,
    retime_sentence,
)
from tests.cloud.conftest import aws_env  # noqa: F401
from tests.plugins.helpers import offline, offline_client

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENT = ROOT / "experiments" / "subtitles.yaml"
SAMPLE_FILE = ROOT / "experiments" / SAMPLE
MEMORY_FILE = SAMPLE_FILE.with_name("subtitles_sample.translations.json")
EN = Language.for_code("en")


@pytest.fixture(scope="module")
def sample() -> Any:
    return read_transcript(SAMPLE_FILE)


def _run(out: Path, *sets: str) -> dict[str, Any]:
    args = ["run", str(EXPERIMENT), "--out", str(out)]
    for item in sets:
        args += ["--set", item]
    with offline():
        assert cli(args) == 0
    return dict(json.loads((out / "metrics.json").read_text())["metrics"])


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped experiment, run once with every socket refused."""
    out = tmp_path_factory.mktemp("subtitles") / "run"
    _run(out)
    return out


def _words(spec: str, *, start: float = 1.0, word: float = 0.3, gap: float = 0.05) -> list[Word]:
    """Evenly spoken words of ``spec`` (sentence ends from punctuation)."""
    out, t = [], Fraction(str(start))
    for text in spec.split():
        end = t + Fraction(str(word))
        out.append(Word(text, t, end, sentence_end=text.endswith((".", "!", "?"))))
        t = end + Fraction(str(gap))
    return out


# -- timing ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(FRAME_RATES))
def test_frames_to_ms_and_back_is_exact_at_every_rate(name: str) -> None:
    fps = FRAME_RATES[name]
    frames = itertools.chain(range(0, 3000), range(10**6, 10**6 + 300))  # up to ~11 h
    for n in frames:
        ms = frame_to_ms(n, fps)
        assert ms_to_frame(ms, fps) == n
        # The written millisecond is at or before the frame, and after the one before.
        assert Fraction(ms) <= Fraction(n * 1000) / fps < ms + 1


def test_ntsc_is_counted_in_integer_frames_not_float_seconds() -> None:
    fps = frame_rate(29.97)
    assert fps == Fraction(30000, 1001)
    assert [frame_to_ms(n, fps) for n in (1, 2, 3, 30, 1800)] == [33, 66, 100, 1001, 60060]
    # 108000 frames (an hour's worth at 30) last 3603.6 s exactly; the float 29.97 is
    # not the NTSC rate and drifts by 3.6 ms in that hour.
    assert frame_to_ms(108000, fps) == 3_603_600
    assert round(108000 * 1000 / 29.97) == 3_603_604
    assert frame_to_ms(107892, fps) == 3_599_996


def test_style_limits_in_frames() -> None:
    assert [Style.build(fps=f).min_frames for f in (24, 25, 29.97)] == [20, 21, 25]
    assert [Style.build(fps=f).max_frames for f in (24, 25, 29.97)] == [168, 175, 209]
    assert Style.build(fps=25, min_duration=0.8).min_frames == 20
    with pytest.raises(ValueError, match="frame rate"):
        frame_rate(26)


def test_time_strings() -> None:
    assert parse_seconds("1.27") == Fraction(127, 100)
    assert parse_seconds(" 0 ") == 0
    for bad in ("abc", "nan", "inf", "", None, 1.5):
        assert parse_seconds(bad) is None
    assert parse_clock("01:02:03,004") == 3_723_004
    assert parse_clock("02:03.004") == 123_004


# -- transcript --------------------------------------------------------------------------


def test_the_sample_reads_as_timed_words_with_punctuation_attached(sample: Any) -> None:
    words = sample.words
    assert len(words) == 221 and sample.punctuation == 30
    assert sample.speakers == ("spk_0", "spk_1")
    assert words[0].text == "Good" and words[1].text == "evening,"
    assert all(isinstance(w.start, Fraction) for w in words)
    assert all(a.end <= b.start for a, b in itertools.pairwise(words))
    sentences = split_sentences(list(words))
    assert len(sentences) == 15
    assert sentences[5].text.endswith("learned to read them.")
    span = float(sample.span[1] - sample.span[0])
    assert 60 <= span <= 120


def _doc(*items: dict[str, Any]) -> dict[str, Any]:
    return {"results": {"items": list(items)}}


def _word(text: str, start: str, end: str, **extra: Any) -> dict[str, Any]:
    item = {"type": "pronunciation", "start_time": start, "end_time": end}
    item["alternatives"] = [{"confidence": "0.99", "content": text}]
    return {**item, **extra}


def _punct(text: str) -> dict[str, Any]:
    return {"type": "punctuation", "alternatives": [{"confidence": "0.0", "content": text}]}


_A = _word("a", "0.1", "0.5")
BAD_TRANSCRIPTS = [
    ({"results": {}}, "missing results.items"),
    ({"jobName": "x"}, "missing results.items"),
    ([1, 2], "missing results.items"),
    (_doc(_A, _word("b", "zero", "1")), "results.items[1] ('b'): start_time 'zero' is not a"),
    (_doc(_word("a", "0.1", "-1")), "end_time '-1' is not a number"),
    (_doc(_word("a", "0", "1", id=7), _word("b", "2", None)), "item without 'end_time'"),
    (
        _doc(_word("a", "0.5", "0.4")),
        "results.items[0] ('a'): end_time 0.4 is before start_time 0.5",
    ),
    (
        _doc(_A, _word("b", "0.4", "0.9", id=12)),
        "results.items[1] (id 12, 'b') starts at 0.4 s, before results.items[0] ('a', 0.100 to"
        " 0.500 s) ends",
    ),
    (_doc(_word("a", "0.3", "0.5"), _word("b", "0.2", "0.9")), "items out of order"),
    (_doc({"type": "speech", "alternatives": [{"content": "a"}]}), "type 'speech'"),
    (_doc({"type": "pronunciation", "start_time": "0", "end_time": "1"}), "'alternatives' list"),
    (_doc({"type": "pronunciation", "alternatives": [{"content": " "}]}), "no text 'content'"),
    (_doc(_A | {"alternatives": [{"content": "a", "confidence": "high"}]}), "confidence 'high'"),
    (_doc(_punct(".")), "no pronunciation items"),
    (_doc("word"), "results.items[0]: expected an object"),
]


@pytest.mark.parametrize(("document", "words"), BAD_TRANSCRIPTS)
def test_bad_transcripts_name_the_item(document: Any, words: str) -> None:
    with pytest.raises(TranscriptError) as info:
        parse_transcript(document, source="t.json")
    assert str(info.value).startswith("t.json: ")
    assert words in str(info.value)


def test_overlaps_clip_repairs_and_reports() -> None:
    document = _doc(_word("a", "0.1", "0.5"), _punct(","), _word("b", "0.4", "0.9"))
    transcript = parse_transcript(document, overlaps="clip")
    assert transcript.words[0].end == Fraction(2, 5) and transcript.words[0].text == "a,"
    (repair,) = transcript.repairs
    assert (repair.item, repair.field, repair.old, repair.new) == (0, "end_time", "0.500", "0.4")
    assert "results.items[2]" in repair.reason


def test_unreadable_transcript_files(tmp_path: Path) -> None:
    with pytest.raises(TranscriptError, match="not found"):
        read_transcript(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(TranscriptError, match="not JSON"):
        read_transcript(bad)


# -- style and segmentation --------------------------------------------------------------


def test_break_rules() -> None:
    words = _words("Sofia Marchetti took the lap with a smile, and then left.")
    names = find_names(words, EN)
    assert ("sofia", "marchetti") in names
    kinds = [classify_break(a, b, EN, names) for a, b in itertools.pairwise(words)]
    assert kinds[0].rule == "name"  # Sofia | Marchetti
    assert kinds[3].rule == "article" and kinds[6].rule == "article"  # the | lap, a | smile
    assert kinds[5].rule == "dangling" and kinds[8].rule == "dangling"  # with | a, and | then
    assert kinds[4].rule is None and kinds[4].cost == 1.0  # lap | with: before a preposition
    assert kinds[7].rule is None and kinds[7].cost < kinds[1].cost  # after the comma
    assert name_pairs(["Kenji Watanabe Jr"]) == {("kenji", "watanabe"), ("watanabe", "jr")}
    assert not Language.for_code("xx").known and Language.for_code("de-AT").known


def test_lookahead_beats_greedy_on_the_sample(sample: Any) -> None:
    words = list(sample.words)
    style = Style.build(fps=25)
    segmenter = Segmenter(words, style, EN, find_names(words, EN))
    lookahead, greedy = segmenter.lookahead(), segmenter.greedy()
    assert segmenter.total_cost(lookahead) < segmenter.total_cost(greedy)
    good = check_cues(lookahead, words, style, EN, find_names(words, EN))
    bad = check_cues(greedy, words, style, EN, find_names(words, EN))
    assert good.total == 0 and good.measures["orphans"] == 0
    assert bad.total > 0 and bad.measures["orphans"] >= 1
    # Every word in exactly one cue, in order.
    assert [c.first for c in lookahead] == [0] + [c.last for c in lookahead[:-1]]
    assert lookahead[-1].last == len(words)


def test_lookahead_is_the_least_cost_segmentation() -> None:
    words = _words(
        "The camera sees the track edges as white lines, and the network has learned"
        " to read them. Then it turns."
    )
    segmenter = Segmenter(words, Style.build(fps=25), EN, set())
    n = len(words)
    cost = {(a, b): segmenter.cost(a, b) for a in range(n) for b in range(a + 1, n + 1)}
    best = min(
        sum(cost[a, b] for a, b in itertools.pairwise((0, *cuts, n)))
        for k in range(6)
        for cuts in itertools.combinations(range(1, n), k)
    )
    assert segmenter.total_cost(segmenter.lookahead()) == pytest.approx(best)


def test_cue_timing_extends_closes_and_trims() -> None:
    style = Style.build(fps=25)  # 21 frames minimum, gaps under 13 frames closed to 2
    words = [
        Word("Hi.", Fraction(1), Fraction(11, 10), sentence_end=True),  # frames 25-28
        Word("Far", Fraction(5), Fraction(53, 10)),
        Word("near.", Fraction(27, 5), Fraction(6), sentence_end=True),
        Word("Tight.", Fraction(6), Fraction(13, 2), sentence_end=True),
    ]
    segmenter = Segmenter(words, style, EN, set())
    assert segmenter.timing(0, 1) == (25, 46)  # extended to the minimum duration
    assert segmenter.timing(1, 3) == (125, 148)  # trimmed: 2 frames before "Tight." at 150
    assert segmenter.timing(3, 4) == (150, 171)  # the last cue: minimum duration again
    closer = [
        Word("One.", Fraction(1), Fraction(3), sentence_end=True),
        Word("Two.", Fraction(34, 10), Fraction(4)),
    ]
    assert Segmenter(closer, style, EN, set()).timing(0, 1) == (25, 83)  # gap 10 -> 2


def _cue(first: int, last: int, lines: tuple[str, ...], start: int, end: int, **kw: Any) -> Cue:
    ends = kw.pop("line_ends", (last,))
    return Cue(
        first,
        last,
        ends,
        lines,
        start,
        end,
        kw.pop("speech_start", start),
        kw.pop("speech_end", end),
    )


def test_the_checker_finds_every_rule() -> None:
    style = Style.build(fps=25)
    words = _words("Sofia Marchetti drove the car into the pit.", start=0, word=0.5, gap=0)
    words[5:] = [
        Word(w.text, w.start, w.end, speaker="spk_1", sentence_end=w.sentence_end)
        for w in words[5:]
    ]
    long = "x" * 50
    cues = [
        _cue(0, 1, (long, "b", "c"), 0, 10),  # long line, 3 lines, too short, too fast
        _cue(1, 4, ("Marchetti", "drove the"), 11, 200, line_ends=(2, 4), speech_start=15),
        _cue(4, 6, ("car", "into"), 201, 230, line_ends=(5, 6), speech_end=240),
        _cue(6, 8, ("the pit.",), 232, 300, speech_end=250),  # hangs on 47 frames
    ]
    check = check_cues(cues, words, style, EN, find_names(words, EN))
    counts = {row.key: row.violations for row in check.rows}
    assert counts["chars_per_line"] == 1 and counts["lines_per_cue"] == 1
    assert counts["min_duration"] == 1 and counts["max_duration"] == 1
    assert counts["reading_speed"] == 1 and counts["min_gap"] == 2
    assert counts["in_sync"] == 1 and counts["out_early"] == 1 and counts["out_late"] >= 1
    assert counts["name"] == 1 and counts["article"] == 1 and counts["dangling"] == 1
    assert counts["speaker_change"] == 1
    assert check.total == len(check.violations)
    assert {v.cue for v in check.violations if v.rule == "name"} == {1}
    assert {v.cue for v in check.violations if v.rule == "article"} == {2}
    assert {v.cue for v in check.violations if v.rule in ("dangling", "speaker_change")} == {3}


# -- files -------------------------------------------------------------------------------


def test_written_files_read_back_exactly_and_tampering_is_caught() -> None:
    fps = frame_rate(29.97)
    words = _words("Fish & chips now. Then more.")
    cues = [_cue(0, 3, ("Fish & chips", "now."), 1, 40), _cue(3, 5, ("Then more.",), 43, 90)]
    events = to_events(cues, fps)
    srt_text, vtt_text = (
        write_srt(events),
        write_vtt(events, header="stub translation", notes=["a --> b"]),
    )
    assert "Fish &amp; chips" in vtt_text and "Fish & chips" in srt_text
    assert vtt_text.startswith("WEBVTT - stub translation\n\nNOTE a -> b\n")
    trips = validate("x.srt", srt_text, "srt", events, fps) + validate(
        "x.vtt", vtt_text, "vtt", events, fps
    )
    assert [t.reader for t in trips] == ["pysubs2", "webvtt-py", "webvtt-py", "pysubs2"]
    assert all(t.ok for t in trips), [t.problems for t in trips]
    checked = check_cues(
        cues, words, Style.build(fps=29.97), EN, set(), reads=[t.times for t in trips]
    )
    assert next(r for r in checked.rows if r.key == "frame_accurate").violations == 0
    # One millisecond off is caught by both readers, as a time and as off-frame.
    tampered = srt_text.replace("00:00:01,334", "00:00:01,335")
    assert tampered != srt_text
    bad = validate("x.srt", tampered, "srt", events, fps)
    assert all(not t.ok for t in bad)
    assert any("not a frame time" in p for p in bad[0].problems)
    written = check_written(read_back(tampered, "srt", "pysubs2"), Style.build(fps=29.97))
    assert next(r for r in written.rows if r.key == "frame_accurate").violations == 1
    # SRT has no escapes: readers take "<now>" for markup, and the read-back says so.
    marked = to_events([_cue(0, 1, ("<now>.",), 1, 40)], fps)
    assert all(not t.ok for t in validate("m.srt", write_srt(marked), "srt", marked, fps))
    assert all(t.ok for t in validate("m.vtt", write_vtt(marked), "vtt", marked, fps))


# -- translation -------------------------------------------------------------------------


def test_retiming_follows_the_source_speech() -> None:
    source = [
        Word("Look", Fraction(1), Fraction(2)),
        Word("there.", Fraction(4), Fraction(5), sentence_end=True),  # 2 s of silence between
    ]
    target = retime_sentence(source, "Schau mal dort hin.")
    assert [w.text for w in target] == ["Schau", "mal", "dort", "hin."]
    assert target[0].start == 1 and target[-1].end == 5 and target[-1].sentence_end
    assert all(a.end <= b.start for a, b in itertools.pairwise(target))
    for word in target:  # nobody starts or ends inside the silence
        assert not (2 < word.start < 4) and not (2 < word.end < 4)
    assert retime_sentence(source, "  ") == []


def test_memory_stub_passes_misses_through_and_counts_them(tmp_path: Path) -> None:
    memory = load_memory(MEMORY_FILE)
    assert memory.stub and "not machine translation" in memory.note
    assert memory.translate("What a lap.", "en", "de") == "Was für eine Runde."
    assert memory.translate("Unknown words.", "en", "de") == "Unknown words."
    assert memory.misses == {"de": ["Unknown words."]} and memory.calls == 2
    bad = tmp_path / "tm.json"
    bad.write_text(json.dumps({"translations": {"de": {"a": ""}}}))
    with pytest.raises(TranslationError, match=r"translations\.de"):
        load_memory(bad)
    with pytest.raises(TranslationError, match="not found"):
        load_memory(tmp_path / "none.json")


@pytest.fixture(scope="module")
def clients() -> dict[str, Any]:
    return {name: offline_client(name) for name in ("translate", "transcribe", "s3")}


def test_aws_translator_calls_translate_text_once_per_sentence(clients: dict[str, Any]) -> None:
    from botocore.stub import Stubber

    translate = clients["translate"]
    with Stubber(translate) as stub:
        params = {"Text": "What a lap.", "SourceLanguageCode": "en", "TargetLanguageCode": "de"}
        answer = {
            "TranslatedText": "Was für eine Runde.",
            "SourceLanguageCode": "en",
            "TargetLanguageCode": "de",
        }
        stub.add_response("translate_text", answer, params)
        stub.add_client_error("translate_text", "ThrottlingException", "slow down")
        translator = AwsTranslator(translate)
        assert translator.translate("What a lap.", "en", "de") == "Was für eine Runde."
        assert translator.translate("What a lap.", "en", "de") == "Was für eine Runde."  # cached
        with pytest.raises(TranslationError, match="ThrottlingException") as info:
            translator.translate("Another one.", "en", "de")
        stub.assert_no_pending_responses()
    # The AWS layer's wording (deepracer.cloud.aws), naming the languages and the sentence.
    assert str(info.value).startswith("TranslateText (en->de, sentence 'Another one.') failed")
    assert "AWS throttled the requests" in str(info.value)
    assert translator.calls == 1 and not translator.stub


# -- AWS transcription -------------------------------------------------------------------


def test_s3_locations() -> None:
    assert parse_s3_location("s3://b/k/x.json") == ("b", "k/x.json")
    assert parse_s3_location("https://s3.us-east-1.amazonaws.com/b/k/x%20y.json") == (
        "b",
        "k/x y.json",
    )
    assert parse_s3_location("https://b.s3.eu-west-1.amazonaws.com/k.srt") == ("b", "k.srt")
    with pytest.raises(DeepRacerError, match="not an S3 location"):
        parse_s3_location("https://example.com/k")
    request = start_request(
        job_name="j",
        media_uri="s3://m/a.mp4",
        language_code="en-US",
        output="s3://out/subs/",
        max_speakers=2,
    )
    assert request["Subtitles"] == {"Formats": ["srt", "vtt"], "OutputStartIndex": 1}
    assert (request["OutputBucketName"], request["OutputKey"]) == ("out", "subs/j.json")
    assert request["Settings"] == {"ShowSpeakerLabels": True, "MaxSpeakerLabels": 2}
    with pytest.raises(DeepRacerError, match=r"aws\.s3"):
        start_request(
            job_name="j", media_uri="s3://m/a", language_code="en-US", output="", max_speakers=0
        )


TRANSCRIBE_SRT = "1\n00:00:00,620 --> 00:00:04,120\nGood evening, and welcome back to the AWS\n\n"


def _body(text: str) -> dict[str, Any]:
    from botocore.response import StreamingBody

    data = text.encode()
    return {"Body": StreamingBody(io.BytesIO(data), len(data))}


def _queue_job(stubs: dict[str, Any], job: str, *, status: str = "COMPLETED") -> None:
    transcribe, s3 = stubs["transcribe"], stubs["s3"]
    transcribe.add_response(
        "start_transcription_job", {"TranscriptionJob": {"TranscriptionJobName": job}}
    )
    transcribe.add_response(
        "get_transcription_job",
        {
            "TranscriptionJob": {
                "TranscriptionJobName": job,
                "TranscriptionJobStatus": "IN_PROGRESS",
            }
        },
    )
    done: dict[str, Any] = {"TranscriptionJobName": job, "TranscriptionJobStatus": status}
    if status == "FAILED":
        done["FailureReason"] = "The media format is not supported."
    else:
        done["Transcript"] = {
            "TranscriptFileUri": f"https://s3.us-east-1.amazonaws.com/out/subs/{job}.json"
        }
        done["Subtitles"] = {
            "Formats": ["srt", "vtt"],
            "OutputStartIndex": 1,
            "SubtitleFileUris": [
                f"https://s3.us-east-1.amazonaws.com/out/subs/{job}.srt",
                f"https://s3.us-east-1.amazonaws.com/out/subs/{job}.vtt",
            ],
        }
    transcribe.add_response(
        "get_transcription_job", {"TranscriptionJob": done}, {"TranscriptionJobName": job}
    )
    if status == "COMPLETED":
        s3.add_response(
            "get_object",
            _body(SAMPLE_FILE.read_text()),
            {"Bucket": "out", "Key": f"subs/{job}.json"},
        )
        s3.add_response(
            "get_object", _body(TRANSCRIBE_SRT), {"Bucket": "out", "Key": f"subs/{job}.srt"}
        )
        s3.add_response(
            "get_object", _body("WEBVTT\n\n"), {"Bucket": "out", "Key": f"subs/{job}.vtt"}
        )


def _request(job: str) -> dict[str, Any]:
    return start_request(
        job_name=job,
        media_uri="s3://m/a.mp4",
        language_code="en-US",
        output="s3://out/subs",
        max_speakers=0,
    )


@pytest.fixture
def stubs(clients: dict[str, Any]) -> Iterator[dict[str, Any]]:
    from botocore.stub import Stubber

    stubbers = {name: Stubber(client) for name, client in clients.items()}
    for stub in stubbers.values():
        stub.activate()
    yield stubbers
    for stub in stubbers.values():
        stub.assert_no_pending_responses()
        stub.deactivate()


def test_transcribe_media_polls_and_fetches(clients: dict[str, Any], stubs: dict[str, Any]) -> None:
    _queue_job(stubs, "job1")
    request = _request("job1")
    slept: list[float] = []
    output = transcribe_media(
        clients["transcribe"],
        clients["s3"],
        request,
        poll_seconds=5,
        timeout_seconds=60,
        sleep=slept.append,
    )
    assert output.polls == 2 and slept == [5]
    assert output.transcript["results"]["items"][0]["alternatives"][0]["content"] == "Good"
    assert output.subtitles["srt"] == TRANSCRIBE_SRT and set(output.subtitles) == {"srt", "vtt"}


def test_transcribe_media_failure_and_timeout(
    clients: dict[str, Any], stubs: dict[str, Any]
) -> None:
    _queue_job(stubs, "job2", status="FAILED")
    request = _request("job2")
    with pytest.raises(DeepRacerError, match="job2 failed: The media format is not supported"):
        transcribe_media(
            clients["transcribe"],
            clients["s3"],
            request,
            poll_seconds=0,
            timeout_seconds=60,
            sleep=lambda _: None,
        )
    stubs["transcribe"].add_response("start_transcription_job", {})
    stubs["transcribe"].add_response(
        "get_transcription_job", {"TranscriptionJob": {"TranscriptionJobStatus": "QUEUED"}}
    )
    times = iter([0.0, 100.0])
    with pytest.raises(DeepRacerError, match=r"still QUEUED after 60 s.*get-transcription-job"):
        transcribe_media(
            clients["transcribe"],
            clients["s3"],
            request,
            poll_seconds=0,
            timeout_seconds=60,
            sleep=lambda _: None,
            clock=lambda: next(times),
        )


def test_transcribe_media_errors_name_the_job_and_the_object(
    clients: dict[str, Any], stubs: dict[str, Any]
) -> None:
    def transcribe(job: str) -> str:
        with pytest.raises(DeepRacerError) as info:
            transcribe_media(
                clients["transcribe"],
                clients["s3"],
                _request(job),
                poll_seconds=0,
                timeout_seconds=60,
                sleep=lambda _: None,
            )
        return str(info.value)

    # The AWS layer's wording (deepracer.cloud.aws), naming the job or the S3 object.
    stubs["transcribe"].add_client_error(
        "start_transcription_job", "ConflictException", "The requested job name already exists."
    )
    assert transcribe("job3") == (
        "StartTranscriptionJob (transcription job job3): The requested job name already"
        " exists. (ConflictException)"
    )
    done = {
        "TranscriptionJobName": "job4",
        "TranscriptionJobStatus": "COMPLETED",
        "Transcript": {"TranscriptFileUri": "s3://out/subs/job4.json"},
    }
    stubs["transcribe"].add_response("start_transcription_job", {})
    stubs["transcribe"].add_response("get_transcription_job", {"TranscriptionJob": done})
    stubs["s3"].add_client_error("get_object", "NoSuchKey", "The specified key does not exist.")
    assert transcribe("job4") == (
        "GetObject (reading s3://out/subs/job4.json): The specified key does not exist. (NoSuchKey)"
    )


# -- the runs ----------------------------------------------------------------------------


def test_the_shipped_experiment_meets_every_rule(run_dir: Path) -> None:
    for name in (
        "subtitles_sample.srt",
        "subtitles_sample.vtt",
        "subtitles_sample.de-x-stub.srt",
        "subtitles_sample.de-x-stub.vtt",
        "subtitles_sample.greedy.srt",
        "violations.json",
        "rules.md",
        "cues.json",
        "translations.json",
        "timeline.png",
        "report.md",
    ):
        assert (run_dir / name).stat().st_size > 0, name
    m = json.loads((run_dir / "metrics.json").read_text())["metrics"]
    assert m["violations"] == 0 and m["orphans"] == 0
    assert m["max_chars_per_line"] <= 42 and m["max_lines"] <= 2 and m["max_cps"] <= 17
    assert m["min_gap_frames"] >= 2 and m["min_duration_s"] >= 5 / 6 and m["max_duration_s"] <= 7
    assert m["frame_exact_fraction"] == 1.0 and m["roundtrip_ok"] == m["roundtrip_checks"] == 12
    assert m["greedy_violations"] > 0 and m["greedy_orphans"] > 0
    assert m["translation_stub"] == 1 and m["de_untranslated_sentences"] == 0
    assert m["de_expansion"] > 1
    violations = json.loads((run_dir / "violations.json").read_text())
    source = violations["tracks"]["subtitles_sample.srt"]
    assert source["violations_total"] == 0 and source["violations"] == []
    assert len(source["rules"]) == 14
    report = (run_dir / "report.md").read_text()
    assert "STUB, not machine translation" in report and "| characters per line | <= 42 |" in report
    vtt = (run_dir / "subtitles_sample.de-x-stub.vtt").read_text()
    assert vtt.startswith("WEBVTT - stub translation") and "NOTE STUB TRANSLATION" in vtt
    translations = json.loads((run_dir / "translations.json").read_text())
    assert translations["stub"] and len(translations["languages"]["de"]) == 15


def test_the_run_is_deterministic_and_29_97_stays_on_frames(run_dir: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    _run(again)
    for name in (
        "subtitles_sample.srt",
        "subtitles_sample.de-x-stub.vtt",
        "violations.json",
        "cues.json",
    ):
        assert (again / name).read_bytes() == (run_dir / name).read_bytes(), name
    ntsc = _run(tmp_path / "ntsc", "subtitles.fps=29.97", "subtitles.translator=passthrough")
    assert ntsc["violations"] == 0 and ntsc["frame_exact_fraction"] == 1.0
    fps = frame_rate(29.97)
    for cue in json.loads((tmp_path / "ntsc" / "cues.json").read_text())["subtitles_sample.srt"]:
        assert cue["start_ms"] == frame_to_ms(cue["start_frame"], fps)
        assert ms_to_frame(cue["end_ms"], fps) == cue["end_frame"]
    # Pass-through: the English words under a stub label, re-timed by sentence.
    cues = json.loads((tmp_path / "ntsc" / "cues.json").read_text())
    text = [" ".join(" ".join(c["lines"]) for c in cues[name]) for name in cues]
    assert text[0] == text[2] and "subtitles_sample.de-x-stub.srt" in cues


def test_backend_aws_transcribes_translates_and_checks_transcribes_srt(
    aws_env: None,  # noqa: F811
    clients: dict[str, Any],
    stubs: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _queue_job(stubs, "race")
    for sentence in split_sentences(list(read_transcript(SAMPLE_FILE).words)):
        codes = {"SourceLanguageCode": "en", "TargetLanguageCode": "de"}
        answer = {"TranslatedText": "Übersetzt: " + sentence.text, **codes}
        stubs["translate"].add_response("translate_text", answer, {"Text": sentence.text, **codes})
    monkeypatch.setattr(plugins.RunContext, "client", lambda self, service: clients[service])
    out = tmp_path / "aws"
    args = [
        "run",
        str(EXPERIMENT),
        "--out",
        str(out),
        "--set",
        "backend=aws",
        "--set",
        "aws.s3=s3://out/subs",
        "--set",
        "subtitles.media_uri=s3://m/race.mp4",
        "--set",
        "subtitles.job_name=race",
        "--set",
        "subtitles.poll_seconds=0",
    ]
    assert cli(args) == 0
    m = json.loads((out / "metrics.json").read_text())["metrics"]
    assert m["translate_calls"] == 15 and m["translation_stub"] == 0 and m["violations"] == 0
    # Transcribe's own cue starts at 620 ms, not a frame time at 25 fps.
    assert m["transcribe_cues"] == 1 and m["transcribe_violations"] == 1
    assert (out / "race.srt").is_file() and (out / "race.de.srt").is_file()
    assert (out / "transcribe.srt").read_text() == TRANSCRIBE_SRT
    assert "Übersetzt:" in (out / "race.de.vtt").read_text()
    assert "Transcribe's own subtitles" in (out / "report.md").read_text()


def test_bad_input_is_one_clear_error_or_a_reported_repair(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = json.loads(SAMPLE_FILE.read_text())
    items = document["results"]["items"]
    overlap = f"{float(items[1]['end_time']) - 0.05:.3f}"  # "and" starts inside "evening"
    items[3]["start_time"] = overlap
    bad = tmp_path / "overlap.json"
    bad.write_text(json.dumps(document))

    def run(out: str, *sets: str) -> int:
        args = ["run", str(EXPERIMENT), "--out", str(tmp_path / out)]
        return cli(
            [
                *args,
                "--set",
                f"subtitles.transcript={bad}",
                *itertools.chain(*(("--set", s) for s in sets)),
            ]
        )

    assert run("r") == 2
    err = capsys.readouterr().err
    assert f"results.items[3] (id 3, 'and') starts at {overlap} s, before results.items[1]" in err
    assert "subtitles.overlaps: clip" in err and "Traceback" not in err
    assert not (tmp_path / "r" / "subtitles_sample.srt").exists()
    assert run("clipped", "subtitles.overlaps=clip", "subtitles.target_languages=[]") == 0
    metrics = json.loads((tmp_path / "clipped" / "metrics.json").read_text())["metrics"]
    assert metrics["transcript_repairs"] == 1 and metrics["violations"] == 0
    report = (tmp_path / "clipped" / "report.md").read_text()
    assert "results.items[1] ('evening,'): end_time" in report and f"-> {overlap}" in report
    assert run("r3", "subtitles.translator=aws") == 2
    assert "needs backend: aws" in capsys.readouterr().err
    assert not (tmp_path / "r3" / "subtitles_sample.srt").exists()


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("fps", 26, "one of 23.976, 24, 25, 29.97"),
        ("min_duration", "soon", "a fraction such as 5/6"),
        ("max_lines", 3, "from 1 to 2"),
        ("target_languages", ["de", "German"], "'German'"),
        ("names", ["Sofia"], "two or more words"),
        ("translator", "google", "one of 'auto'"),
        ("media_uri", "https://x/a.mp4", "s3://"),
        ("weights", {"cue": -1}, "weights.cue"),
    ],
)
def test_config_errors_name_the_field(key: str, value: Any, words: str) -> None:
    data = {"kind": "subtitles", "subtitles": {key: value}}
    with pytest.raises(ConfigError, match=f"subtitles.{key}") as info:
        plugins.experiment_from_data(data, source="x.yaml")
    assert words in str(info.value)


def test_the_plugin_and_its_defaults() -> None:
    plugin = plugins.get_plugin("subtitles")
    assert plugin.config is SubtitlesConfig and plugin.extra == "subtitles"
    assert transcript_path(SubtitlesConfig()).name == "subtitles_sample.json"
    assert transcript_path(SubtitlesConfig()).is_file()
    experiment, _ = plugins.load_plugin_experiment(EXPERIMENT)
    assert experiment.section == SubtitlesConfig()  # the YAML restates the defaults
    assert MemoryTranslator(memory={}).translate("a", "en", "de") == "a"
