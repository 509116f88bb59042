"""Every hf-inference task end to end, on the sync, asyncio and trio clients alike, against the
fake server playing hf-inference (`inferwire.testing`, `tasks=`): one scenario table, three
transports."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from conformance import TRANSPORTS, Facade, run

import inferwire
from inferwire import UsageError
from inferwire.testing import FakeInferenceServer, raw


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (3, 2), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


PNG = _png()
WAV = (b"RIFF$\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80>\x00\x00\x00}\x00\x00"
       b"\x02\x00\x10\x00data\x00\x00\x00\x00")

TASK_OF = {
    "audio_classification": "audio-classification",
    "audio_to_audio": "audio-to-audio",
    "automatic_speech_recognition": "automatic-speech-recognition",
    "document_question_answering": "document-question-answering",
    "fill_mask": "fill-mask",
    "image_classification": "image-classification",
    "image_segmentation": "image-segmentation",
    "image_to_image": "image-to-image",
    "image_to_text": "image-to-text",
    "image_to_video": "image-to-video",
    "object_detection": "object-detection",
    "question_answering": "question-answering",
    "sentence_similarity": "sentence-similarity",
    "summarization": "summarization",
    "table_question_answering": "table-question-answering",
    "tabular_classification": "tabular-classification",
    "tabular_regression": "tabular-regression",
    "text_classification": "text-classification",
    "text_to_image": "text-to-image",
    "text_to_speech": "text-to-speech",
    "text_to_video": "text-to-video",
    "token_classification": "token-classification",
    "translation": "translation",
    "visual_question_answering": "visual-question-answering",
    "zero_shot_classification": "zero-shot-classification",
    "zero_shot_image_classification": "zero-shot-image-classification",
}
MODEL = "org/{task}"


def _types(name: str) -> type:
    cls: type = getattr(inferwire, name)
    return cls


Scenario = Callable[[Facade, FakeInferenceServer], Awaitable[None]]


async def audio_classification(t: Facade, server: FakeInferenceServer) -> None:
    out = await t.call("audio_classification", WAV)
    assert all(isinstance(e, _types("AudioClassificationOutputElement")) for e in out)
    assert server.last_request.body == WAV  # no parameters: the clip itself
    out = await t.call("audio_classification", WAV, top_k=1)
    assert len(out) == 1
    sent = server.last_request.json  # a parameter: the clip as base64 in JSON
    assert base64.b64decode(sent["inputs"]) == WAV and sent["parameters"] == {"top_k": 1}


async def audio_to_audio(t: Facade, server: FakeInferenceServer) -> None:
    out = await t.call("audio_to_audio", WAV)
    assert out and isinstance(out[0].blob, bytes) and out[0].content_type
    assert server.last_request.body == WAV


async def automatic_speech_recognition(t: Facade, server: FakeInferenceServer) -> None:
    out = await t.call("automatic_speech_recognition", WAV)
    assert isinstance(out, _types("AutomaticSpeechRecognitionOutput"))
    assert isinstance(out.text, str) and out.text
    assert server.last_request.body == WAV
    assert server.last_request.headers["content-type"] == "audio/wav"


async def document_question_answering(t: Facade, server: FakeInferenceServer) -> None:
    out = await t.call("document_question_answering", PNG, "What is the total?")
    assert isinstance(out[0], _types("DocumentQuestionAnsweringOutputElement"))
    sent = server.last_request.json
    assert sent["inputs"]["question"] == "What is the total?"
    assert base64.b64decode(sent["inputs"]["image"]) == PNG


async def fill_mask(t: Facade, server: FakeInferenceServer) -> None:
    out = await t.call("fill_mask", "Paris is the [MASK] of France.", top_k=2)
    assert len(out) == 2 and isinstance(out[0], _types("FillMaskOutputElement"))
    assert server.last_request.json["parameters"] == {"top_k": 2}


async def image_classification(t: Facade, server: FakeInferenceServer) -> None:
    out = await t.call("image_classification", PNG)
    assert isinstance(out[0], _types("ImageClassificationOutputElement"))
    assert server.last_request.headers["content-type"] == "image/png"


async def image_segmentation(t: Facade, server: FakeInferenceServer) -> None:
    from PIL import Image

    out = await t.call("image_segmentation", PNG)
    assert out and isinstance(out[0], _types("ImageSegmentationOutputElement"))
    assert isinstance(out[0].mask, Image.Image)  # the base64 PNG decoded


async def image_to_image(t: Facade, server: FakeInferenceServer) -> None:
    from PIL import Image

    out = await t.call("image_to_image", PNG, "in winter", guidance_scale=7.5, strength=0.5)
    assert isinstance(out, Image.Image)
    sent = server.last_request.json
    assert sent["parameters"] == {"prompt": "in winter", "guidance_scale": 7.5, "strength": 0.5}
    assert server.last_request.headers["accept"] == "image/png"


async def image_to_text(t: Facade, server: FakeInferenceServer) -> None:
    out = await t.call("image_to_text", PNG)
    assert isinstance(out, _types("ImageToTextOutput")) and out.generated_text


async def image_to_video(t: Facade, server: FakeInferenceServer) -> None:
    out = await t.call("image_to_video", PNG, prompt="make it move", num_frames=8)
    assert isinstance(out, bytes) and out[4:8] == b"ftyp"


async def object_detection(t: Facade, server: FakeInferenceServer) -> None:
    out = await t.call("object_detection", PNG)
    assert out and isinstance(out[0].box, _types("ObjectDetectionBoundingBox"))
    assert out[0]["box"]["xmax"] >= out[0].box.xmin


async def question_answering(t: Facade, server: FakeInferenceServer) -> None:
    out = await t.call("question_answering", "Where do I live?", "I live in Paris.")
    assert isinstance(out, _types("QuestionAnsweringOutputElement"))
    assert out.answer and out.start is not None


async def sentence_similarity(t: Facade, server: FakeInferenceServer) -> None:
    out = await t.call("sentence_similarity", "a cat", ["a dog", "a car", "a cat"])
    assert len(out) == 3 and all(isinstance(x, float) for x in out)


async def summarization(t: Facade, server: FakeInferenceServer) -> None:
    out = await t.call("summarization", "A long text. " * 20)
    assert isinstance(out, _types("SummarizationOutput")) and out.summary_text


async def table_question_answering(t: Facade, server: FakeInferenceServer) -> None:
    table = {"Repository": ["Transformers", "Datasets"], "Stars": ["36542", "4512"]}
    out = await t.call("table_question_answering", table, "How many stars?")
    assert isinstance(out, _types("TableQuestionAnsweringOutputElement")) and out.answer
    assert server.last_request.json["inputs"] == {"query": "How many stars?", "table": table}


async def tabular_classification(t: Facade, server: FakeInferenceServer) -> None:
    out = await t.call("tabular_classification", {"a": ["1", "2"], "b": ["3", "4"]})
    assert isinstance(out, list) and len(out) == 2


async def tabular_regression(t: Facade, server: FakeInferenceServer) -> None:
    out = await t.call("tabular_regression", {"a": ["1", "2", "3"]})
    assert len(out) == 3 and all(isinstance(x, float) for x in out)


async def text_classification(t: Facade, server: FakeInferenceServer) -> None:
    out = await t.call("text_classification", "I like you")
    assert isinstance(out[0], _types("TextClassificationOutputElement"))
    assert out[0].score >= out[-1].score
    assert json.loads(json.dumps(out))[0]["label"] == out[0].label


async def text_to_image(t: Facade, server: FakeInferenceServer) -> None:
    from PIL import Image

    out = await t.call("text_to_image", "an astronaut", width=16, height=8)
    assert isinstance(out, Image.Image) and out.size == (16, 8)
    assert server.last_request.headers["accept"] == "image/png"


async def text_to_speech(t: Facade, server: FakeInferenceServer) -> None:
    out = await t.call("text_to_speech", "Hello")
    assert isinstance(out, bytes) and out[:4] == b"RIFF"


async def text_to_video(t: Facade, server: FakeInferenceServer) -> None:
    out = await t.call("text_to_video", "a cat", num_frames=4)
    assert isinstance(out, bytes) and out[4:8] == b"ftyp"


async def token_classification(t: Facade, server: FakeInferenceServer) -> None:
    out = await t.call("token_classification", "My name is Sarah and I live in London")
    assert all(isinstance(e, _types("TokenClassificationOutputElement")) for e in out)


async def translation(t: Facade, server: FakeInferenceServer) -> None:
    out = await t.call("translation", "Hello", src_lang="en", tgt_lang="fr")
    assert isinstance(out, _types("TranslationOutput")) and out.translation_text
    assert server.last_request.json["parameters"] == {"src_lang": "en", "tgt_lang": "fr"}


async def visual_question_answering(t: Facade, server: FakeInferenceServer) -> None:
    out = await t.call("visual_question_answering", PNG, "Who is there?")
    assert isinstance(out[0], _types("VisualQuestionAnsweringOutputElement"))


async def zero_shot_classification(t: Facade, server: FakeInferenceServer) -> None:
    out = await t.call("zero_shot_classification", "A new model", ["space", "art", "food"])
    assert {e.label for e in out} == {"space", "art", "food"}
    assert server.last_request.json["parameters"]["multi_label"] is False


async def zero_shot_image_classification(t: Facade, server: FakeInferenceServer) -> None:
    out = await t.call("zero_shot_image_classification", PNG, ["cat", "dog"])
    assert {e.label for e in out} == {"cat", "dog"}


SCENARIOS: dict[str, Scenario] = {name: globals()[name] for name in TASK_OF}


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("method", sorted(SCENARIOS))
def test_task_on_every_transport(method: str, transport: str) -> None:
    task = TASK_OF[method]
    model = MODEL.format(task=task)
    with FakeInferenceServer(tasks={model: task}) as server:
        run(transport, server, lambda t: SCENARIOS[method](t, server),
            path=f"/models/{model}", max_retries=0)
        assert server.errors == []


# -- binary inputs, every kind, on every transport -----------------------------------------


def _inputs(tmp_path: Path, server: FakeInferenceServer) -> dict[str, Any]:
    from PIL import Image

    path = tmp_path / "cat.png"
    path.write_bytes(PNG)
    server.route("GET", "/files/cat.png", raw(200, {"Content-Type": "image/png"}, [PNG]))
    return {
        "bytes": PNG,
        "bytearray": bytearray(PNG),
        "memoryview": memoryview(PNG),
        "str path": str(path),
        "Path": path,
        "file object": io.BytesIO(PNG),
        "open file": path.open("rb"),
        "http URL": server.url("/files/cat.png"),
        "data URL": "data:image/png;base64," + base64.b64encode(PNG).decode(),
        "PIL image": Image.open(io.BytesIO(PNG)),
    }


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_every_kind_of_binary_input(transport: str, tmp_path: Path) -> None:
    model = "org/classifier"
    with FakeInferenceServer(tasks={model: "image-classification"}) as server:
        inputs = _inputs(tmp_path, server)

        async def scenario(t: Facade) -> None:
            for kind, value in inputs.items():
                out = await t.call("image_classification", value)
                assert out, kind
                request = server.last_request
                assert request.path == f"/models/{model}", kind
                assert request.headers["content-type"] == "image/png", kind
                if kind != "PIL image":  # re-encoded by Pillow: same image, other bytes
                    assert request.body == PNG, kind

        try:
            run(transport, server, scenario, path=f"/models/{model}", max_retries=0)
        finally:
            inputs["open file"].close()
        fetched = [r for r in server.requests if r.method == "GET"]
        assert len(fetched) == 1 and "authorization" not in fetched[0].headers


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_bad_inputs_are_usage_errors_before_anything_is_sent(transport: str,
                                                              tmp_path: Path) -> None:
    with FakeInferenceServer(tasks={"org/c": "image-classification"}) as server:

        async def scenario(t: Facade) -> None:
            with pytest.raises(UsageError, match="no such file"):
                await t.call("image_classification", str(tmp_path / "missing.png"))
            with pytest.raises(UsageError, match="image"):
                await t.call("image_classification", 42)
            with pytest.raises(TypeError, match="unknown parameter"):
                await t.call("text_classification", "x", not_a_parameter=1)
            with pytest.raises(UsageError, match="src_lang and tgt_lang"):
                await t.call("translation", "x", src_lang="en")

        run(transport, server, scenario, path="/models/org/c", max_retries=0)
        assert server.requests == []
