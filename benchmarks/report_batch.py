"""The batch section's targets and tables (`bench_batch.py`), for `report.py`."""

from __future__ import annotations

from typing import Any

IW = "inferwire run_batch"
NAIVE = "naive gather + semaphore (hf_hub)"


def _f(x: float, digits: int = 2) -> str:
    return f"{x:,.{digits}f}"


def batch_targets(sec: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def add(what: str, goal: str, measured: float | None, ok: bool | None, note: str) -> None:
        out.append({"target": what, "goal": goal, "measured": measured, "met": ok, "note": note})

    th = sec["throttled"]
    ours, naive = th["rows"][IW], th["rows"][NAIVE]
    add(f"batch under an enforced rate ({th['n']:,} chat calls, {th['allowed_rate']:g} req/s)",
        "≥ 0.95 of the allowed rate, 0 lost", ours["of_allowed"],
        ours["of_allowed"] >= 0.95 and ours["lost"] == 0,
        f"{_f(ours['rate'], 1)} req/s, {ours['lost']} lost, {ours['throttled']} 429s; naive "
        f"loop {_f(naive['of_allowed'])} of the rate, {naive['lost']} lost, "
        f"{naive['throttled']} 429s")
    mem = sec["memory"]
    small, large = (mem["rows"][str(n)] for n in (mem["sizes"][0], mem["sizes"][-1]))
    add(f"batch peak memory, {mem['sizes'][0]:,} → {mem['sizes'][-1]:,} inputs",
        "flat (Δ peak RSS ≤ 2 MiB)", mem["growth_mib"], mem["growth_mib"] <= 2.0,
        f"peak RSS {_f(small['peak_kib'] / 1024, 1)} vs {_f(large['peak_kib'] / 1024, 1)} MiB")
    res = sec["resume"]
    add(f"kill -9 / resume ({res['kills']} kills, {res['n']:,} items)",
        "0 lost, 0 written twice", None, res["lost"] == 0 and res["written_twice"] == 0,
        f"{res['lost']} lost, {res['written_twice']} written twice, {res['requests']:,} "
        "requests")
    return out


def batch_markdown(sec: dict[str, Any]) -> str:
    th = sec["throttled"]
    rows = ["| contender | ok | lost | 429s | req/s | of allowed | client CPU s |",
            "|---|---|---|---|---|---|---|"]
    for name, row in th["rows"].items():
        rows.append(f"| {name} | {row['ok']:,} | {row['lost']} | {row['throttled']:,} | "
                    f"{_f(row['rate'], 1)} | {_f(row['of_allowed'])} | {_f(row['cpu_s'])} |")
    un = sec["unthrottled"]
    urows = ["| contender | concurrency | req/s | client CPU µs/req | × naive req/s | "  # noqa: RUF001
             "× naive CPU |", "|---|---|---|---|---|---|"]  # noqa: RUF001
    for name, row in un["rows"].items():
        urows.append(f"| {name.rsplit(' @', 1)[0]} | {row['concurrency']} | "
                     f"{_f(row['req_s'], 0)} | {_f(row['cpu_us_per_req'], 0)} | "
                     f"{_f(row['x_naive_req_s']) if 'x_naive_req_s' in row else ''} | "
                     f"{_f(row['x_naive_cpu']) if 'x_naive_cpu' in row else ''} |")
    mem = sec["memory"]
    mrows = ["| inputs | peak RSS MiB | wall s |", "|---|---|---|"]
    for n, row in mem["rows"].items():
        mrows.append(f"| {int(n):,} | {_f(row['peak_kib'] / 1024, 1)} | {_f(row['wall_s'])} |")
    res = sec["resume"]
    return (f"### Batch inference (`bench_batch.py`)\n\n"
            f"{th['n']:,} chat calls at concurrency {th['concurrency']} against a server that "
            f"allows {th['allowed_rate']:g} req/s (429 + `Retry-After: 1` beyond):\n\n"
            + "\n".join(rows)
            + f"\n\nUnthrottled, {un['n']:,} calls against `server.py` (best of "
            f"{un['rounds']}):\n\n" + "\n".join(urows)
            + "\n\nPeak memory over lazily generated inputs (an in-process method: the batch "
            "bookkeeping alone):\n\n" + "\n".join(mrows)
            + f"\n\nkill -9 / resume: {res['kills']} kills of `inferwire batch` over "
            f"{res['n']:,} items, then a run to the end: {res['lost']} lost, "
            f"{res['written_twice']} written twice.")
