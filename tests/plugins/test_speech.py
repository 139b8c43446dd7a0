"""The speech plugin: SSML validation, splitting, espeak-ng audio, speech marks, Polly,
and `deepracer evaluate --announce`."""

from __future__ import annotations

import io
import json
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

pytest.importorskip("espeakng_loader")

from deepracer.cli import main as cli
from deepracer.config.loader import from_mapping
from deepracer.errors import ConfigError, DeepRacerError
from deepracer.plugins import AwsConfig, RunContext
from deepracer.plugins.speech import SpeechConfig, libespeak
from deepracer.plugins.speech.announce import announce_evaluation, race_summary
from deepracer.plugins.speech.audio import check_audio, read_wav, wav_bytes
from deepracer.plugins.speech.espeak import synthesize_chunk, to_local_ssml
from deepracer.plugins.speech.experiment import run as run_speech
from deepracer.plugins.speech.marks import parse_marks
from deepracer.plugins.speech.polly import check_polly_voice, object_of_uri, synthesize_polly
from deepracer.plugins.speech.split import SYNC_LIMITS, split_ssml
from deepracer.plugins.speech.ssml import (
    SsmlError,
    build_ssml,
    decode_text,
    tokenize,
    validate_ssml,
)
from tests.cloud.conftest import aws_env, mock_aws  # noqa: F401
from tests.plugins.helpers import offline, read_metrics

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENT = ROOT / "experiments" / "speech.yaml"
REGION = "us-east-1"

SENTENCE = 'The car finished the lap <break time="500ms"/> and it was fast.'


def doc(body: str, *, domain: bool = True) -> str:
    inner = f'<amazon:domain name="conversational">{body}</amazon:domain>' if domain else body
    return f"<speak>{inner}</speak>"


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The shipped experiment, run once with every socket refused."""
    out = tmp_path_factory.mktemp("speech") / "run"
    with offline():
        assert cli(["run", str(EXPERIMENT), "--out", str(out)]) == 0
    yield out


# -- SSML --------------------------------------------------------------------------------


def test_plain_text_becomes_valid_conversational_ssml() -> None:
    ssml = build_ssml("Fish & chips <3 you.\n\nSecond paragraph.")
    assert '<amazon:domain name="conversational">' in ssml
    assert "&amp; chips &lt;3" in ssml and ssml.count("<p>") == 2
    document = validate_ssml(ssml)
    assert document.has_domain and document.words == 7
    assert "<amazon:domain" not in build_ssml("Hi.", style="neutral")


def test_billed_characters_exclude_tags_and_count_entities_once() -> None:
    document = validate_ssml(doc('Hi <break time="1s"/>there &amp; <sub alias="x">y</sub>.'))
    assert document.billed_characters == len("Hi there & y.")
    assert document.total_characters == len(document.text)
    assert document.break_seconds == 1.0


@pytest.mark.parametrize(
    ("ssml", "expected"),
    [
        (
            "<speak><amazon:domain name='conversational'>Hi</speak>",
            "line 1, column 49: not well-formed XML (mismatched tag)",
        ),
        (doc("Hi\n<emphasis>there</emphasis>"), "line 2, column 1: <emphasis> is not available"),
        (doc("Hi <whisper>there</whisper>"), "unknown tag <whisper>"),
        (doc("Hi <brake time='1s'/>"), "Did you mean 'break'?"),
        (doc('Hi <break time="500"/>.'), "<break time='500'>: expected milliseconds"),
        (doc('Hi <break time="11s"/>.'), "longest break is 10s"),
        (doc('Hi <break strength="huge"/>.'), "<break strength='huge'>"),
        (doc("Hi <break>x</break>."), "<break> must be empty"),
        (doc('<prosody pitch="+5%">Hi</prosody>'), "<prosody pitch> is not supported"),
        (doc('<prosody rate="300%">Hi</prosody>'), "<prosody rate='300%'>"),
        (doc('<say-as interpret-as="cardinals">3</say-as>'), "Did you mean 'cardinal'?"),
        (doc("<sub>WWW</sub>"), "<sub> needs the attribute 'alias'"),
        (doc('<p color="red">Hi</p>'), "<p> has no attribute 'color'"),
        (
            doc('<amazon:effect name="whispered">Hi</amazon:effect>'),
            "not available with the neural",
        ),
        ('<speak><amazon:domain name="news">Hi</amazon:domain></speak>', 'name="news">'),
        ("<speak>Hi there.</speak>", 'no <amazon:domain name="conversational">'),
        ("<voice>Hi</voice>", "the root element is <voice>"),
        (doc("<p>Hi <p>there</p></p>"), "<p> inside <p>"),
        (doc("   "), "nothing to speak"),
        ('<!DOCTYPE speak [<!ENTITY a "b">]><speak>&a;</speak>', "DOCTYPE is not allowed"),
    ],
)
def test_invalid_ssml_gets_one_clear_error(ssml: str, expected: str) -> None:
    with pytest.raises(SsmlError, match=re.escape(expected)) as error:
        validate_ssml(ssml, source="in.ssml")
    assert str(error.value).startswith("in.ssml: ")


def test_the_error_names_the_line_of_the_bad_tag() -> None:
    ssml = doc("\nFirst line.\nSecond line.\n<break time='fast'/>\n")
    with pytest.raises(SsmlError, match=r"in\.ssml: line 4, column 1: <break time='fast'>"):
        validate_ssml(ssml, source="in.ssml")


def test_other_voices_and_engines_are_refused() -> None:
    with pytest.raises(SsmlError, match=r"voice 'Salli'.*Joanna and Matthew only"):
        validate_ssml(doc("Hi"), voice="Salli")
    with pytest.raises(SsmlError, match=r"voice 'joanna'.*Did you mean 'Joanna'"):
        validate_ssml(doc("Hi"), voice="joanna")
    with pytest.raises(SsmlError, match=r"engine 'standard' \(a Polly engine\).*neural"):
        validate_ssml(doc("Hi"), engine="standard")
    with pytest.raises(ConfigError, match=r"speech\.voice: expected Joanna or Matthew"):
        from_mapping(SpeechConfig, {"voice": "Ivy"}, source="x.yaml", prefix="speech")
    with pytest.raises(ConfigError, match=r"speech\.engine: expected neural"):
        from_mapping(SpeechConfig, {"engine": "generative"}, source="x.yaml", prefix="speech")
    neutral = validate_ssml("<speak>Hi.</speak>", style="neutral")
    assert not neutral.has_domain
    with pytest.raises(SsmlError, match="style neutral"):
        validate_ssml(doc("Hi"), style="neutral")


def _context(tmp_path: Path, backend: str = "local", **aws: Any) -> RunContext:
    return RunContext(tmp_path, 0, backend, AwsConfig(**aws), echo=lambda line: None)


def test_invalid_ssml_is_refused_before_any_synthesis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_synthesis(*_: Any, **__: Any) -> Any:
        raise AssertionError("synthesized invalid SSML")

    monkeypatch.setattr(libespeak, "synthesize", no_synthesis)
    monkeypatch.setattr(subprocess, "run", no_synthesis)
    bad = from_mapping(SpeechConfig, {"ssml": doc("Hi <break time='5 s'/>")})
    with pytest.raises(SsmlError, match="break time='5 s'"):
        run_speech(bad, _context(tmp_path))
    with pytest.raises(DeepRacerError, match=r"speech\.mp3: MP3 comes from Polly"):
        run_speech(from_mapping(SpeechConfig, {"mp3": True}), _context(tmp_path))
    assert not (tmp_path / "speech.wav").exists()


# -- splitting ---------------------------------------------------------------------------


def _long_document(sentences: int = 120) -> str:
    body = []
    for i in range(sentences):
        if i % 10 == 3:
            body.append(f'<prosody rate="slow">Slow sentence {i}, said with care.</prosody> ')
        elif i % 10 == 7:
            body.append(f'<s>Number <say-as interpret-as="cardinal">{i}</say-as> here</s> ')
        else:
            body.append(f"Sentence {i} talks about lap times &amp; racing lines! ")
    return doc("<p>" + "".join(body) + "</p>")


def _text_of(ssml: str) -> str:
    return "".join(decode_text(t.raw) for t in tokenize(ssml) if t.kind == "text")


def test_long_text_splits_at_sentences_within_the_limits() -> None:
    document = validate_ssml(_long_document())
    chunks = split_ssml(document, max_billed=500, max_total=900)
    assert len(chunks) > 5
    for chunk in chunks:
        # Each chunk is a valid document of its own, within both limits.
        again = validate_ssml(chunk.ssml)
        assert again.billed_characters == chunk.billed <= 500
        assert len(chunk.ssml) <= 900 and chunk.forced == 0
        # Cut at a sentence end: the chunk's text ends with one (or a closed <s>).
        assert re.search(r"([.!?]\s*|here)$", _text_of(chunk.ssml)), chunk.ssml[-80:]
        # Verbatim text: every mapped piece of the chunk is the same bytes in the source.
        source, mine = document.text.encode(), chunk.ssml.encode()
        for at, src, n in chunk.segments:
            assert mine[at : at + n] == source[src : src + n]
    # Nothing lost or duplicated.
    assert "".join(_text_of(c.ssml) for c in chunks) == _text_of(document.text)
    assert sum(c.billed for c in chunks) <= document.billed_characters


def test_default_limits_are_pollys_synchronous_ones() -> None:
    document = validate_ssml(_long_document(300))
    assert document.billed_characters > 3 * SYNC_LIMITS[0]
    chunks = split_ssml(document)
    assert len(chunks) >= 4
    assert all(c.billed <= 3000 and len(c.ssml) <= 6000 for c in chunks)
    assert len(split_ssml(document, max_billed=100_000, max_total=200_000)) == 1


def test_a_sentence_over_the_limit_is_cut_between_words_and_a_tag_never() -> None:
    words = " ".join(f"word{i}" for i in range(60))
    document = validate_ssml(doc(f"{words}. Short one."))
    chunks = split_ssml(document, max_billed=100, max_total=400)
    assert len(chunks) > 3 and chunks[0].forced == 1
    assert all(validate_ssml(c.ssml).billed_characters <= 100 for c in chunks)
    huge = validate_ssml(doc(f'Hi. <sub alias="x">{"y" * 200}</sub>.'))
    with pytest.raises(SsmlError, match=r"line 1: one element holds 200 billed characters"):
        split_ssml(huge, max_billed=100, max_total=400)


# -- the local engine --------------------------------------------------------------------


def _local(ssml: str, **kwargs: Any) -> Any:
    (chunk,) = split_ssml(validate_ssml(ssml))
    return synthesize_chunk(chunk, kwargs.pop("voice", "Joanna"), **kwargs)


def test_espeak_gets_polly_ssml_without_the_amazon_tags() -> None:
    ssml = doc('<p>Hi <prosody rate="slow">you</prosody>.\n<w role="amazon:VB">read</w></p>')
    local = to_local_ssml(ssml)
    assert "amazon:" not in local and "<w" not in local and "\n" not in local
    assert '<prosody rate="slow">you</prosody>' in local and "<p>" in local
    assert len(local) + len('<amazon:domain name="conversational">') + len(
        '<w role="amazon:VB"></w></amazon:domain>'
    ) == len(ssml)


def test_same_input_gives_the_same_bytes() -> None:
    ssml = doc("Same words, same audio. Every time.")
    first = _local(ssml).audio.samples.tobytes()
    _local(doc("Something else in between."), voice="Matthew")
    time.sleep(1.05)  # espeak-ng seeds its noise from the clock unless told otherwise
    assert _local(ssml).audio.samples.tobytes() == first
    assert _local(ssml, seed=1).audio.samples.tobytes() != first


def test_a_break_adds_its_time_exactly_and_espeak_alone_a_little_less() -> None:
    with_break, without = doc(SENTENCE), doc(SENTENCE.replace('<break time="500ms"/> ', ""))
    exact = _local(with_break).audio.seconds - _local(without).audio.seconds
    native = (
        _local(with_break, breaks="espeak").audio.seconds
        - _local(without, breaks="espeak").audio.seconds
    )
    assert exact == pytest.approx(0.5, abs=0.01)
    assert 0.35 <= native <= 0.7  # between words espeak pauses about 0.4 s


def test_word_marks_point_at_the_words_in_the_source() -> None:
    ssml = doc(
        'Fish &amp; chips, <break time="300ms"/>dear Zoë. <sub alias="World Wide Web">WWW</sub>!'
    )
    spoken = _local(ssml)
    source = ssml.encode()
    values = [m.value for m in spoken.words]
    assert values[:5] == ["Fish", "&", "chips", "dear", "Zoë"]
    for mark in spoken.words:
        assert decode_text(source[mark.start : mark.end].decode()) == mark.value
    times = [m.time for m in spoken.words]
    assert times == sorted(times) and times[-1] < spoken.audio.seconds * 1000
    # The inserted silence comes before "dear".
    assert times[3] - times[2] >= 300


def test_the_engine_is_safe_from_several_threads() -> None:
    results: list[int] = []

    def speak(text: str) -> None:
        raw = libespeak.synthesize(f"<speak>{text}</speak>", "en-us", 175)
        results.append(len(raw.pcm))

    threads = [threading.Thread(target=speak, args=(f"Thread {i} talks.",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and min(results) > 10_000


# -- the shipped experiment --------------------------------------------------------------


def test_the_shipped_experiment_writes_plausible_audio_and_marks(shipped: Path) -> None:
    for name in ("speech.wav", "speech_marks.jsonl", "speech.ssml", "waveform.png", "report.md"):
        assert (shipped / name).stat().st_size > 0, name
    data = (shipped / "speech.wav").read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    audio = read_wav(data)
    m = read_metrics(shipped)
    assert audio.rate == m["sample_rate"] == 22050
    assert m["duration_s"] == pytest.approx(audio.seconds, abs=0.01)
    assert 120 <= m["words_per_minute"] <= 220 and m["rms"] > 0.02
    assert m["audio_ok"] == 1 and m["checks_passed"] == m["checks_total"] == 5
    assert 0.35 <= m["break_delta_s"] <= 0.7 and m["break_requested_s"] == 0.5
    assert m["chunks"] == 1 and m["characters_billed"] < m["characters_total"]
    marks = parse_marks((shipped / "speech_marks.jsonl").read_text())
    source = (shipped / "speech.ssml").read_bytes()
    assert {mk.type for mk in marks} == {"word", "sentence"}
    assert sum(mk.type == "sentence" for mk in marks) == m["sentence_marks"] == 6
    for mark in marks:
        if mark.type == "word":
            assert decode_text(source[mark.start : mark.end].decode()) == mark.value
    report = (shipped / "report.md").read_text()
    assert "no conversational style" in report and "no offline measure" in report


def test_a_split_run_writes_chunks_that_join_up(tmp_path: Path) -> None:
    out = tmp_path / "split"
    argv = ["run", str(EXPERIMENT), "--out", str(out), "--set", "speech.max_billed_characters=90"]
    assert (
        cli([*argv, "--set", "speech.measure_breaks=false", "--set", "speech.voice=Matthew"]) == 0
    )
    m = read_metrics(out)
    assert m["chunks"] >= 3 and m["max_chunk_billed_characters"] <= 90
    parts = sorted(out.glob("speech_chunk*.wav"))
    assert len(parts) == m["chunks"] == len(sorted(out.glob("speech_chunk*.ssml")))
    total = sum(read_wav(p.read_bytes()).seconds for p in parts)
    assert total == pytest.approx(m["duration_s"], abs=0.01)
    times = [mk.time for mk in parse_marks((out / "speech_marks.jsonl").read_text())]
    assert times == sorted(times) and times[-1] < m["duration_s"] * 1000
    assert m["audio_ok"] == 1


def test_structural_checks_fail_on_silence_and_a_wrong_rate() -> None:
    from deepracer.plugins.speech.audio import silence

    checks = check_audio(
        wav_bytes(silence(2.0, 16000)),
        rate=22050,
        words=5,
        pause_s=0.0,
        wpm_band=(100, 260),
        rms_floor=0.01,
    )
    failed = {c.name for c in checks if not c.passed}
    assert failed == {"sample rate", "not silence"}
    assert not check_audio(b"ID3junk", rate=1, words=1, pause_s=0, wpm_band=(1, 2), rms_floor=0.1)[
        0
    ].passed


# -- Polly -------------------------------------------------------------------------------


def test_polly_sync_backend_through_moto(mock_aws: None, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "aws"
    argv = ["run", str(EXPERIMENT), "--out", str(out), "--set", "backend=aws"]
    sets = ["speech.mark_types=[]", "speech.measure_breaks=false", f"aws.region={REGION}"]
    assert cli([*argv, *[a for s in sets for a in ("--set", s)]]) == 0
    m = read_metrics(out)
    assert m["polly_requests"] == 1 and m["sample_rate"] == 16000
    assert (out / "speech.wav").read_bytes()[:4] == b"RIFF"
    # moto answers with a few canned bytes: the checks say so instead of passing.
    assert m["audio_ok"] == 0


def test_polly_lists_the_voice_with_the_neural_engine(mock_aws: None) -> None:  # noqa: F811
    import boto3

    polly = boto3.client("polly", region_name=REGION)
    check_polly_voice(polly, "Joanna", "neural")
    with pytest.raises(DeepRacerError, match="no en-US voice 'Nobody'"):
        check_polly_voice(polly, "Nobody", "neural")


def _stream(data: bytes) -> Any:
    from botocore.response import StreamingBody

    return StreamingBody(io.BytesIO(data), len(data))


def _pcm(seconds: float, rate: int = 16000) -> bytes:
    import numpy as np

    t = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * np.pi * 220 * t) * 8000).astype("<i2").tobytes()


def _marks_for(chunk_ssml: str, words: list[str]) -> bytes:
    """Polly-like marks: byte offsets into the chunk's SSML, 100 ms apart."""
    raw, lines, at = chunk_ssml.encode(), [], 0
    for i, word in enumerate(words):
        start = raw.index(word.encode(), at)
        at = start + len(word.encode())
        lines.append(
            json.dumps({"time": 100 * i, "type": "word", "start": start, "end": at, "value": word})
        )
    return ("\n".join(lines) + "\n").encode()


def test_polly_sync_marks_are_shifted_and_mapped_to_the_document() -> None:
    import boto3
    from botocore.stub import Stubber

    document = validate_ssml(doc("First sentence here. Second one there."))
    chunks = split_ssml(document, max_billed=25, max_total=200)
    assert len(chunks) == 2
    polly = boto3.client(
        "polly", region_name=REGION, aws_access_key_id="a", aws_secret_access_key="b"
    )
    with Stubber(polly) as stub:
        for chunk, words, seconds in zip(
            chunks, (["First", "here"], ["Second", "there"]), (1.0, 0.5), strict=True
        ):
            expected = {"Text": chunk.ssml, "VoiceId": "Matthew", "OutputFormat": "pcm"}
            stub.add_response(
                "synthesize_speech",
                {"AudioStream": _stream(_pcm(seconds)), "RequestCharacters": chunk.billed},
                {**expected, "Engine": "neural", "TextType": "ssml", "SampleRate": "16000"},
            )
            stub.add_response(
                "synthesize_speech",
                {"AudioStream": _stream(_marks_for(chunk.ssml, words)), "RequestCharacters": 0},
            )
        spoken = synthesize_polly(polly, chunks, voice="Matthew", mark_types=("word",))
        stub.assert_no_pending_responses()
    assert [round(a.seconds, 3) for a in spoken.chunks] == [1.0, 0.5]
    assert spoken.request_characters == document.billed_characters
    source = document.text.encode()
    assert [(m.time, m.value) for m in spoken.marks] == [
        (0, "First"),
        (100, "here"),
        (1000, "Second"),
        (1100, "there"),
    ]
    for mark in spoken.marks:
        assert source[mark.start : mark.end].decode() == mark.value


def test_polly_task_backend_polls_and_reads_s3(mock_aws: None) -> None:  # noqa: F811
    import boto3
    from botocore.stub import Stubber

    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="speech-out")
    document = validate_ssml(doc("Hello from a task."))
    (chunk,) = split_ssml(document)
    polly = boto3.client("polly", region_name=REGION)
    outputs = {"pcm": _pcm(0.75), "mp3": b"ID3fake-mp3", "json": _marks_for(chunk.ssml, ["Hello"])}
    sleeps: list[float] = []
    with Stubber(polly) as stub:
        for n, (fmt, body) in enumerate(outputs.items()):
            key = f"runs/chunk001-{fmt}.task{n}.{fmt}"
            s3.put_object(Bucket="speech-out", Key=key, Body=body)
            task = {"TaskId": f"task{n}", "TaskStatus": "scheduled"}
            stub.add_response("start_speech_synthesis_task", {"SynthesisTask": task})
            stub.add_response(
                "get_speech_synthesis_task",
                {"SynthesisTask": {**task, "TaskStatus": "inProgress"}},
                {"TaskId": f"task{n}"},
            )
            uri = f"https://s3.{REGION}.amazonaws.com/speech-out/{key}"
            done = {**task, "TaskStatus": "completed", "OutputUri": uri, "RequestCharacters": 18}
            stub.add_response(
                "get_speech_synthesis_task", {"SynthesisTask": done}, {"TaskId": f"task{n}"}
            )
        spoken = synthesize_polly(
            polly,
            [chunk],
            voice="Joanna",
            mp3=True,
            mark_types=("word",),
            mode="task",
            s3_client=s3,
            s3_uri="s3://speech-out/runs",
            poll_seconds=0.5,
            sleep=sleeps.append,
        )
        stub.assert_no_pending_responses()
    assert spoken.chunks[0].seconds == pytest.approx(0.75)
    assert spoken.mp3 == [b"ID3fake-mp3"] and spoken.requests == 3
    assert sleeps == [0.5] * 6 and spoken.request_characters == 54
    (mark,) = spoken.marks
    assert document.text.encode()[mark.start : mark.end] == b"Hello"


def test_a_failed_task_and_bad_marks_are_one_clear_error(mock_aws: None) -> None:  # noqa: F811
    import boto3
    from botocore.stub import Stubber

    (chunk,) = split_ssml(validate_ssml(doc("Hi.")))
    polly = boto3.client("polly", region_name=REGION)
    with Stubber(polly) as stub:
        failed = {"TaskId": "t1", "TaskStatus": "failed", "TaskStatusReason": "Invalid SSML"}
        stub.add_response("start_speech_synthesis_task", {"SynthesisTask": failed})
        with pytest.raises(DeepRacerError, match=r"task t1 \(chunk 1\) failed: Invalid SSML"):
            synthesize_polly(
                polly, [chunk], voice="Joanna", mode="task", s3_client=object(), s3_uri="s3://b/p"
            )
    with pytest.raises(DeepRacerError, match=r"marks: line 2: missing 'time'"):
        parse_marks('{"time": 1, "type": "word", "start": 0, "end": 1, "value": "a"}\n{"x": 1}')
    with pytest.raises(DeepRacerError, match=r"aws\.s3: expected s3://"):
        synthesize_polly(
            polly, [chunk], voice="Joanna", mode="task", s3_client=object(), s3_uri="b"
        )
    assert object_of_uri("https://b.s3.amazonaws.com/p/x.mp3", "b") == "p/x.mp3"


# -- deepracer evaluate --announce -------------------------------------------------------


def test_race_summary_says_best_lap_laps_and_race_line() -> None:
    lap = SimpleNamespace(status="lap_complete", lap_time=7.5, progress=100.0, laps=())
    crash = SimpleNamespace(status="off_track", lap_time=3.0, progress=40.0, laps=())
    text = race_summary([lap, crash], {"laps": [{"lap_time": 7.5, "ratio_to_raceline": 1.31}]})
    assert "1 of 2 trials completed the lap" in text
    assert "best lap took 7.50 seconds" in text and "1.31 times the race line" in text
    assert "best progress was 40 percent" in race_summary([crash])
    timed = SimpleNamespace(laps=(lap, lap), lap_times=(7.5, 7.2), status="time_up", progress=30.0)
    assert "2 laps completed" in race_summary([timed]) and "7.20" in race_summary([timed])


def test_announce_reads_the_race_line_comparison(tmp_path: Path) -> None:
    (tmp_path / "raceline_comparison.json").write_text(
        json.dumps({"laps": [{"lap_time": 8.0, "ratio_to_raceline": 1.4}]})
    )
    lap = SimpleNamespace(status="lap_complete", lap_time=8.0, progress=100.0, laps=())
    line = announce_evaluation([lap], tmp_path, tmp_path / "summary.wav")
    assert "1.40 times the race line" in line
    assert read_wav((tmp_path / "summary.wav").read_bytes()).seconds > 3


def test_evaluate_announces_a_spoken_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("stable_baselines3")
    from tests.training.test_trainer import tiny_run

    run = tmp_path / "run"
    tiny_run(run)
    wav = tmp_path / "summary.wav"
    argv = ["evaluate", str(run), "--trials", "1", "--max-steps", "200", "--no-raceline"]
    assert cli([*argv, "--out", str(tmp_path / "eval"), "--announce", str(wav)]) == 0
    assert "announced in" in capsys.readouterr().out
    audio = read_wav(wav.read_bytes())
    assert audio.rate == 22050 and 2 < audio.seconds < 30 and audio.rms > 0.02
