"""Deterministic stream corpora for the parsing benchmarks (seed 0).

Two stream shapes, as servers send them:

* **chat**: an OpenAI chat-completion SSE stream: a role chunk, one content chunk per token,
  a finish chunk, a usage-only chunk and ``data: [DONE]``. Compact JSON with raw UTF-8, each
  chunk with ``system_fingerprint`` and ``"usage":null`` as TGI / vLLM send them (~294 bytes
  per event).
* **tgi**: a TGI ``/generate_stream`` stream: ``data:{...}`` without a space, one event per
  token (~135 bytes per event), the last one with ``generated_text`` and ``details``.

Framing variants (the same events, framed differently): ``lf`` (plain), ``crlf``, ``cr``,
``keepalive`` (a ``: keep-alive`` comment block every 10 events), ``event`` (an ``event:
message`` line in every event), ``multiline`` (each JSON split over several ``data:`` lines),
``idkeepalive`` (``id:`` lines, and an ``id:`` + comment-only block that must not dispatch),
``mixed`` (all of the above, CRLF) and ``u2028`` (tokens holding raw U+2028 / U+0085, which
must not split lines).

Chunkings: ``random`` (random 1-4 KiB boundaries, which split UTF-8 sequences and CRLF
pairs) and ``event`` (one chunk per event).

`Corpus.payloads` are the JSON texts of the events (what ``json.loads`` gets in the floor),
`Corpus.text` the concatenated token text. Reused by the peer benchmark: keep it standalone
(standard library only) and deterministic.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["CHUNKINGS", "VARIANTS", "Corpus", "build", "chat_corpus", "chunk", "tgi_corpus"]

VARIANTS = ("lf", "crlf", "cr", "keepalive", "event", "multiline", "idkeepalive", "mixed", "u2028")
CHUNKINGS = ("random", "event")

_WORDS = (
    " the",
    " of",
    " and",
    " to",
    " in",
    " is",
    " that",
    " for",
    " it",
    " as",
    " with",
    " on",
    " model",
    " token",
    " stream",
    " infer",
    "ence",
    " Hugging",
    " Face",
    " server",
    " data",
    ",",
    ".",
    "\n",
    "\n\n",
    " (",
    ")",
    ":",
    ' "',
    '"',
    " '",
    "-",
    " 42",
    " 3.14",
    " café",
    " naïve",
    " über",
    " señor",
    " déjà",
    " Ωmega",
    " λ",
    " 東京",
    " 日本語",
    " 한국어",
    " Привет",
    " مرحبا",
    " 🤗",
    " 🚀",
    " ✓",
    " —",
    " …",
    " ½",
    "\t",
    " \\",
    " /",
    " {",
    "}",
)
_SEPARATORS = ("\u2028", "\u0085", "\u2029")


def _dumps(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _dumps_lines(obj: object) -> str:
    # indent=0 puts every member and item on a line of its own: JSON whitespace only, so the
    # data lines joined with "\n" are the payload itself.
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), indent=0)


def _dumper(variant: str) -> Callable[[object], str]:
    return _dumps_lines if variant in ("multiline", "mixed") else _dumps


@dataclass
class Corpus:
    """One stream: its events' wire bytes, their JSON payloads and the expected text."""

    name: str
    kind: str  # "chat" or "tgi"
    variant: str
    events: list[bytes]  # wire form of each event (with its blank line), framing included
    payloads: list[str]  # JSON text of each data event, in order (no [DONE])
    text: str  # the concatenated token text
    n_tokens: int
    _body: bytes | None = field(default=None, repr=False)

    @property
    def body(self) -> bytes:
        if self._body is None:
            self._body = b"".join(self.events)
        return self._body

    @property
    def n_events(self) -> int:
        return len(self.payloads)

    def chunks(self, chunking: str, seed: int = 0) -> list[bytes]:
        return chunk(self, chunking, seed)


def _tokens(n: int, rng: random.Random, variant: str) -> list[str]:
    tokens = [rng.choice(_WORDS) for _ in range(n)]
    if variant in ("u2028", "mixed"):
        for i in range(0, n, 7):
            tokens[i] = tokens[i] + rng.choice(_SEPARATORS)
    return tokens


def _frame(payload: str, i: int, variant: str, data_prefix: str) -> str:
    """The SSE lines of one event (LF line ends; CR/CRLF applied afterwards)."""
    if variant in ("multiline", "mixed"):
        # The payload was dumped with a line per member (`_dumps_lines`): one data line each.
        data = "".join(f"{data_prefix}{p}\n" for p in payload.split("\n"))
    else:
        data = f"{data_prefix}{payload}\n"
    head = ""
    if variant in ("event", "mixed"):
        head += "event: message\n"
    if variant in ("idkeepalive", "mixed"):
        head += f"id: {i}\n"
    out = head + data + "\n"
    if variant in ("keepalive", "mixed") and i % 10 == 9:
        out += ": keep-alive\n\n"
    if variant in ("idkeepalive", "mixed") and i % 10 == 4:
        # An id followed by a comment-only block: nothing may be dispatched.
        out += f"id: k{i}\n: ping\n\n"
    return out


def _line_ends(text: str, variant: str) -> bytes:
    if variant in ("crlf", "mixed"):
        text = text.replace("\n", "\r\n")
    elif variant == "cr":
        text = text.replace("\n", "\r")
    return text.encode("utf-8")


def chat_corpus(n_tokens: int = 20_000, variant: str = "lf", seed: int = 0) -> Corpus:
    """An OpenAI chat-completion stream of `n_tokens` content chunks."""
    rng = random.Random(seed)
    tokens = _tokens(n_tokens, rng, variant)
    base = {
        "id": "chatcmpl-A1b2C3d4E5f6G7h8",
        "object": "chat.completion.chunk",
        "created": 1732230000,
        "model": "meta-llama/Llama-3.1-8B-Instruct",
        "system_fingerprint": "fp_7a1f3e9",
    }
    payloads = []
    dumps = _dumper(variant)

    def chunk_json(delta: dict, finish: str | None, logprobs: None = None) -> str:
        obj = dict(base)
        obj["choices"] = [
            {"index": 0, "delta": delta, "logprobs": logprobs, "finish_reason": finish}
        ]
        obj["usage"] = None
        return dumps(obj)

    payloads.append(chunk_json({"role": "assistant", "content": ""}, None))
    payloads.extend(chunk_json({"role": "assistant", "content": t}, None) for t in tokens)
    payloads.append(chunk_json({}, "length"))
    usage = dict(base)
    usage["choices"] = []
    usage["usage"] = {
        "prompt_tokens": 37,
        "completion_tokens": n_tokens,
        "total_tokens": 37 + n_tokens,
    }
    payloads.append(dumps(usage))
    events = [_line_ends(_frame(p, i, variant, "data: "), variant) for i, p in enumerate(payloads)]
    events.append(_line_ends("data: [DONE]\n\n", variant))
    return Corpus(f"chat/{variant}", "chat", variant, events, payloads, "".join(tokens), n_tokens)


def tgi_corpus(n_tokens: int = 20_000, variant: str = "lf", seed: int = 0) -> Corpus:
    """A TGI /generate_stream stream of `n_tokens` events (details on the last one)."""
    rng = random.Random(seed)
    tokens = _tokens(n_tokens, rng, variant)
    payloads = []
    dumps = _dumper(variant)
    for i, text in enumerate(tokens, start=1):
        event = {
            "index": i,
            "token": {
                "id": rng.randrange(100, 128_000),
                "text": text,
                "logprob": round(-rng.random() * 4, 7),
                "special": False,
            },
            "generated_text": None,
            "details": None,
        }
        if i == n_tokens:
            event["generated_text"] = "".join(tokens)
            event["details"] = {
                "finish_reason": "length",
                "generated_tokens": n_tokens,
                "input_length": 12,
                "seed": None,
            }
        payloads.append(dumps(event))
    events = [_line_ends(_frame(p, i, variant, "data:"), variant) for i, p in enumerate(payloads)]
    return Corpus(f"tgi/{variant}", "tgi", variant, events, payloads, "".join(tokens), n_tokens)


def chunk(corpus: Corpus, chunking: str, seed: int = 0) -> list[bytes]:
    """Split the stream's body: ``random`` 1-4 KiB pieces or one piece per ``event``."""
    if chunking == "event":
        return list(corpus.events)
    if chunking != "random":
        raise ValueError(f"unknown chunking {chunking!r}")
    body = corpus.body
    rng = random.Random(seed)
    out = []
    pos = 0
    while pos < len(body):
        size = rng.randint(1024, 4096)
        out.append(body[pos : pos + size])
        pos += size
    return out


def build(kind: str, n_tokens: int = 20_000, variant: str = "lf", seed: int = 0) -> Corpus:
    """`chat_corpus` or `tgi_corpus` by name."""
    if kind == "chat":
        return chat_corpus(n_tokens, variant, seed)
    if kind == "tgi":
        return tgi_corpus(n_tokens, variant, seed)
    raise ValueError(f"unknown corpus kind {kind!r}")


if __name__ == "__main__":
    for kind in ("chat", "tgi"):
        c = build(kind)
        print(
            f"{c.name}: {c.n_events} events, {len(c.body):,} bytes, "
            f"{len(c.body) / len(c.events):.0f} B/event, "
            f"{len(c.chunks('random'))} random chunks"
        )
