"""The older huggingface_hub methods of `InferenceClient`, kept for code written then:
`conversational`, `get_model_status`, `list_deployed_models`, with their old signatures.

Each warns once per call site (a `DeprecationWarning` naming the modern call) and runs a flow
of `inferwire.sansio._legacy` over today's services. `AsyncInferenceClient` gets the same
methods from `_async_legacy.py`, derived from this file by ``python tools/gen_async_tasks.py``.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from .sansio import _legacy

if TYPE_CHECKING:
    from .sansio._effects import Flow
    from .sansio._legacy_types import ConversationalOutput, ModelStatus

__all__ = ["SyncLegacyMethods"]


class SyncLegacyMethods:
    """The older huggingface_hub methods of the sync client (mixed into `InferenceClient`)."""

    __slots__ = ()

    if TYPE_CHECKING:
        from .sansio._config import ClientConfig

        _config: ClientConfig

        def _run(self, flow: Flow[Any]) -> Any: ...

    def conversational(
        self,
        text: str,
        generated_responses: list[str] | None = None,
        past_user_inputs: list[str] | None = None,
        *,
        parameters: dict[str, Any] | None = None,
        model: str | None = None,
    ) -> ConversationalOutput:
        """Answer `text` in a conversation (deprecated: use `chat_completion`).

        The past user inputs and generated responses become alternating user/assistant
        messages, `parameters` their chat equivalents (``max_length``/``max_new_tokens`` ->
        ``max_tokens``, ``temperature``, ``top_p``, ``seed``, ``stop``; others are a
        `UsageError`). Returns a `ConversationalOutput` with the new response appended.
        """
        warnings.warn(_legacy.MODERN["conversational"], DeprecationWarning, stacklevel=2)
        flow = _legacy.conversational(self._config, text, generated_responses,
                                      past_user_inputs, parameters=parameters, model=model)
        return self._run(flow)  # type: ignore[no-any-return]

    def get_model_status(self, model: str | None = None) -> ModelStatus:
        """The status of a Hub model (deprecated), from today's Hub model info: see
        docs/migrating.md for the mapping. A URL is a `UsageError`."""
        warnings.warn(_legacy.MODERN["get_model_status"], DeprecationWarning, stacklevel=2)
        return self._run(  # type: ignore[no-any-return]
            _legacy.get_model_status(self._config, model))

    def list_deployed_models(
        self, frameworks: str | list[str] | None = None
    ) -> dict[str, list[str]]:
        """``{task: [model id, ...]}`` of the models Inference Providers serve (deprecated),
        from a Hub search; `frameworks` (a ``library_name`` or a list of them, ``"all"`` or
        None for every model) filters them."""
        warnings.warn(_legacy.MODERN["list_deployed_models"], DeprecationWarning, stacklevel=2)
        return self._run(  # type: ignore[no-any-return]
            _legacy.list_deployed_models(self._config, frameworks))
