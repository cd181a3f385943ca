"""End-to-end latency over HTTP per route, per-stage times from the reply trace, and the template path's limit.

Two real `lepton serve` processes on copies of a trained demo home:
  A: generator.backend = "local" (the bundled generator, even on a CPU): template path, and the generation path streamed over SSE
     (time to the first `token` event and to the `final` event);
  B: generator.backend = "none" (LEPTON_GENERATOR__BACKEND=none): the retrieval path without generation
     (retrieval + extractive answer), sequential requests (p50/p95) and streamed (time to the first `token`).
Stage times come from GET /v1/admin/turns/{id} (admin key made with `lepton keys create --kind admin`).

The template path's physical limit is measured in this process on the same models: the bare calls that the
route makes (one intent-classifier forward pass as `IntentClassifier.predict` does it, plus the SQLite template
lookup); the embedder forward pass and one Chroma query (what a retrieval turn adds) are measured too and
reported as a second, looser limit. `ratio` = HTTP p95 / limit p95 (goal <= 1.3).

    python benchmarks/latency.py [--home DIR] [--runs 3] [--requests 40] [--gen-requests 6] [--first-sight-only]

`first_sight`: the first 10 distinct retrieval questions on the fresh server B, before any other request.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    RAG_MESSAGES,
    TEMPLATE_MESSAGES,
    admin_key,
    base_args,
    bench_home,
    copy_home,
    emit,
    log,
    machine,
    serve,
    summary,
)


def _post(client, message: str) -> tuple[float, dict]:
    t = time.perf_counter()
    r = client.post("/v1/chat", json={"message": message, "session_id": None})
    ms = (time.perf_counter() - t) * 1000
    r.raise_for_status()
    return ms, r.json()


def http_route(url: str, key: str, messages: list[str], route: str, n: int, runs: int) -> dict:
    """p50/p95 end to end of `n` sequential requests, `runs` times (medians across runs), plus stage medians."""
    import httpx

    per_run = []
    ids: list[str] = []
    mismatch = 0
    with httpx.Client(base_url=url, timeout=120) as client:
        for m in messages:  # warm every message once (tokenizer caches, SQLite pages)
            _post(client, m)
        for _ in range(runs):
            times = []
            for i in range(n):
                ms, body = _post(client, messages[i % len(messages)])
                times.append(ms)
                ids.append(body["message_id"])
                mismatch += body["route"] != route
            per_run.append(summary(times))
        stages = stage_medians(client, key, ids)
    return {
        "p50_ms": round(statistics.median(r["p50"] for r in per_run), 2),
        "p95_ms": round(statistics.median(r["p95"] for r in per_run), 2),
        "runs": per_run,
        "route_mismatch": mismatch,
        "stages_ms_median": stages,
    }


# Ten distinct retrieval questions, one per article, none asked before on the fresh server (first sight).
FIRST_SIGHT_MESSAGES = [
    "how does delivery work for a sofa? will the guys bring it inside and set it up for me?",
    "Can I use two gift cards on one order?",
    "How long do refunds take?",
    "my card keeps getting declined at checkout, why?",
    "how do I turn on two-factor authentication?",
    "what does the Kestrel Protect plan cover?",
    "can I change the delivery address after ordering?",
    "how can I get a copy of everything you have on me?",
    "do you price match other stores?",
    "how many rewards points do I get per dollar?",
]


def first_sight(url: str, messages: list[str]) -> dict:
    """p50/p95 of the first distinct retrieval questions a fresh server answers (nothing cached for them)."""
    import httpx

    times: list[float] = []
    routes: list[str] = []
    with httpx.Client(base_url=url, timeout=120) as client:
        for m in messages:
            ms, body = _post(client, m)
            times.append(ms)
            routes.append(body.get("route", ""))
    return {**summary(times), "n": len(times), "routes": routes, "all_ms": [round(t) for t in times]}


def stage_medians(client, key: str, ids: list[str]) -> dict:
    """Median of each trace stage over the turns `ids` (read back through the admin API)."""
    headers = {"Authorization": f"Bearer {key}"}
    stages: dict[str, list[float]] = {}
    for i in ids:
        r = client.get(f"/v1/admin/turns/{i}", headers=headers)
        r.raise_for_status()
        trace = r.json().get("trace") or {}
        if isinstance(trace, str):
            trace = json.loads(trace)
        for name, ms in (trace.get("stages_ms") or {}).items():
            stages.setdefault(name, []).append(float(ms))
        guard = trace.get("guard") or {}
        if guard.get("fallback"):
            stages.setdefault("_extractive_fallbacks", []).append(1.0)
    out = {k: round(statistics.median(v), 2) for k, v in stages.items() if not k.startswith("_")}
    if "_extractive_fallbacks" in stages:
        out["extractive_fallbacks"] = len(stages["_extractive_fallbacks"])
    return out


def stream_generation(url: str, key: str, messages: list[str], n: int) -> dict:
    """Time to the first streamed token and to the final event, through the SSE stream of /v1/chat."""
    import httpx

    ttft, total, ids = [], [], []
    routes: dict[str, int] = {}
    with httpx.Client(base_url=url, timeout=300) as client:
        for i in range(n + 1):  # the first request warms the generator's caches and is not counted
            message = messages[i % len(messages)]
            t = time.perf_counter()
            first = None
            final = None
            with client.stream("POST", "/v1/chat", json={"message": message, "stream": True}) as r:
                r.raise_for_status()
                event = None
                for line in r.iter_lines():
                    if line.startswith("event:"):
                        event = line.split(":", 1)[1].strip()
                    elif line.startswith("data:") and event == "token" and first is None:
                        first = (time.perf_counter() - t) * 1000
                    elif line.startswith("data:") and event == "final":
                        final = json.loads(line.split(":", 1)[1])
            end = (time.perf_counter() - t) * 1000
            if i == 0 or final is None:
                continue
            routes[final["route"]] = routes.get(final["route"], 0) + 1
            ttft.append(first if first is not None else end)
            total.append(end)
            ids.append(final["message_id"])
        stages = stage_medians(client, key, ids)
    return {
        "ttft_ms": summary(ttft),
        "total_ms": summary(total),
        "routes": routes,
        "stages_ms_median": stages,
    }


def physical_limit(home: Path, messages: list[str], n: int) -> dict:
    """The bare model calls of the template path, in this process, on a copy of the same home."""
    from assistant.config import load_settings
    from assistant.model_registries import intent_registry
    from knowledge import KnowledgeBase, make_embedder
    from training import IntentClassifier

    settings = load_settings(home=home)
    version, path = intent_registry(settings).current()
    clf = IntentClassifier.load(path)
    clf.warm_up()
    embedder = make_embedder(settings.retrieval.embedder, path=settings.retrieval.embedder_path)
    kb = KnowledgeBase(settings.kb_dir, embedder=embedder)
    kb.warm_up()
    for m in messages:
        pred = clf.predict([m])[0]
        kb.templates(intent=pred.name, language="en")
        kb.vectors.query(embedder.embed_queries([m])[0], 40, {"language": "en"})
    parts: dict[str, list[float]] = {
        "classify": [],
        "template_lookup": [],
        "embed_query": [],
        "chroma_query": [],
    }
    route_sum, brief_sum = [], []
    for i in range(n):
        m = messages[i % len(messages)]
        t0 = time.perf_counter()
        pred = clf.predict([m])[0]
        t1 = time.perf_counter()
        kb.templates(intent=pred.name, language="en")
        t2 = time.perf_counter()
        vec = embedder.embed_queries([m])[0]
        t3 = time.perf_counter()
        kb.vectors.query(vec, 40, {"language": "en"})
        t4 = time.perf_counter()
        parts["classify"].append((t1 - t0) * 1000)
        parts["template_lookup"].append((t2 - t1) * 1000)
        parts["embed_query"].append((t3 - t2) * 1000)
        parts["chroma_query"].append((t4 - t3) * 1000)
        route_sum.append((t2 - t0) * 1000)
        brief_sum.append((t1 - t0 + t4 - t2) * 1000)
    return {
        "intent_model": version,
        "parts_ms": {k: summary(v) for k, v in parts.items()},
        "template_route_ms": summary(route_sum),
        "classifier_embedder_chroma_ms": summary(brief_sum),
    }


def main() -> None:
    parser = base_args(__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40, help="Sequential requests per run and route.")
    parser.add_argument("--gen-requests", type=int, default=6, help="Streamed generation requests (in all).")
    parser.add_argument("--skip-generation", action="store_true", help="No server with the local generator.")
    parser.add_argument(
        "--first-sight-only", action="store_true", help="Only the fresh server's first turns."
    )
    parser.add_argument(
        "--first-sight-delay", type=float, default=0.0, help="Seconds the fresh server idles before them."
    )
    args = parser.parse_args()
    home = bench_home(args.home)
    result: dict = {"benchmark": "latency", "machine": machine(), "home": str(home)}
    n, runs = args.requests, args.runs

    log("server B (generator.backend=none): retrieval path")
    with serve(home, env={"LEPTON_GENERATOR__BACKEND": "none"}) as live:
        # Before anything else: what the first customers of a fresh server wait.
        time.sleep(args.first_sight_delay)  # e.g. 20: the unit vectors are pre-computed by then
        result["first_sight"] = first_sight(live.url, FIRST_SIGHT_MESSAGES)
        result["first_sight"]["after_s"] = args.first_sight_delay
        if args.first_sight_only:
            emit(result)
            return
        key = admin_key(live.home)
        result["template"] = http_route(live.url, key, TEMPLATE_MESSAGES, "template", n, runs)
        result["retrieval_no_generation"] = http_route(
            live.url, key, RAG_MESSAGES, "rag", max(5, n // 2), runs
        )
        # What a customer sees on the default CPU config: the first streamed token of a retrieval answer.
        result["retrieval_stream"] = stream_generation(live.url, key, RAG_MESSAGES, max(5, n // 2) * runs)
        result["goal_ms"] = {"rag_p95": 300, "rag_first_token": 300}

    log("template path limit (bare model calls, in process)")
    with tempfile.TemporaryDirectory(prefix="lepton-limit-") as tmp:
        limit = physical_limit(copy_home(home, Path(tmp) / "home"), TEMPLATE_MESSAGES, n * runs)
    result["template_limit"] = limit
    p95 = result["template"]["p95_ms"]
    result["template"]["ratio_p95_to_limit"] = round(p95 / limit["template_route_ms"]["p95"], 2)
    result["template"]["ratio_p95_to_classifier_embedder_chroma"] = round(
        p95 / limit["classifier_embedder_chroma_ms"]["p95"], 2
    )
    result["template"]["goal_ratio"] = 1.3

    if not args.skip_generation:
        log("server A (default settings, bundled generator): template path and streamed generation")
        with serve(home, env={"LEPTON_GENERATOR__BACKEND": "local"}) as live:  # `auto` drafts on CUDA only
            key = admin_key(live.home)
            result["template_with_generator_loaded"] = http_route(
                live.url, key, TEMPLATE_MESSAGES, "template", n, 1
            )
            result["generation_stream"] = stream_generation(live.url, key, RAG_MESSAGES, args.gen_requests)
    emit(result)


if __name__ == "__main__":
    main()
