"""Write the public surface of huggingface_hub's InferenceClient (member names, and for each
method its parameters: name, kind, default) to tests/data/hf_client_signatures.json.

The file is checked in, so that the tests compare inferwire's clients with huggingface_hub
2.4.0's without importing it: ``python tools/dump_hf_signatures.py`` (needs the bench extra).
"""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "hf_client_signatures.json"


def main() -> int:
    import huggingface_hub

    surface: dict[str, object] = {"huggingface_hub": huggingface_hub.__version__, "members": {}}
    members: dict[str, object] = {}
    for cls in (huggingface_hub.InferenceClient, huggingface_hub.AsyncInferenceClient):
        for name, member in inspect.getmembers(cls):
            if name.startswith("_"):
                continue
            if isinstance(inspect.getattr_static(cls, name), property):
                members.setdefault(name, {"property": True})
                continue
            params = [
                {"name": p.name, "kind": p.kind.name,
                 "default": None if p.default is inspect.Parameter.empty else repr(p.default),
                 "required": p.default is inspect.Parameter.empty}
                for p in inspect.signature(member).parameters.values()
                if p.name != "self"
            ]
            members.setdefault(name, {"parameters": params})
    surface["members"] = dict(sorted(members.items()))
    OUT.write_text(json.dumps(surface, indent=1) + "\n")
    print(f"{OUT}: {len(members)} members")
    return 0


if __name__ == "__main__":
    sys.exit(main())
