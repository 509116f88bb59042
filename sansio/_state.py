"""What a client learns while it runs, kept in the client (never in the process).

The core has no global state: a client owns one `ClientState` and its flows read and update
it. Everything here is a cache of facts a server told us, so losing it only costs requests.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ClientState"]


class ClientState:
    """Per-client memory shared by the client's flows.

    - `provider_mappings`: per model id, which providers serve it and under which id.
    - `pipeline_tags`: per model id, the Hub's ``pipeline_tag`` (None: the Hub has none).
    - `unsupported_parameters`: per URL, the text-generation parameters a server refused
      (the HF Inference Toolkit's "model_kwargs are not used" 400): later calls leave them out.
    """

    __slots__ = ("pipeline_tags", "provider_mappings", "unsupported_parameters")

    def __init__(self) -> None:
        self.unsupported_parameters: dict[str, frozenset[str]] = {}
        #: per model id, the Hub's provider mapping (`inferwire.sansio._routing`)
        self.provider_mappings: dict[str, Any] = {}
        #: per model id, the Hub's pipeline tag (`inferwire.sansio._legacy`)
        self.pipeline_tags: dict[str, str | None] = {}

    def refuse(self, url: str, names: frozenset[str]) -> None:
        """Remember that the server at `url` refuses the parameters `names`."""
        self.unsupported_parameters[url] = self.unsupported_parameters.get(url, frozenset()) | names

    def refused(self, url: str) -> frozenset[str]:
        """The parameters the server at `url` is known to refuse."""
        return self.unsupported_parameters.get(url, frozenset())

    def __repr__(self) -> str:
        return f"<ClientState {len(self.unsupported_parameters)} URLs with refused parameters>"
