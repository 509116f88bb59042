"""inferwire: a sans-IO inference client for the Hugging Face ecosystem.

    from inferwire import InferenceClient, AsyncInferenceClient

`InferenceClient` runs on httpx; `AsyncInferenceClient` runs under asyncio or trio on h11
(`TrioInferenceClient` pins trio). The pure core is `inferwire.sansio`. Clients are imported
lazily, so ``import inferwire.sansio`` loads no HTTP library and the async client never loads
httpx. Every type name of ``huggingface_hub``'s inference types is exported; those not
imported above are generated modules of `inferwire.sansio`, imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .sansio._types import TYPE_MODULES as _TYPE_MODULES
from .sansio._version import __version__

if TYPE_CHECKING:
    from ._async import AsyncInferenceClient, AsyncStream, TrioInferenceClient
    from ._inference_api import InferenceApi
    from ._sync import InferenceClient, Stream
    from .sansio._chat_types import (
        ChatCompletionOutput,
        ChatCompletionOutputComplete,
        ChatCompletionOutputFunctionDefinition,
        ChatCompletionOutputLogprob,
        ChatCompletionOutputLogprobs,
        ChatCompletionOutputMessage,
        ChatCompletionOutputToolCall,
        ChatCompletionOutputTopLogprob,
        ChatCompletionOutputUsage,
        ChatCompletionStreamOutput,
        ChatCompletionStreamOutputChoice,
        ChatCompletionStreamOutputDelta,
        ChatCompletionStreamOutputDeltaToolCall,
        ChatCompletionStreamOutputFunction,
        ChatCompletionStreamOutputLogprob,
        ChatCompletionStreamOutputLogprobs,
        ChatCompletionStreamOutputTopLogprob,
        ChatCompletionStreamOutputUsage,
    )
    from .sansio._embeddings import FloatArray
    from .sansio._errors import (
        AuthenticationError,
        BadRequestError,
        ConnectError,
        ConnectTimeoutError,
        ContextLengthError,
        EventTooLargeError,
        GenerationError,
        HTTPStatusError,
        IncompleteGenerationError,
        IncompleteStreamError,
        InferenceError,
        InferenceTimeoutError,
        InferenceWarning,
        InStreamError,
        JobCanceledError,
        JobError,
        JobFailedError,
        JobTimeoutError,
        MalformedResponseError,
        NotFoundError,
        OfflineModeError,
        OverloadedError,
        PaymentRequiredError,
        PermissionDeniedError,
        ProxyError,
        RateLimitError,
        RedirectError,
        RemoteProtocolError,
        ResponseTooLargeError,
        ServerError,
        ServiceUnavailableError,
        TLSError,
        TransportError,
        UnknownError,
        UnprocessableEntityError,
        UsageError,
        UsageTypeError,
        ValidationError,
    )
    from .sansio._legacy_types import (
        BestOfSequence,
        ClassificationOutput,
        ConversationalOutput,
        ConversationalOutputConversation,
        Details,
        FinishReason,
        ImageSegmentationOutput,
        InputToken,
        ModelStatus,
        StreamDetails,
        TextGenerationParameters,
        TextGenerationResponse,
        TextGenerationStreamResponse,
        Token,
        TokenClassificationOutput,
    )
    from .sansio._retry import RetryPolicy
    from .sansio._textgen_types import (
        TextGenerationOutput,
        TextGenerationOutputBestOfSequence,
        TextGenerationOutputDetails,
        TextGenerationOutputFinishReason,
        TextGenerationOutputPrefillToken,
        TextGenerationOutputToken,
        TextGenerationStreamOutput,
        TextGenerationStreamOutputStreamDetails,
        TextGenerationStreamOutputToken,
    )
    from .sansio._types import _all
    from .sansio._types._all import *  # noqa: F403

__all__ = [
    "AsyncInferenceClient",
    "AsyncStream",
    "AuthenticationError",
    "BadRequestError",
    "ChatCompletionOutput",
    "ChatCompletionOutputComplete",
    "ChatCompletionOutputFunctionDefinition",
    "ChatCompletionOutputLogprob",
    "ChatCompletionOutputLogprobs",
    "ChatCompletionOutputMessage",
    "ChatCompletionOutputToolCall",
    "ChatCompletionOutputTopLogprob",
    "ChatCompletionOutputUsage",
    "ChatCompletionStreamOutput",
    "ChatCompletionStreamOutputChoice",
    "ChatCompletionStreamOutputDelta",
    "ChatCompletionStreamOutputDeltaToolCall",
    "ChatCompletionStreamOutputFunction",
    "ChatCompletionStreamOutputLogprob",
    "ChatCompletionStreamOutputLogprobs",
    "ChatCompletionStreamOutputTopLogprob",
    "ChatCompletionStreamOutputUsage",
    "ConnectError",
    "ConnectTimeoutError",
    "ContextLengthError",
    "EventTooLargeError",
    "FloatArray",
    "GenerationError",
    "HTTPStatusError",
    "InStreamError",
    "IncompleteGenerationError",
    "IncompleteStreamError",
    "InferenceClient",
    "InferenceError",
    "InferenceTimeoutError",
    "InferenceWarning",
    "JobCanceledError",
    "JobError",
    "JobFailedError",
    "JobTimeoutError",
    "MalformedResponseError",
    "NotFoundError",
    "OfflineModeError",
    "OverloadedError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "ProxyError",
    "RateLimitError",
    "RedirectError",
    "RemoteProtocolError",
    "ResponseTooLargeError",
    "RetryPolicy",
    "ServerError",
    "ServiceUnavailableError",
    "Stream",
    "TLSError",
    "TextGenerationOutput",
    "TextGenerationOutputBestOfSequence",
    "TextGenerationOutputDetails",
    "TextGenerationOutputFinishReason",
    "TextGenerationOutputPrefillToken",
    "TextGenerationOutputToken",
    "TextGenerationStreamOutput",
    "TextGenerationStreamOutputStreamDetails",
    "TextGenerationStreamOutputToken",
    "TransportError",
    "TrioInferenceClient",
    "UnknownError",
    "UnprocessableEntityError",
    "UsageError",
    "UsageTypeError",
    "ValidationError",
    "__version__",
]

# The older huggingface_hub type names (docs/migrating.md).
__all__ += [
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
    "InferenceApi",
]

# The generated types (every other huggingface_hub type name), resolved by `__getattr__`.
if TYPE_CHECKING:
    __all__ += _all.__all__
else:
    __all__ += [name for name in _TYPE_MODULES if name not in __all__]

# Everything is imported on first use, so that ``import inferwire.sansio`` (which runs this
# file first) stays cheap: the clients from their modules, every other name from
# `inferwire.sansio`, which knows where each of its names lives.
_CLIENTS = {
    "InferenceClient": "._sync",
    "Stream": "._sync",
    "AsyncInferenceClient": "._async",
    "AsyncStream": "._async",
    "TrioInferenceClient": "._async",
    "InferenceApi": "._inference_api",
}


def __getattr__(name: str) -> Any:
    import importlib

    module_name = _CLIENTS.get(name)
    if module_name in ("._sync", "._inference_api") and __import__("sys").platform == "emscripten":
        if name == "InferenceApi":
            from ._fetch import sync_unavailable

            raise sync_unavailable(name)
        module_name = "._pyodide_sync"  # the sync client over JSPI (refused where it cannot)
    if module_name is not None:
        value = getattr(importlib.import_module(module_name, __name__), name)
    elif name in __all__:
        value = getattr(importlib.import_module(".sansio", __name__), name)
    else:
        raise AttributeError(f"module 'inferwire' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
