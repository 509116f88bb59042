"""The type names of older ``huggingface_hub`` releases (0.19 to 0.2x), for code written then.

Where a modern type is the same thing, the old name *is* that type (an alias), so results
of today's methods are instances of the old names and the other way round:

* ``TextGenerationResponse`` is `TextGenerationOutput`, ``TextGenerationStreamResponse`` is
  `TextGenerationStreamOutput`, ``InputToken`` is `TextGenerationOutputPrefillToken`,
  ``Token`` is `TextGenerationOutputToken`, ``BestOfSequence`` is
  `TextGenerationOutputBestOfSequence`, ``Details`` is `TextGenerationOutputDetails`,
  ``StreamDetails`` is `TextGenerationStreamOutputStreamDetails`;
* ``ClassificationOutput`` is `TextClassificationOutputElement` (``label``, ``score``: the old
  name also stood for the image and audio classification elements, which have the same two
  fields); ``TokenClassificationOutput`` is `TokenClassificationOutputElement`;
  ``ImageSegmentationOutput`` is `ImageSegmentationOutputElement`.

The rest have no modern equivalent and are small types here: `FinishReason` (the old
``str`` enum), `ConversationalOutput` and `ConversationalOutputConversation` (results of
``conversational()``), `ModelStatus` (of ``get_model_status()``) and
`TextGenerationParameters`, which validates its fields as the old pydantic model did
(`check_text_generation_parameters` applies the same checks to ``text_generation``'s keyword
arguments).
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any

from ._models import Model, child
from ._textgen_checks import check_text_generation_parameters
from ._textgen_types import (
    TextGenerationOutput,
    TextGenerationOutputBestOfSequence,
    TextGenerationOutputDetails,
    TextGenerationOutputPrefillToken,
    TextGenerationOutputToken,
    TextGenerationStreamOutput,
    TextGenerationStreamOutputStreamDetails,
)
from ._types.image_segmentation import ImageSegmentationOutputElement
from ._types.text_classification import TextClassificationOutputElement
from ._types.token_classification import TokenClassificationOutputElement

if TYPE_CHECKING:
    from dataclasses import dataclass, field
else:
    from ._record import dataclass, field

__all__ = [
    "BestOfSequence",
    "ClassificationOutput",
    "ConversationalOutput",
    "ConversationalOutputConversation",
    "Details",
    "FinishReason",
    "ImageSegmentationOutput",
    "InputToken",
    "ModelStatus",
    "StreamDetails",
    "TextGenerationParameters",
    "TextGenerationResponse",
    "TextGenerationStreamResponse",
    "Token",
    "TokenClassificationOutput",
    "check_text_generation_parameters",
]

TextGenerationResponse = TextGenerationOutput
TextGenerationStreamResponse = TextGenerationStreamOutput
InputToken = TextGenerationOutputPrefillToken
Token = TextGenerationOutputToken
BestOfSequence = TextGenerationOutputBestOfSequence
Details = TextGenerationOutputDetails
StreamDetails = TextGenerationStreamOutputStreamDetails
ClassificationOutput = TextClassificationOutputElement
TokenClassificationOutput = TokenClassificationOutputElement
ImageSegmentationOutput = ImageSegmentationOutputElement


class FinishReason(str, Enum):
    """Why a generation stopped (the old enum; results hold the plain strings, which compare
    equal to its members)."""

    Length = "length"
    EndOfSequenceToken = "eos_token"
    StopSequence = "stop_sequence"


class ConversationalOutputConversation(Model):
    """The conversation so far: the user's inputs and the model's responses, oldest first."""

    __slots__ = ()

    generated_responses: list[str]
    past_user_inputs: list[str]


class ConversationalOutput(Model):
    """The result of ``conversational()``: the new response, the conversation including it,
    and warnings (always empty here)."""

    __slots__ = ()

    conversation: ConversationalOutputConversation = child(
        ConversationalOutputConversation, required=True
    )
    generated_text: str
    warnings: list[str]


@dataclass(frozen=True, slots=True)
class ModelStatus:
    """A model's status as ``get_model_status()`` reports it (see docs/migrating.md for how
    today's Hub answer maps to these fields)."""

    loaded: bool
    state: str
    compute_type: Any
    framework: str


@dataclass(frozen=True, slots=True)
class TextGenerationParameters:
    """The parameters of a text generation, as the old ``huggingface_hub`` model had them.

    Built with keyword arguments; invalid values raise `UsageError` naming the field (see
    `check_text_generation_parameters`). Pass them on with
    ``client.text_generation(prompt, **params.to_dict())``.
    """

    do_sample: bool = False
    max_new_tokens: int = 20
    repetition_penalty: float | None = None
    return_full_text: bool = False
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    temperature: float | None = None
    top_k: int | None = None
    top_p: float | None = None
    truncate: int | None = None
    typical_p: float | None = None
    best_of: int | None = None
    watermark: bool = False
    details: bool = False
    decoder_input_details: bool = False
    top_n_tokens: int | None = None

    def __post_init__(self) -> None:
        check_text_generation_parameters(self.to_dict(), where="TextGenerationParameters")

    def to_dict(self) -> dict[str, Any]:
        """The fields as keyword arguments (``stop`` as a new list)."""
        return {
            "do_sample": self.do_sample, "max_new_tokens": self.max_new_tokens,
            "repetition_penalty": self.repetition_penalty,
            "return_full_text": self.return_full_text, "stop": list(self.stop),
            "seed": self.seed, "temperature": self.temperature, "top_k": self.top_k,
            "top_p": self.top_p, "truncate": self.truncate, "typical_p": self.typical_p,
            "best_of": self.best_of, "watermark": self.watermark, "details": self.details,
            "decoder_input_details": self.decoder_input_details,
            "top_n_tokens": self.top_n_tokens,
        }
