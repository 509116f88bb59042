"""inferwire's pure core: request builders, flows and stream parsers, with no I/O.

Nothing here opens a socket, reads a clock, draws randomness or touches the environment; it
imports only the standard library. Use it to drive inference calls from any event loop or HTTP
stack (see docs/design.md):

- value types: `Request`, `Response`, `ResponseHead`;
- flows and effects: `chat_completion`, `text_generation`, `feature_extraction`,
  `health_check`, `get_endpoint_info` build flows that yield `Send`, `Open`, `Receive` and
  `Sleep`; `FlowRunner` steps them; `build_config` makes the `ClientConfig` they need;
- stream parsers: `SSEDecoder`, `ChatCompletionStreamDecoder`, `TextGenerationStreamDecoder`,
  `CompletionStreamDecoder`, `ToolCallAccumulator`;
- typed results (huggingface_hub's names) and the error tree. Every type name of
  ``huggingface_hub``'s inference types is here; besides the chat and text-generation results,
  they live in the generated `._types` modules, imported on first use (see `__getattr__`).
"""

from typing import TYPE_CHECKING, Any

from ._types import TYPE_MODULES as _TYPE_MODULES
from ._types import resolve as _resolve_type
from ._version import __version__

if TYPE_CHECKING:
    from ._chat_types import (
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
        parse_arguments_json,
        parse_chat_completion,
    )
    from ._config import (
        ClientConfig,
        Target,
        build_config,
        chat_completion_url,
    )
    from ._effects import (
        Done,
        Effect,
        Flow,
        FlowRunner,
        Open,
        Receive,
        Send,
        Sleep,
        StreamDecoder,
        Streaming,
    )
    from ._embeddings import (
        FloatArray,
        parse_hf_features,
        parse_openai_embeddings,
    )
    from ._errors import (
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
        http_status_error,
        in_stream_error,
        snippet,
    )
    from ._exchange import (
        Runtime,
        error_from_response,
        open_response,
        read_body,
        send_request,
    )
    from ._http import (
        Headers,
        Request,
        Response,
        ResponseHead,
        make_headers,
    )
    from ._legacy_types import (
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
    from ._retry import (
        RetryPolicy,
        parse_retry_after,
    )
    from ._sse import (
        ServerSentEvent,
        SSEDecoder,
        encode_event,
    )
    from ._streams import (
        ChatCompletionStreamDecoder,
        CompletionStreamDecoder,
        TextGenerationStreamDecoder,
        ToolCallAccumulator,
    )
    from ._tasks import (
        chat_completion,
        feature_extraction,
        get_endpoint_info,
        health_check,
        text_generation,
    )
    from ._textgen_types import (
        TextGenerationOutput,
        TextGenerationOutputBestOfSequence,
        TextGenerationOutputDetails,
        TextGenerationOutputFinishReason,
        TextGenerationOutputPrefillToken,
        TextGenerationOutputToken,
        TextGenerationStreamOutput,
        TextGenerationStreamOutputStreamDetails,
        TextGenerationStreamOutputToken,
        parse_completion_as_text_generation,
        parse_text_generation,
    )

# Everything is imported on first use (`__getattr__`): ``import inferwire.sansio`` stays cheap
# for code that needs a few names (a stream decoder in another HTTP stack).
_EXPORTS = {
    "._chat_types": (
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
        "parse_arguments_json",
        "parse_chat_completion",
    ),
    "._config": (
        "ClientConfig",
        "Target",
        "build_config",
        "chat_completion_url",
    ),
    "._effects": (
        "Done",
        "Effect",
        "Flow",
        "FlowRunner",
        "Open",
        "Receive",
        "Send",
        "Sleep",
        "StreamDecoder",
        "Streaming",
    ),
    "._embeddings": (
        "FloatArray",
        "parse_hf_features",
        "parse_openai_embeddings",
    ),
    "._errors": (
        "AuthenticationError",
        "BadRequestError",
        "ConnectError",
        "ConnectTimeoutError",
        "ContextLengthError",
        "EventTooLargeError",
        "GenerationError",
        "HTTPStatusError",
        "IncompleteGenerationError",
        "IncompleteStreamError",
        "InferenceError",
        "InferenceTimeoutError",
        "InferenceWarning",
        "JobCanceledError",
        "JobError",
        "JobFailedError",
        "JobTimeoutError",
        "InStreamError",
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
        "ServerError",
        "ServiceUnavailableError",
        "TLSError",
        "TransportError",
        "UnknownError",
        "UnprocessableEntityError",
        "UsageError",
        "UsageTypeError",
        "ValidationError",
        "http_status_error",
        "in_stream_error",
        "snippet",
    ),
    "._exchange": (
        "Runtime",
        "error_from_response",
        "open_response",
        "read_body",
        "send_request",
    ),
    "._http": (
        "Headers",
        "Request",
        "Response",
        "ResponseHead",
        "make_headers",
    ),
    "._retry": (
        "RetryPolicy",
        "parse_retry_after",
    ),
    "._sse": (
        "ServerSentEvent",
        "SSEDecoder",
        "encode_event",
    ),
    "._streams": (
        "ChatCompletionStreamDecoder",
        "CompletionStreamDecoder",
        "TextGenerationStreamDecoder",
        "ToolCallAccumulator",
    ),
    "._legacy_types": (
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
    ),
    "._tasks": (
        "chat_completion",
        "feature_extraction",
        "get_endpoint_info",
        "health_check",
        "text_generation",
    ),
    "._textgen_types": (
        "TextGenerationOutput",
        "TextGenerationOutputBestOfSequence",
        "TextGenerationOutputDetails",
        "TextGenerationOutputFinishReason",
        "TextGenerationOutputPrefillToken",
        "TextGenerationOutputToken",
        "TextGenerationStreamOutput",
        "TextGenerationStreamOutputStreamDetails",
        "TextGenerationStreamOutputToken",
        "parse_completion_as_text_generation",
        "parse_text_generation",
    ),
}

if TYPE_CHECKING:
    from ._types import _all
    from ._types._all import *  # noqa: F403

__all__ = [
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
    "ChatCompletionStreamDecoder",
    "ChatCompletionStreamOutput",
    "ChatCompletionStreamOutputChoice",
    "ChatCompletionStreamOutputDelta",
    "ChatCompletionStreamOutputDeltaToolCall",
    "ChatCompletionStreamOutputFunction",
    "ChatCompletionStreamOutputLogprob",
    "ChatCompletionStreamOutputLogprobs",
    "ChatCompletionStreamOutputTopLogprob",
    "ChatCompletionStreamOutputUsage",
    "ClientConfig",
    "CompletionStreamDecoder",
    "ConnectError",
    "ConnectTimeoutError",
    "ContextLengthError",
    "Done",
    "Effect",
    "EventTooLargeError",
    "FloatArray",
    "Flow",
    "FlowRunner",
    "GenerationError",
    "HTTPStatusError",
    "Headers",
    "InStreamError",
    "IncompleteGenerationError",
    "IncompleteStreamError",
    "InferenceError",
    "InferenceTimeoutError",
    "InferenceWarning",
    "JobCanceledError",
    "JobError",
    "JobFailedError",
    "JobTimeoutError",
    "MalformedResponseError",
    "NotFoundError",
    "TLSError",
    "ResponseTooLargeError",
    "RedirectError",
    "ProxyError",
    "OfflineModeError",
    "Open",
    "OverloadedError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "RateLimitError",
    "Receive",
    "RemoteProtocolError",
    "Request",
    "Response",
    "ResponseHead",
    "RetryPolicy",
    "Runtime",
    "SSEDecoder",
    "Send",
    "ServerError",
    "ServerSentEvent",
    "ServiceUnavailableError",
    "Sleep",
    "StreamDecoder",
    "Streaming",
    "Target",
    "TextGenerationOutput",
    "TextGenerationOutputBestOfSequence",
    "TextGenerationOutputDetails",
    "TextGenerationOutputFinishReason",
    "TextGenerationOutputPrefillToken",
    "TextGenerationOutputToken",
    "TextGenerationStreamDecoder",
    "TextGenerationStreamOutput",
    "TextGenerationStreamOutputStreamDetails",
    "TextGenerationStreamOutputToken",
    "ToolCallAccumulator",
    "TransportError",
    "UnknownError",
    "UnprocessableEntityError",
    "UsageError",
    "UsageTypeError",
    "ValidationError",
    "__version__",
    "build_config",
    "chat_completion",
    "chat_completion_url",
    "encode_event",
    "error_from_response",
    "feature_extraction",
    "get_endpoint_info",
    "health_check",
    "http_status_error",
    "in_stream_error",
    "make_headers",
    "open_response",
    "parse_arguments_json",
    "parse_chat_completion",
    "parse_completion_as_text_generation",
    "parse_hf_features",
    "parse_openai_embeddings",
    "parse_retry_after",
    "parse_text_generation",
    "read_body",
    "send_request",
    "snippet",
    "text_generation",
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
]

# The generated types (every other huggingface_hub type name), resolved by `__getattr__`.
if TYPE_CHECKING:
    __all__ += _all.__all__
else:
    __all__ += [name for name in _TYPE_MODULES if name not in __all__]

    _WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

    def __getattr__(name: str) -> Any:
        """A name of the core, imported on first use (then a plain module attribute)."""
        module = _WHERE.get(name)
        if module is not None:
            import importlib

            value = getattr(importlib.import_module(module, __name__), name)
        elif name in _TYPE_MODULES:
            value = _resolve_type(name)
        else:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
