"""download_run: a run stored under a prefix, and the keys that must never be written."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from deepracer.cloud.artifacts import download_run
from deepracer.cloud.storage import S3Storage, Storage, StorageError
from deepracer.errors import DeepRacerError

BUCKET = "deepracer-artifacts"
RUN_FILES = {"experiment.yaml": b"name: x\n", "model.zip": b"PK\x05\x06" + b"\0" * 18}


@pytest.fixture
def s3(mock_aws: None) -> S3Storage:
    storage = S3Storage(BUCKET, region="us-east-1")
    storage.client.create_bucket(Bucket=BUCKET)
    return storage


def _tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_a_run_under_a_prefix_arrives_whole(storage: Storage, tmp_path: Path) -> None:
    for name, data in {**RUN_FILES, "checkpoints/latest.json": b"{}"}.items():
        storage.put_bytes(f"runs/mine/{name}", data)
    storage.put_bytes("runs/mine-other/model.zip", b"not this run")
    run = download_run(storage, "runs/mine", tmp_path / "local" / "run")
    found = sorted(str(p.relative_to(run)) for p in run.rglob("*") if p.is_file())
    assert found == ["checkpoints/latest.json", "experiment.yaml", "model.zip"]
    assert (run / "model.zip").read_bytes() == RUN_FILES["model.zip"]
    assert [p.name for p in run.parent.iterdir()] == ["run"]  # no staging folder left


@pytest.mark.parametrize("key", ["run/../../x.txt", "run//tmp/abs.txt", "run/a/./b.txt"])
def test_keys_that_escape_the_run_directory_stop_the_download(
    s3: S3Storage, tmp_path: Path, key: str
) -> None:
    for name, data in RUN_FILES.items():
        s3.put_bytes(f"run/{name}", data)
    s3.client.put_object(Bucket=BUCKET, Key=key, Body=b"planted")
    target = tmp_path / "a" / "b" / "run"
    with pytest.raises(StorageError, match=rf"{key.replace('.', '[.]')}: refusing .* {target}$"):
        download_run(s3, "run", target)
    assert not target.exists()
    assert list(target.parent.iterdir()) == []  # the staging folder is gone too
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written == []
    assert not Path("/tmp/abs.txt").exists()


def test_nothing_stored_several_jobs_and_a_corrupt_archive(s3: S3Storage, tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="nothing stored there"):
        download_run(s3, "empty", tmp_path / "r1")
    for job in ("job-a", "job-b"):
        s3.put_bytes(f"out/{job}/output/model.tar.gz", _tarball(RUN_FILES))
    with pytest.raises(DeepRacerError, match=r"several jobs \(job-a, job-b\)"):
        download_run(s3, "out", tmp_path / "r2")
    s3.put_bytes("bad/model.tar.gz", b"\x1f\x8b not gzip at all")
    with pytest.raises(DeepRacerError, match="not a readable model archive"):
        download_run(s3, "bad/model.tar.gz", tmp_path / "r3")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_the_archive_filter_refuses_links_out_of_the_run(s3: S3Storage, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in RUN_FILES.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("escape")
        link.type = tarfile.SYMTYPE
        link.linkname = str(tmp_path / "outside")
        tar.addfile(link)
    s3.put_bytes("job/output/model.tar.gz", buffer.getvalue())
    with pytest.raises(DeepRacerError, match="not a readable model archive"):
        download_run(s3, "job/output/model.tar.gz", tmp_path / "run")
    assert not (tmp_path / "run").exists()
