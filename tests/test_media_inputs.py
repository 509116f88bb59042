"""Binary inputs: whatever form the bytes come in (bytes, bytearray, memoryview, a path, a file
object, a data: URL), the request carries the same body and the same MIME decision — the
content's magic bytes first, then the file name, then nothing."""

from __future__ import annotations

import base64
import io
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inferwire._media import as_content
from inferwire.sansio._config import build_config
from inferwire.sansio._content import MAX_INPUT_SIZE, Blob, mime_from_name, sniff_mime
from inferwire.sansio._errors import UsageError
from inferwire.sansio._hf_tasks import task_flow

from flowscript import Conversation

HF = build_config(token="hf_test", provider="hf-inference")
SETTINGS = settings(max_examples=80, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

MAGIC = [b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"fLaC", b"OggS", b"ID3",
         b"RIFF\x00\x00\x00\x00WAVE", b"%PDF-", b"\x00\x00\x00\x18ftypisom"]
NAMES = st.sampled_from(["clip.wav", "photo.JPG", "scan.png", "noext", "a.b.flac", "x.unknown",
                         "movie.mp4", "doc.pdf"])
payloads = st.builds(lambda magic, rest: magic + rest, st.sampled_from(MAGIC),
                     st.binary(max_size=300))


def _request(content: object) -> tuple[bytes | None, str | None]:
    """The body and Content-Type image_classification sends for `content` (core form)."""
    conversation = Conversation(task_flow(HF, "image_classification", content, model="m",
                                          params={}))
    request = conversation.expect_send()
    return request.body, dict(request.headers).get("content-type")


@SETTINGS
@given(payloads, NAMES)
def test_every_form_of_the_same_bytes_sends_the_same_request(data: bytes, name: str) -> None:
    anonymous = [data, bytearray(data), memoryview(data), io.BytesIO(data)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        with path.open("rb") as opened:
            named = [str(path), path, opened]
            requests_anonymous = {_request(as_content(v, "image")) for v in anonymous}
            requests_named = {_request(as_content(v, "image")) for v in named}
    # one request per kind of information: without a name, and with one
    assert len(requests_anonymous) == 1
    assert len(requests_named) == 1
    (body, mime), = requests_anonymous
    (named_body, named_mime), = requests_named
    assert body == named_body == data
    sniffed = sniff_mime(data)
    assert mime == sniffed  # nothing else to go on
    assert named_mime == (sniffed or mime_from_name(name))  # the content wins over the name


@SETTINGS
@given(payloads, st.sampled_from([None, "image/png", "audio/wav", "application/octet-stream"]))
def test_a_data_url_sends_its_bytes_and_its_type_when_the_content_says_nothing(
        data: bytes, declared: str | None) -> None:
    url = f"data:{declared or ''};base64,{base64.b64encode(data).decode()}"
    body, mime = _request(as_content(url, "image"))
    assert body == data
    assert mime == (sniff_mime(data) or declared)


@SETTINGS
@given(st.binary(max_size=64))
def test_the_core_refuses_what_is_not_content(data: bytes) -> None:
    with pytest.raises(UsageError) as info:
        task_flow(HF, "image_classification", data, model="m", params={})  # bytes, not a Blob
    assert info.value.argument == "image"


def test_size_limit_holds_on_every_path(tmp_path: Path) -> None:
    big = bytes(17)
    path = tmp_path / "big.bin"
    path.write_bytes(big)
    for value in (big, bytearray(big), memoryview(big), str(path), path, io.BytesIO(big),
                  "data:;base64," + base64.b64encode(big).decode()):
        with pytest.raises(UsageError, match="16-byte input limit"):
            as_content(value, "image", limit=16)
    assert MAX_INPUT_SIZE == 100 << 20


def test_missing_files_and_wrong_objects_name_the_argument(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="audio: no such file") as info:
        as_content(str(tmp_path / "nope.wav"), "audio")
    assert info.value.argument == "audio"
    with pytest.raises(UsageError, match="is a directory"):
        as_content(tmp_path, "audio")
    with (tmp_path / "t.txt").open("w+") as text_file, pytest.raises(UsageError,
                                                                      match="text mode"):
        as_content(text_file, "audio")
    with pytest.raises(UsageError, match="must be bytes, a path"):
        as_content(3.5, "audio")
    with pytest.raises(UsageError, match="empty string"):
        as_content("", "audio")
    with pytest.raises(UsageError, match="cannot read"):
        as_content(str(tmp_path / "t.txt" / "below-a-file"), "audio")  # NotADirectoryError


def test_blob_repr_never_dumps_the_bytes() -> None:
    assert repr(Blob(b"\x89PNG\r\n\x1a\n" + bytes(10_000), "image/png", "a.png")) == (
        "<Blob image/png 10008 bytes 'a.png'>")
