"""The hf-inference task methods of `InferenceClient` (classification, speech, images...):
the one source of their signatures and docstrings.

Names, parameters (order, kinds, defaults) and return types are huggingface_hub 2.4.0's, so
that switching clients is an import change. Each body is one line: it turns the user's
binary inputs into core content (`as_content`: bytes, a path, a file object, a URL, a PIL
image) and hands the task's flow (`inferwire.sansio._hf_tasks`) to the transport; images
come back as PIL images (`to_image`). `AsyncInferenceClient` gets the same methods from
`_async_hf_tasks.py`, derived from this file by ``python tools/gen_async_tasks.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

from ._common import hf_flow as _flow
from ._media import as_content, to_image, with_mask_images

if TYPE_CHECKING:
    from PIL.Image import Image

    from ._media import ContentInput
    from .sansio._effects import Flow
    from .sansio._types.audio_classification import (
        AudioClassificationOutputElement,
        AudioClassificationOutputTransform,
    )
    from .sansio._types.audio_to_audio import AudioToAudioOutputElement
    from .sansio._types.automatic_speech_recognition import AutomaticSpeechRecognitionOutput
    from .sansio._types.document_question_answering import (
        DocumentQuestionAnsweringOutputElement,
    )
    from .sansio._types.fill_mask import FillMaskOutputElement
    from .sansio._types.image_classification import (
        ImageClassificationOutputElement,
        ImageClassificationOutputTransform,
    )
    from .sansio._types.image_segmentation import (
        ImageSegmentationOutputElement,
        ImageSegmentationSubtask,
    )
    from .sansio._types.image_to_image import ImageToImageTargetSize
    from .sansio._types.image_to_text import ImageToTextOutput
    from .sansio._types.image_to_video import ImageToVideoTargetSize
    from .sansio._types.object_detection import ObjectDetectionOutputElement
    from .sansio._types.question_answering import QuestionAnsweringOutputElement
    from .sansio._types.summarization import SummarizationOutput, SummarizationTruncationStrategy
    from .sansio._types.table_question_answering import (
        Padding,
        TableQuestionAnsweringOutputElement,
    )
    from .sansio._types.text_classification import (
        TextClassificationOutputElement,
        TextClassificationOutputTransform,
    )
    from .sansio._types.text_to_speech import TextToSpeechEarlyStoppingEnum
    from .sansio._types.token_classification import (
        TokenClassificationAggregationStrategy,
        TokenClassificationOutputElement,
    )
    from .sansio._types.translation import TranslationOutput, TranslationTruncationStrategy
    from .sansio._types.visual_question_answering import VisualQuestionAnsweringOutputElement
    from .sansio._types.zero_shot_classification import ZeroShotClassificationOutputElement
    from .sansio._types.zero_shot_image_classification import (
        ZeroShotImageClassificationOutputElement,
    )

__all__ = ["SyncHFTaskMethods"]


class SyncHFTaskMethods:
    """The hf-inference task methods of the sync client (mixed into `InferenceClient`)."""

    __slots__ = ()

    if TYPE_CHECKING:

        def _run(self, flow: Flow[Any]) -> Any: ...

    # -- audio -------------------------------------------------------------------------------

    def audio_classification(
        self, audio: ContentInput, *, model: str | None = None, top_k: int | None = None,
        function_to_apply: AudioClassificationOutputTransform | None = None,
        **unexpected: NoReturn,
    ) -> list[AudioClassificationOutputElement]:
        """Classify an audio clip (speech commands, emotions, languages...): labels with
        scores, best first. `audio` is bytes, a path, a binary file object or a URL."""
        return self._run(_flow(self, "audio_classification", as_content(audio, "audio"),
                               model, locals()))

    def audio_to_audio(
        self, audio: ContentInput, *, model: str | None = None,
        **unexpected: NoReturn,
    ) -> list[AudioToAudioOutputElement]:
        """Transform an audio clip (source separation, enhancement): one element per output
        clip, its ``blob`` the audio bytes and ``content_type`` their MIME type."""
        return self._run(_flow(self, "audio_to_audio", as_content(audio, "audio"), model,
                               locals()))

    def automatic_speech_recognition(
        self, audio: ContentInput, *, model: str | None = None,
        extra_body: dict[str, Any] | None = None,
        **unexpected: NoReturn,
    ) -> AutomaticSpeechRecognitionOutput:
        """Transcribe speech: ``text`` (and ``chunks`` with timestamps when the model gives
        them). `extra_body` is sent as the request's parameters."""
        return self._run(_flow(self, "automatic_speech_recognition",
                               as_content(audio, "audio"), model, locals(), extra=extra_body))

    def text_to_speech(
        self, text: str, *, model: str | None = None, do_sample: bool | None = None,
        early_stopping: bool | TextToSpeechEarlyStoppingEnum | None = None,
        epsilon_cutoff: float | None = None, eta_cutoff: float | None = None,
        max_length: int | None = None, max_new_tokens: int | None = None,
        min_length: int | None = None, min_new_tokens: int | None = None,
        num_beam_groups: int | None = None, num_beams: int | None = None,
        penalty_alpha: float | None = None, temperature: float | None = None,
        top_k: int | None = None, top_p: float | None = None, typical_p: float | None = None,
        use_cache: bool | None = None, extra_body: dict[str, Any] | None = None,
        **unexpected: NoReturn,
    ) -> bytes:
        """Speak `text`: the audio bytes the server sent (FLAC, WAV... as the model makes
        them). Generation parameters go in ``parameters``; `extra_body` is merged there."""
        return self._run(_flow(self, "text_to_speech", text, model, locals(), extra=extra_body))

    # -- text --------------------------------------------------------------------------------

    def fill_mask(
        self, text: str, *, model: str | None = None, targets: list[str] | None = None,
        top_k: int | None = None,
        **unexpected: NoReturn,
    ) -> list[FillMaskOutputElement]:
        """Fill the mask token of `text` (``[MASK]``, ``<mask>``: the model's): candidate
        tokens with scores and the completed ``sequence``."""
        return self._run(_flow(self, "fill_mask", text, model, locals()))

    def question_answering(
        self, question: str, context: str, *, model: str | None = None,
        align_to_words: bool | None = None, doc_stride: int | None = None,
        handle_impossible_answer: bool | None = None, max_answer_len: int | None = None,
        max_question_len: int | None = None, max_seq_len: int | None = None,
        top_k: int | None = None,
        **unexpected: NoReturn,
    ) -> QuestionAnsweringOutputElement | list[QuestionAnsweringOutputElement]:
        """Answer `question` from `context`: the answer, its score and its ``start``/``end``
        in the context; a list of them when the server sends several (``top_k`` > 1)."""
        return self._run(_flow(self, "question_answering",
                               {"question": question, "context": context}, model, locals()))

    def sentence_similarity(
        self, sentence: str, other_sentences: list[str], *, model: str | None = None,
        **unexpected: NoReturn,
    ) -> list[float]:
        """How similar each of `other_sentences` is to `sentence` (one score each, in
        order)."""
        return self._run(_flow(self, "sentence_similarity",
                               {"source_sentence": sentence, "sentences": other_sentences},
                               model, locals()))

    def summarization(
        self, text: str, *, model: str | None = None,
        clean_up_tokenization_spaces: bool | None = None,
        generate_parameters: dict[str, Any] | None = None,
        truncation: SummarizationTruncationStrategy | None = None,
        **unexpected: NoReturn,
    ) -> SummarizationOutput:
        """Summarize `text`: ``summary_text``."""
        return self._run(_flow(self, "summarization", text, model, locals()))

    def table_question_answering(
        self, table: dict[str, Any], query: str, *, model: str | None = None,
        padding: Padding | None = None, sequential: bool | None = None,
        truncation: bool | None = None,
        **unexpected: NoReturn,
    ) -> TableQuestionAnsweringOutputElement:
        """Answer `query` from `table` (column name -> list of cell values): the ``answer``,
        the ``cells`` and ``coordinates`` it comes from, and the ``aggregator`` used."""
        return self._run(_flow(self, "table_question_answering",
                               {"query": query, "table": table}, model, locals()))

    def tabular_classification(
        self, table: dict[str, Any], *, model: str | None = None,
        **unexpected: NoReturn,
    ) -> list[str]:
        """Classify each row of `table` (column name -> list of values): one label per row,
        as the model sends them."""
        return self._run(_flow(self, "tabular_classification", {"data": table}, model,
                               locals()))

    def tabular_regression(
        self, table: dict[str, Any], *, model: str | None = None,
        **unexpected: NoReturn,
    ) -> list[float]:
        """Predict a number for each row of `table` (column name -> list of values).

        huggingface_hub 2.4.0 always raises here (no provider is mapped); inferwire sends
        the hf-inference request, ``{"inputs": {"data": table}}``."""
        return self._run(_flow(self, "tabular_regression", {"data": table}, model, locals()))

    def text_classification(
        self, text: str, *, model: str | None = None, top_k: int | None = None,
        function_to_apply: TextClassificationOutputTransform | None = None,
        **unexpected: NoReturn,
    ) -> list[TextClassificationOutputElement]:
        """Classify `text` (sentiment, topic, language...): labels with scores, best
        first."""
        return self._run(_flow(self, "text_classification", text, model, locals()))

    def token_classification(
        self, text: str, *, model: str | None = None,
        aggregation_strategy: TokenClassificationAggregationStrategy | None = None,
        ignore_labels: list[str] | None = None, stride: int | None = None,
        **unexpected: NoReturn,
    ) -> list[TokenClassificationOutputElement]:
        """Label the tokens (or words, or entities, by `aggregation_strategy`) of `text`:
        named entities, parts of speech..., with their ``start``/``end`` in the text."""
        return self._run(_flow(self, "token_classification", text, model, locals()))

    def translation(
        self, text: str, *, model: str | None = None, src_lang: str | None = None,
        tgt_lang: str | None = None, clean_up_tokenization_spaces: bool | None = None,
        truncation: TranslationTruncationStrategy | None = None,
        generate_parameters: dict[str, Any] | None = None,
        **unexpected: NoReturn,
    ) -> TranslationOutput:
        """Translate `text`: ``translation_text``. Multilingual models need `src_lang` and
        `tgt_lang` (both or neither)."""
        return self._run(_flow(self, "translation", text, model, locals()))

    def zero_shot_classification(
        self, text: str, candidate_labels: list[str], *, multi_label: bool | None = False,
        hypothesis_template: str | None = None, model: str | None = None,
        **unexpected: NoReturn,
    ) -> list[ZeroShotClassificationOutputElement]:
        """Classify `text` into `candidate_labels`, labels the model was not trained on:
        every label with its score, best first. With `multi_label` the scores are
        independent (several labels may hold)."""
        return self._run(_flow(self, "zero_shot_classification", text, model, locals()))

    # -- images ------------------------------------------------------------------------------

    def document_question_answering(
        self, image: ContentInput, question: str, *, model: str | None = None,
        doc_stride: int | None = None, handle_impossible_answer: bool | None = None,
        lang: str | None = None, max_answer_len: int | None = None,
        max_question_len: int | None = None, max_seq_len: int | None = None,
        top_k: int | None = None, word_boxes: list[list[float] | str] | None = None,
        **unexpected: NoReturn,
    ) -> list[DocumentQuestionAnsweringOutputElement]:
        """Answer `question` from a document image (an invoice, a form): answers with
        scores and where they are."""
        return self._run(_flow(self, "document_question_answering",
                               {"image": as_content(image, "image"), "question": question},
                               model, locals()))

    def image_classification(
        self, image: ContentInput, *, model: str | None = None,
        function_to_apply: ImageClassificationOutputTransform | None = None,
        top_k: int | None = None,
        **unexpected: NoReturn,
    ) -> list[ImageClassificationOutputElement]:
        """Classify an image: labels with scores, best first. `image` is bytes, a path, a
        binary file object, a URL or a PIL image."""
        return self._run(_flow(self, "image_classification", as_content(image, "image"),
                               model, locals()))

    def image_segmentation(
        self, image: ContentInput, *, model: str | None = None,
        mask_threshold: float | None = None, overlap_mask_area_threshold: float | None = None,
        subtask: ImageSegmentationSubtask | None = None, threshold: float | None = None,
        **unexpected: NoReturn,
    ) -> list[ImageSegmentationOutputElement]:
        """Segment an image: one element per segment, its ``mask`` a PIL image (needs
        Pillow), with its ``label`` and ``score``."""
        return with_mask_images(self._run(_flow(self, "image_segmentation",
                                                as_content(image, "image"), model, locals())))

    def image_to_image(
        self, image: ContentInput, prompt: str | None = None, *,
        negative_prompt: str | None = None, num_inference_steps: int | None = None,
        guidance_scale: float | None = None, model: str | None = None,
        target_size: ImageToImageTargetSize | None = None, **kwargs: Any,
    ) -> Image:
        """Transform an image (following `prompt`): the result as a PIL image (needs
        Pillow). Other keyword arguments are sent as parameters too."""
        return to_image(self._run(_flow(self, "image_to_image", as_content(image, "image"),
                                        model, locals(), extra=kwargs)))

    def image_to_text(
        self, image: ContentInput, *, model: str | None = None, **unexpected: NoReturn,
    ) -> ImageToTextOutput:
        """Describe an image: ``generated_text`` (a caption)."""
        return self._run(_flow(self, "image_to_text", as_content(image, "image"), model,
                               locals()))

    def image_to_video(
        self, image: ContentInput, *, model: str | None = None, prompt: str | None = None,
        negative_prompt: str | None = None, num_frames: float | None = None,
        num_inference_steps: int | None = None, guidance_scale: float | None = None,
        seed: int | None = None, target_size: ImageToVideoTargetSize | None = None,
        **kwargs: Any,
    ) -> bytes:
        """Animate an image into a video: the video's bytes. hf-inference has no such task:
        `model` (or the client's `base_url`) must be the URL of a server that serves it."""
        return self._run(_flow(self, "image_to_video", as_content(image, "image"), model,
                               locals(), extra=kwargs))

    def object_detection(
        self, image: ContentInput, *, model: str | None = None, threshold: float | None = None,
        **unexpected: NoReturn,
    ) -> list[ObjectDetectionOutputElement]:
        """Find objects in an image: each with its ``label``, ``score`` and ``box``
        (pixels: ``xmin``, ``ymin``, ``xmax``, ``ymax``)."""
        return self._run(_flow(self, "object_detection", as_content(image, "image"), model,
                               locals()))

    def text_to_image(
        self, prompt: str, *, negative_prompt: str | None = None, height: int | None = None,
        width: int | None = None, num_inference_steps: int | None = None,
        guidance_scale: float | None = None, model: str | None = None,
        scheduler: str | None = None, seed: int | None = None,
        extra_body: dict[str, Any] | None = None,
        **unexpected: NoReturn,
    ) -> Image:
        """Draw `prompt`: the image as a PIL image (needs Pillow). `extra_body` is merged into
        the parameters."""
        return to_image(self._run(_flow(self, "text_to_image", prompt, model, locals(),
                                        extra=extra_body)))

    def text_to_video(
        self, prompt: str, *, model: str | None = None, guidance_scale: float | None = None,
        negative_prompt: list[str] | None = None, num_frames: float | None = None,
        num_inference_steps: int | None = None, seed: int | None = None,
        extra_body: dict[str, Any] | None = None,
        **unexpected: NoReturn,
    ) -> bytes:
        """Make a video of `prompt`: its bytes. hf-inference has no such task: `model` (or
        the client's `base_url`) must be the URL of a server that serves it."""
        return self._run(_flow(self, "text_to_video", prompt, model, locals(), extra=extra_body))

    def visual_question_answering(
        self, image: ContentInput, question: str, *, model: str | None = None,
        top_k: int | None = None,
        **unexpected: NoReturn,
    ) -> list[VisualQuestionAnsweringOutputElement]:
        """Answer `question` about an image: answers with scores, best first."""
        return self._run(_flow(self, "visual_question_answering",
                               {"image": as_content(image, "image"), "question": question},
                               model, locals()))

    def zero_shot_image_classification(
        self, image: ContentInput, candidate_labels: list[str], *, model: str | None = None,
        hypothesis_template: str | None = None,
        **unexpected: NoReturn,
    ) -> list[ZeroShotImageClassificationOutputElement]:
        """Classify an image into `candidate_labels` (at least two): every label with its
        score, best first."""
        return self._run(_flow(self, "zero_shot_image_classification",
                               as_content(image, "image"), model, locals()))
