"""Shared fixtures. `tests/` is on sys.path (rootdir conftest), so helper modules import
directly. The real-server fixtures start llama.cpp (xllamacpp) once per session."""

from realserver import llama_auth_server, llama_chat_server, llama_embed_server

__all__ = ["llama_auth_server", "llama_chat_server", "llama_embed_server"]
