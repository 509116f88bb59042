"""The checks the old ``huggingface_hub`` ``TextGenerationParameters`` model made, shared by
`TextGenerationParameters` and ``text_generation()``'s keyword arguments."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._errors import UsageError, UsageTypeError

__all__ = ["check_text_generation_parameters"]


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_text_generation_parameters(
    params: Mapping[str, Any], *, stream: bool = False, where: str = "text_generation()",
    zero_temperature: bool = False,
) -> None:
    """Check text generation parameters as the old ``TextGenerationParameters`` model did.

    Raises `UsageError` naming the first wrong field: ``best_of``, ``repetition_penalty``,
    ``temperature``, ``top_k``, ``truncate`` and ``top_n_tokens`` must be > 0, ``seed`` >= 0,
    ``top_p`` and ``typical_p`` strictly between 0 and 1; ``best_of`` > 1 needs sampling
    (``do_sample`` or a sampling parameter), no ``seed`` and no streaming. ``None`` means
    unset. A number of the wrong type is a `UsageTypeError`. With `zero_temperature`,
    ``temperature=0`` passes (for OpenAI-style servers, which take it as greedy decoding).
    """
    def number(name: str) -> Any:
        value = params.get(name)
        if value is not None and not _is_number(value):
            raise UsageTypeError(
                f"{where}: {name} must be a number, got {type(value).__name__}", argument=name
            )
        return value

    for name in ("best_of", "repetition_penalty", "temperature", "top_k", "truncate",
                 "top_n_tokens"):
        value = number(name)
        if zero_temperature and name == "temperature" and value == 0:
            continue
        if value is not None and value <= 0:
            raise UsageError(f"{where}: {name} must be > 0, got {value!r}", argument=name)
    seed = number("seed")
    if seed is not None and seed < 0:
        raise UsageError(f"{where}: seed must be >= 0, got {seed!r}", argument="seed")
    for name in ("top_p", "typical_p"):
        value = number(name)
        if value is not None and not 0 < value < 1:
            raise UsageError(
                f"{where}: {name} must be > 0 and < 1, got {value!r}", argument=name
            )
    best_of = params.get("best_of")
    if best_of is not None and best_of > 1:
        sampling = bool(params.get("do_sample")) or any(
            params.get(name) is not None for name in ("temperature", "top_k", "top_p", "typical_p")
        )
        if not sampling:
            raise UsageError(
                f"{where}: best_of > 1 needs sampling (do_sample=True or temperature, top_k, "
                "top_p or typical_p)",
                argument="best_of",
            )
        if seed is not None:
            raise UsageError(f"{where}: seed cannot be set when best_of > 1", argument="seed")
        if stream:
            raise UsageError(f"{where}: best_of > 1 cannot be streamed", argument="best_of")
