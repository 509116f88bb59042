"""`InferenceApi`, the old huggingface_hub class (sync only, as it was), over today's client.

It looks the model's pipeline tag up on the Hub (once per client; an explicit `task` is
checked against the old known tasks) and each call runs the matching `InferenceClient` task
method through today's routing, returning what the old class returned: plain dicts and lists
for JSON tasks, a ``PIL.Image`` for images, bytes for audio.
"""

from __future__ import annotations

import warnings
from typing import Any

from ._sync import InferenceClient
from .sansio import _legacy
from .sansio._effects import Flow
from .sansio._errors import UsageTypeError
from .sansio._exchange import error_from_response
from .sansio._http import Response
from .sansio._models import load_json_body

__all__ = ["InferenceApi", "RawResponse"]


class RawResponse:
    """What ``InferenceApi(...)(..., raw_response=True)`` returns: the response, read the way
    old code read the ``requests.Response`` it got (`status_code`, `headers`, `content`,
    `text`, `json()`, `ok`, `raise_for_status()`); `response` is inferwire's `Response`."""

    __slots__ = ("response",)

    def __init__(self, response: Response) -> None:
        self.response = response

    @property
    def status_code(self) -> int:
        """The HTTP status."""
        return self.response.status

    @property
    def ok(self) -> bool:
        """Whether the status is below 400."""
        return self.response.status < 400

    @property
    def headers(self) -> dict[str, str]:
        """The response headers (lower-case names)."""
        return dict(self.response.headers)

    @property
    def content(self) -> bytes:
        """The body's bytes."""
        return self.response.body

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (invalid bytes replaced)."""
        return self.response.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body parsed as JSON (`MalformedResponseError` if it is not)."""
        return load_json_body(self.response.body, "the raw response")

    def raise_for_status(self) -> None:
        """Raise the `HTTPStatusError` of an error status."""
        if self.response.status >= 400:
            raise error_from_response(self.response.head, self.response.body)

    def __repr__(self) -> str:
        return f"<RawResponse [{self.status_code}]>"


class _Captured(Exception):  # noqa: N818 - not an error: carries the raw response out
    def __init__(self, response: Response) -> None:
        super().__init__(response)
        self.response = response


class _Client(InferenceClient):
    """The client of an `InferenceApi`: with `capture` set, a call ends with `_Captured`
    carrying its raw response (before the method turns the result into its type)."""

    capture = False

    def _run(self, flow: Flow[Any]) -> Any:
        if not self.capture:
            return super()._run(flow)
        raise _Captured(super()._run(_legacy.capturing(flow)))


class InferenceApi:
    """The old ``huggingface_hub.inference_api.InferenceApi`` (deprecated: use
    `InferenceClient` and its task methods).

    ``InferenceApi(repo_id)(inputs, params)`` runs the model's task; ``params`` become the
    task method's keyword arguments; dict ``inputs`` carry the task's parts (``question`` and
    ``context``, ``table`` and ``query``, ``source_sentence`` and ``sentences``, ``text``,
    ``generated_responses`` and ``past_user_inputs``). `gpu` is kept in ``options`` only
    (today's services choose the hardware). Call `close` (or use ``with``) to release the
    client's connections.
    """

    def __init__(self, repo_id: str, task: str | None = None, token: str | None = None,
                 gpu: bool = False) -> None:
        warnings.warn(_legacy.MODERN["InferenceApi"], DeprecationWarning, stacklevel=2)
        if not isinstance(repo_id, str) or not repo_id:
            raise UsageTypeError("InferenceApi(): repo_id must be a model id",
                                 argument="repo_id")
        self.repo_id = repo_id
        self.options: dict[str, Any] = {"wait_for_model": True, "use_gpu": gpu}
        self._client = _Client(token=token)
        try:
            tag = self._client._run(_legacy.pipeline_tag(self._client._config, repo_id))
            self.task: str = _legacy.inference_api_task(repo_id, task, tag)
        except BaseException:
            self._client.close()
            raise

    def __repr__(self) -> str:
        return f"InferenceApi(repo_id={self.repo_id!r}, task={self.task!r}, options={self.options})"

    def __call__(self, inputs: Any = None, params: dict[str, Any] | None = None,
                 data: bytes | None = None, raw_response: bool = False) -> Any:
        """Run the model's task on `inputs` (or `data` bytes) with `params`.

        With ``raw_response=True``, the call's last response as a `RawResponse` (read like
        the ``requests.Response`` of old: ``status_code``, ``content``, ``json()``...), an
        error status included, as the old class returned it unparsed.
        """
        method, args, kwargs = _legacy.inference_api_call(self.task, inputs, params, data)
        if raw_response:
            self._client.capture = True
            try:
                self._dispatch(method, args, kwargs)
            except _Captured as captured:
                return RawResponse(captured.response)
            finally:
                self._client.capture = False
        return _legacy.old_json(self.task, self._dispatch(method, args, kwargs))

    def _dispatch(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if method == "conversational":  # the flow itself: one warning (this class's) only
            flow = _legacy.conversational(self._client._config, *args,
                                          parameters=kwargs or None, model=self.repo_id)
            return self._client._run(flow)
        return getattr(self._client, method)(*args, model=self.repo_id, **kwargs)

    def close(self) -> None:
        """Close the underlying client."""
        self._client.close()

    def __enter__(self) -> InferenceApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
