"""The task commands of the command line (`text-to-image`, `text-to-speech`, `transcribe`,
`classify`, `run`), run as subprocesses against the fake server playing hf-inference."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from inferwire.testing import FakeInferenceServer, error, raw, text_classification

TASKS = {
    "org/classifier": "text-classification",
    "org/painter": "text-to-image",
    "org/speaker": "text-to-speech",
    "org/listener": "automatic-speech-recognition",
    "org/zero": "zero-shot-classification",
    "org/seer": "image-classification",
    "org/segmenter": "image-segmentation",
    "org/qa": "question-answering",
    "org/tables": "table-question-answering",
}
WAV = (b"RIFF$\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80>\x00\x00\x00}\x00\x00"
       b"\x02\x00\x10\x00data\x00\x00\x00\x00")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (3, 2), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def run_cli(*args: str, stdin: bytes | None = None,
            python: list[str] | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "HF_TOKEN"}
    command = python or [sys.executable, "-m", "inferwire"]
    return subprocess.run([*command, *args], input=stdin, capture_output=True, timeout=60,
                          env=env, check=False)


def ok(result: subprocess.CompletedProcess[bytes]) -> str:
    assert result.returncode == 0, result.stderr.decode()
    assert result.stderr == b""
    return result.stdout.decode()


def usage_error(result: subprocess.CompletedProcess[bytes], expected: str,
                status: int = 2) -> str:
    """One line on stderr naming the problem, nothing on stdout, exit `status`."""
    assert result.returncode == status, result.stderr.decode()
    assert result.stdout == b""
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("inferwire: error: "), lines[0]
    assert expected in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def server() -> Any:
    with FakeInferenceServer(tasks=TASKS) as fake:
        yield fake


def url(server: FakeInferenceServer, model: str) -> list[str]:
    return ["--base-url", server.url(f"/models/{model}")]


# -- help ------------------------------------------------------------------------------------


def test_help_lists_every_command() -> None:
    out = ok(run_cli("--help"))
    for command in ("chat", "generate", "embed", "text-to-image", "text-to-speech",
                    "transcribe", "classify", "run", "serve"):
        assert f"    {command} " in out, command
    out = ok(run_cli("run", "--help"))
    assert "key=value" in out and "text-classification" in out and "@FILE" in out
    out = ok(run_cli("text-to-image", "--help"))
    for flag in ("--width", "--height", "--negative-prompt", "--steps", "--guidance-scale",
                 "--seed", "--model", "--base-url", "--token", "--provider", "--timeout",
                 "--debug", "--json"):
        assert flag in out, flag
    assert "--local" not in out        # the local model has none of these tasks


# -- text-to-image ---------------------------------------------------------------------------


def test_text_to_image_writes_the_file_and_sends_the_flags(server: FakeInferenceServer,
                                                           tmp_path: Path) -> None:
    from PIL import Image

    target = tmp_path / "out.png"
    out = ok(run_cli("text-to-image", *url(server, "org/painter"), "a lighthouse", "-o",
                     str(target), "--width", "12", "--height", "8", "--negative-prompt",
                     "fog", "--steps", "3", "--guidance-scale", "7.5", "--seed", "42"))
    assert out == f"{target}\n"
    data = target.read_bytes()
    assert data.startswith(PNG_MAGIC)
    assert Image.open(io.BytesIO(data)).size == (12, 8)
    sent = server.last_request.json
    assert sent == {"inputs": "a lighthouse", "parameters": {
        "width": 12, "height": 8, "negative_prompt": "fog", "num_inference_steps": 3,
        "guidance_scale": 7.5, "seed": 42}}


def test_text_to_image_format_follows_the_extension(server: FakeInferenceServer,
                                                    tmp_path: Path) -> None:
    from PIL import Image

    target = tmp_path / "out.jpg"
    out = ok(run_cli("text-to-image", *url(server, "org/painter"), "--json", "a cat", "-o",
                     str(target), "--width", "6", "--height", "4"))
    assert json.loads(out) == {"path": str(target), "width": 6, "height": 4,
                               "format": "JPEG"}
    assert target.read_bytes().startswith(b"\xff\xd8\xff")
    assert Image.open(target).format == "JPEG"


def test_text_to_image_to_stdout(server: FakeInferenceServer) -> None:
    result = run_cli("text-to-image", *url(server, "org/painter"), "a cat", "-o", "-")
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.startswith(PNG_MAGIC)


@pytest.mark.parametrize(("output", "expected"), [
    ("out.bmpx", ".bmpx is not an image format Pillow writes"),
    ("out", "no extension is not an image format"),
    ("missing/dir/out.png", "no such directory"),
    (".", "is a directory"),
])
def test_text_to_image_bad_outputs_are_refused_before_sending(
        server: FakeInferenceServer, tmp_path: Path, output: str, expected: str) -> None:
    before = len(server.requests)
    target = str(tmp_path / output) if output != "." else str(tmp_path)
    usage_error(run_cli("text-to-image", *url(server, "org/painter"), "a cat", "-o", target),
                expected)
    assert len(server.requests) == before


NO_PILLOW = [sys.executable, "-c", "import sys; sys.modules['PIL'] = None\n"
             "from inferwire._cli import main; sys.exit(main(sys.argv[1:]))"]


def test_without_pillow_the_error_names_the_install(server: FakeInferenceServer,
                                                     tmp_path: Path) -> None:
    before = len(server.requests)
    line = usage_error(run_cli("text-to-image", *url(server, "org/painter"), "a cat", "-o",
                               str(tmp_path / "x.png"), python=NO_PILLOW),
                       "writing an image needs Pillow")
    assert "pip install 'inferwire[images]'" in line
    assert not (tmp_path / "x.png").exists()
    line = usage_error(run_cli("run", "text-to-image", *url(server, "org/painter"),
                               "prompt=a cat", "-o", str(tmp_path / "x.png"), python=NO_PILLOW),
                       "writing an image needs Pillow: install Pillow: "
                       "`pip install 'inferwire[images]'`")
    line = usage_error(run_cli("run", "image-segmentation", *url(server, "org/segmenter"),
                               "image=https://example.org/cat.png", python=NO_PILLOW),
                       "run image_segmentation needs Pillow")
    assert len(server.requests) == before


def test_binary_output_is_not_written_to_a_terminal(server: FakeInferenceServer) -> None:
    import pty

    before = len(server.requests)
    leader, follower = pty.openpty()
    try:
        env = {k: v for k, v in os.environ.items() if k != "HF_TOKEN"}
        result = subprocess.run(
            [sys.executable, "-m", "inferwire", "text-to-speech", *url(server, "org/speaker"),
             "Hello", "-o", "-"], stdout=follower, stderr=subprocess.PIPE, timeout=60, env=env,
            check=False)
    finally:
        os.close(follower)
        os.close(leader)
    assert result.returncode == 2
    assert b"refusing to write audio to a terminal" in result.stderr
    assert len(server.requests) == before


@pytest.mark.parametrize(("flag", "value"), [("--width", "0"), ("--steps", "-1")])
def test_text_to_image_sizes_must_be_positive(server: FakeInferenceServer, tmp_path: Path,
                                              flag: str, value: str) -> None:
    usage_error(run_cli("text-to-image", *url(server, "org/painter"), "a cat", "-o",
                        str(tmp_path / "x.png"), flag, value), f"{flag} must be positive")


# -- text-to-speech --------------------------------------------------------------------------


def test_text_to_speech_writes_the_bytes_as_received(server: FakeInferenceServer,
                                                     tmp_path: Path) -> None:
    audio = b"fLaC\x00\x00\x00\x22" + bytes(range(256)) * 4
    server.enqueue(raw(200, {"Content-Type": "audio/flac"}, [audio]))
    target = tmp_path / "hello.flac"
    out = ok(run_cli("text-to-speech", *url(server, "org/speaker"), "Hello there", "-o",
                     str(target)))
    assert out == f"{target}\n"
    assert target.read_bytes() == audio
    assert server.last_request.json["inputs"] == "Hello there"


def test_text_to_speech_to_stdout(server: FakeInferenceServer) -> None:
    result = run_cli("text-to-speech", *url(server, "org/speaker"), "Hello", "-o", "-")
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.startswith(b"RIFF") and b"WAVE" in result.stdout[:12]


def test_text_to_speech_needs_an_output(server: FakeInferenceServer) -> None:
    result = run_cli("text-to-speech", *url(server, "org/speaker"), "Hello")
    assert result.returncode == 2
    assert b"-o/--output" in result.stderr


# -- transcribe ------------------------------------------------------------------------------


def test_transcribe_a_file(server: FakeInferenceServer, tmp_path: Path) -> None:
    clip = tmp_path / "clip.wav"
    clip.write_bytes(WAV)
    out = ok(run_cli("transcribe", *url(server, "org/listener"), str(clip)))
    assert out == f"a fake transcription of {len(WAV)} bytes\n"
    assert server.last_request.body == WAV
    assert server.last_request.headers["content-type"] == "audio/wav"
    result = json.loads(ok(run_cli("transcribe", *url(server, "org/listener"), "--json",
                                   str(clip))))
    assert result["text"] == f"a fake transcription of {len(WAV)} bytes"


def test_transcribe_a_url_and_stdin(server: FakeInferenceServer) -> None:
    server.route("GET", "/files/clip.wav", raw(200, {"Content-Type": "audio/wav"}, [WAV * 2]))
    out = ok(run_cli("transcribe", *url(server, "org/listener"),
                     server.url("/files/clip.wav")))
    assert out == f"a fake transcription of {2 * len(WAV)} bytes\n"
    out = ok(run_cli("transcribe", *url(server, "org/listener"), "-", stdin=WAV * 3))
    assert out == f"a fake transcription of {3 * len(WAV)} bytes\n"


def test_transcribe_a_missing_file(server: FakeInferenceServer, tmp_path: Path) -> None:
    before = len(server.requests)
    usage_error(run_cli("transcribe", *url(server, "org/listener"), str(tmp_path / "no.wav")),
                f"transcribe: no such file '{tmp_path / 'no.wav'}'")
    usage_error(run_cli("transcribe", *url(server, "org/listener"), str(tmp_path)),
                "is not a file")
    assert len(server.requests) == before


# -- classify --------------------------------------------------------------------------------


def test_classify_prints_labels_and_scores(server: FakeInferenceServer) -> None:
    server.enqueue(text_classification([("joy", 0.75), ("anger", 0.125)]))
    out = ok(run_cli("classify", *url(server, "org/classifier"), "I like you"))
    assert out == "joy\t0.7500\nanger\t0.1250\n"
    assert server.last_request.json == {"inputs": "I like you", "parameters": {}}


def test_classify_top_k_and_json(server: FakeInferenceServer) -> None:
    out = ok(run_cli("classify", *url(server, "org/classifier"), "--top-k", "1",
                     "--function-to-apply", "softmax", "--json", "I like you"))
    assert json.loads(out) == [{"label": "POSITIVE", "score": 0.9998}]
    assert server.last_request.json["parameters"] == {"top_k": 1,
                                                      "function_to_apply": "softmax"}


@pytest.mark.parametrize(("args", "expected"), [
    (["  "], "the text is empty"),
    (["--top-k", "0", "hi"], "--top-k must be positive, got 0"),
])
def test_classify_usage_errors(server: FakeInferenceServer, args: list[str],
                               expected: str) -> None:
    before = len(server.requests)
    usage_error(run_cli("classify", *url(server, "org/classifier"), *args), expected)
    assert len(server.requests) == before


# -- the common options ----------------------------------------------------------------------


def test_the_token_and_a_model_url_are_used(server: FakeInferenceServer) -> None:
    ok(run_cli("classify", "--model", server.url("/models/org/classifier"), "--token",
               "hf_secret", "hi"))
    assert server.last_request.path == "/models/org/classifier"
    assert server.last_request.headers["authorization"] == "Bearer hf_secret"


@pytest.mark.parametrize(("setup", "expected"), [
    ("401", "401 unauthorized: check --token or HF_TOKEN"),
    ("500", "the server answered 500: model exploded"),
    ("timeout", "timed out after 0.5s"),
])
def test_server_failures_are_one_line(server: FakeInferenceServer, tmp_path: Path,
                                      setup: str, expected: str) -> None:
    if setup == "timeout":
        server.enqueue(raw(200, {"Content-Type": "audio/wav"}, [WAV], delay_before_headers=3))
    else:
        server.enqueue(error(int(setup), message="model exploded"))
    line = usage_error(run_cli("text-to-speech", *url(server, "org/speaker"), "--timeout",
                               "0.5", "Hi", "-o", str(tmp_path / "x.wav")), expected, status=1)
    assert "Traceback" not in line
    assert not (tmp_path / "x.wav").exists()


def test_debug_shows_the_traceback(server: FakeInferenceServer) -> None:
    server.enqueue(error(401, message="Invalid API Key"))
    result = run_cli("classify", *url(server, "org/classifier"), "--debug", "hi")
    assert result.returncode != 0
    assert b"Traceback" in result.stderr and b"AuthenticationError" in result.stderr


def test_a_target_is_needed_and_local_is_not_offered() -> None:
    line = usage_error(run_cli("classify", "hi"), "say where to send it")
    assert "--local" not in line
    result = run_cli("classify", "--local", "hi")
    assert result.returncode == 2
    assert b"unrecognized arguments: --local" in result.stderr


def test_an_unreachable_server_gets_no_local_hint() -> None:
    line = usage_error(run_cli("classify", "--base-url", "http://127.0.0.1:9/x", "hi"),
                       "could not connect to http://127.0.0.1:9/x", status=1)
    assert "--local" not in line


# -- run -------------------------------------------------------------------------------------


def test_run_lists_the_tasks() -> None:
    out = ok(run_cli("run", "--list"))
    assert ok(run_cli("run")) == out
    lines = out.splitlines()[1:]
    assert len(lines) == 26
    assert any(line.split()[:2] == ["text-classification", "text="] for line in lines)
    assert any(line.split()[:3] == ["visual-question-answering", "image=", "question="]
               for line in lines)
    out = ok(run_cli("run", "zero_shot_classification", "--list"))
    assert "candidate_labels=" in out and "text=" in out and "required" in out


@pytest.mark.parametrize("task", ["text-classification", "text_classification"])
def test_run_takes_a_task_id_or_a_method_name(server: FakeInferenceServer, task: str) -> None:
    out = ok(run_cli("run", task, *url(server, "org/classifier"), "text=I like you",
                     "top_k=1"))
    assert json.loads(out) == [{"label": "POSITIVE", "score": 0.9998}]
    assert server.last_request.json == {"inputs": "I like you", "parameters": {"top_k": 1}}


def test_run_parses_json_values_but_not_text(server: FakeInferenceServer) -> None:
    # options between the pairs, as a user types them
    out = ok(run_cli("run", "zero-shot-classification", "text=42", *url(server, "org/zero"),
                     'candidate_labels=["tech", "food"]', "multi_label=true",
                     "hypothesis_template=This is about {}."))
    assert [e["label"] for e in json.loads(out)] == ["tech", "food"]
    assert server.last_request.json == {"inputs": "42", "parameters": {
        "candidate_labels": ["tech", "food"], "multi_label": True,
        "hypothesis_template": "This is about {}."}}
    out = ok(run_cli("run", "table-question-answering", *url(server, "org/tables"),
                     'table={"city": ["Paris"], "people": ["2.1M"]}',
                     "query=how many people?"))
    assert "answer" in json.loads(out)
    assert server.last_request.json["inputs"] == {
        "query": "how many people?", "table": {"city": ["Paris"], "people": ["2.1M"]}}


def test_run_reads_files(server: FakeInferenceServer, tmp_path: Path) -> None:
    png = _png()
    (tmp_path / "cat.png").write_bytes(png)
    out = ok(run_cli("run", "image-classification", *url(server, "org/seer"),
                     f"image=@{tmp_path / 'cat.png'}", "top_k=2"))
    assert len(json.loads(out)) == 2
    assert base64.b64decode(server.last_request.json["inputs"]) == png
    ok(run_cli("run", "image-classification", *url(server, "org/seer"),
               f"image={tmp_path / 'cat.png'}"))          # a path, without @, works too
    assert server.last_request.body == png
    (tmp_path / "context.txt").write_text("Paris is the capital of France.")
    ok(run_cli("run", "question-answering", *url(server, "org/qa"), "question=What?",
               f"context=@{tmp_path / 'context.txt'}"))
    assert server.last_request.json["inputs"] == {
        "question": "What?", "context": "Paris is the capital of France."}
    ok(run_cli("run", "question-answering", *url(server, "org/qa"), "question=@@home",
               "context=@-", stdin=b"from stdin"))
    assert server.last_request.json["inputs"] == {"question": "@home", "context": "from stdin"}


def test_run_images_in_results(server: FakeInferenceServer, tmp_path: Path) -> None:
    from PIL import Image

    (tmp_path / "cat.png").write_bytes(_png())
    segments = json.loads(ok(run_cli("run", "image-segmentation", *url(server, "org/segmenter"),
                                     f"image=@{tmp_path / 'cat.png'}")))
    mask = segments[0]["mask"]
    assert mask.startswith("data:image/png;base64,")
    assert Image.open(io.BytesIO(base64.b64decode(mask.split(",", 1)[1]))).mode == "L"
    target = tmp_path / "drawn.webp"
    out = ok(run_cli("run", "text-to-image", *url(server, "org/painter"), "prompt=a cat",
                     "width=5", "height=7", "-o", str(target)))
    assert out == f"{target}\n"
    assert Image.open(target).format == "WEBP" and Image.open(target).size == (5, 7)


def test_run_bytes_results(server: FakeInferenceServer, tmp_path: Path) -> None:
    before = len(server.requests)
    usage_error(run_cli("run", "text-to-speech", *url(server, "org/speaker"), "text=hi"),
                "run text_to_speech: it returns bytes (audio, video): pass -o FILE")
    assert len(server.requests) == before
    target = tmp_path / "hi.wav"
    out = ok(run_cli("run", "text-to-speech", *url(server, "org/speaker"), "text=hi",
                     "max_new_tokens=5", "--json", "-o", str(target)))
    assert json.loads(out) == {"path": str(target), "bytes": target.stat().st_size}
    assert target.read_bytes().startswith(b"RIFF")
    assert server.last_request.json == {"inputs": "hi", "parameters": {"max_new_tokens": 5}}


def test_run_json_result_to_a_file(server: FakeInferenceServer, tmp_path: Path) -> None:
    target = tmp_path / "labels.json"
    ok(run_cli("run", "text-classification", *url(server, "org/classifier"), "text=hi",
               "-o", str(target)))
    assert json.loads(target.read_text())[0]["label"] == "POSITIVE"


@pytest.mark.parametrize(("args", "expected"), [
    (["text-clasification", "text=x"],
     "run: unknown task 'text-clasification' (did you mean text-classification?)"),
    (["chat_completion", "messages=[]"], "run: unknown task 'chat_completion'"),
    (["text-classification", "txt=x"],
     "run text_classification: unknown parameter 'txt'; it takes text, top_k, "
     "function_to_apply"),
    (["text-classification", "text"], "run text_classification: expected key=value, got 'text'"),
    (["text-classification", "text=a", "text=b"], "text= is given twice"),
    (["text-classification", "text=a", "model=x"], "pass the model with --model"),
    (["question-answering", "question=Who?"], "run question_answering: missing context=..."),
    (["image-classification", "image=@/no/such/cat.png"],
     "image=@/no/such/cat.png: no such file '/no/such/cat.png'"),
    (["text-classification", "text=x", "top_k=many"],
     "text_classification(): top_k must be int, got str 'many'"),
    (["translation", "text=x", "src_lang=en"], "src_lang and tgt_lang"),
])
def test_run_usage_errors_are_one_line_and_exit_2(server: FakeInferenceServer,
                                                  args: list[str], expected: str) -> None:
    before = len(server.requests)
    line = usage_error(run_cli("run", args[0], *url(server, "org/classifier"), *args[1:]),
                       expected)
    assert "--top-k" not in line          # run speaks the method's keywords, not flags
    assert len(server.requests) == before


def test_run_unknown_task_needs_no_target() -> None:
    usage_error(run_cli("run", "nope"), "run: unknown task 'nope'")
    result = run_cli("run", "text-classification", "text=x", "--bogus")
    assert result.returncode == 2
    assert b"unrecognized arguments: --bogus" in result.stderr
