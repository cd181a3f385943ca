"""Replicas that agree, measured: one `lepton serve` on SQLite against two on one PostgreSQL + a `chroma run`.

Starts a real PostgreSQL (tests/database_server.py), a real `chroma run` server and three servers, each on its
own copy of a trained demo home: (a) one replica on SQLite alone; (b) two replicas sharing the database, the
Chroma server and an artifact folder. Then, with C concurrent clients and T turns each:
- template runs (a, b, a, b): template questions only, each client keeping its session, each turn sent to the
  replica with the fewest requests in flight (a least_conn balancer, as docs/scaling.md configures nginx);
  throughput and p50/p95 latency, and the ratios b/a (medians of the two rounds); then one round of (b) with a
  load-blind balancer (turns alternate replicas: for information), and the same with 4 clients (light load:
  the turn's own cost, without a saturated server's queueing);
- mixed runs on (a) and (b): templates, retrieval, a slot exchange (a cancel request, the bare order number
  on the next turn, "track my order" later: the answer must name that number), small talk, turns alternating
  replicas (a conversation must carry over); errors, and every answered turn counted against the turns table
  (exactly once, by its message id);
- a mixed run on (b) with one replica killed with -9 half-way: a turn that fails is retried on the other
  replica with the same `client_message_id` (each turn sends a fresh one), so a turn the dead replica logged
  before its reply was lost comes back as it was instead of being answered again; lost turns, lost sessions (a later turn that lost its context), duplicate turns, stray sessions,
  and half-written rows.
Goals (issue #21): 0 errors, every turn logged once, template throughput(b) >= 0.8 x (a), p95(b) <= 1.3 x (a);
after the kill: no lost turn or session, nothing half-written.

    python benchmarks/replicas.py [--home DIR] [--clients 32] [--turns 20] [--quick] [--control]
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    RAG_MESSAGES,
    TEMPLATE_MESSAGES,
    Live,
    base_args,
    bench_home,
    copy_home,
    emit,
    free_port,
    log,
    machine,
    start_server,
    stop_server,
    summary,
)

CANCEL = "I'd like to cancel my order"
TRACK = "How can I track my order status?"
SMALL_TALK = ["hello", "thanks, that helps!", "hi there", "ok thank you"]
LIGHT_CLIENTS = 4  # the light-load latency runs
RETRIES = 6  # attempts of one turn, alternating replicas, before the client gives up on it


def order_number(client: int) -> str:
    return f"KH-{20000000 + client * 1009:08d}"


def script(client: int, turns: int) -> list[tuple[str, str, str | None]]:
    """The client's turns: (kind, message, text the reply must contain or None). The slot exchange comes
    early (turns 4-5) and is checked again later (8, 14, 18), so a kill half-way is crossed by a session."""
    number = order_number(client)
    plan: list[tuple[str, str, str | None]] = []
    for i in range(turns):
        if i == 4:
            plan.append(("slot", CANCEL, "order number"))
        elif i == 5:
            plan.append(("slot", number, number))  # answered only with the context of turn 4
        elif i in (8, 14, 18):
            plan.append(("slot", TRACK, number))  # the slot remembered, whichever replica answers
        elif i % 5 == 1:
            plan.append(("smalltalk", SMALL_TALK[(client + i) % len(SMALL_TALK)], None))
        elif i % 4 == 2:
            plan.append(("rag", RAG_MESSAGES[(client + i) % len(RAG_MESSAGES)], None))
        else:
            plan.append(("template", TEMPLATE_MESSAGES[(client + i) % len(TEMPLATE_MESSAGES)], None))
    return plan


def template_script(client: int, turns: int) -> list[tuple[str, str, str | None]]:
    return [
        ("template", TEMPLATE_MESSAGES[(client + i) % len(TEMPLATE_MESSAGES)], None) for i in range(turns)
    ]


@dataclass
class Outcome:
    """What the clients of one run saw."""

    answered: dict[str, list[str]] = field(default_factory=dict)  # session -> message ids, in order
    latencies: dict[str, list[float]] = field(default_factory=dict)  # kind -> ms
    routes: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # failed attempts (retried, if retrying)
    failed_turns: int = 0  # turns never answered
    retried_turns: int = 0
    lost_context: list[str] = field(default_factory=list)
    sent: int = 0
    seconds: float = 0.0
    started_at: float = 0.0


def run_clients(
    urls: list[str],
    clients: int,
    turns: int,
    plan=script,
    retry: bool = False,
    halfway: threading.Event | None = None,
    least: bool = False,
) -> Outcome:
    """`clients` threads, each one conversation of `turns` turns. Turn k goes to urls[(client + k) % len(urls)]
    (alternating replicas, which checks that a conversation carries over); with `least`, to the replica with the
    fewest requests in flight (ties in that same order), as a load balancer's least_conn does."""
    import httpx

    out = Outcome(started_at=time.time())
    lock = threading.Lock()
    done = [0]
    total = clients * turns
    busy = dict.fromkeys(urls, 0)

    def pick(turn: int) -> str:
        order = urls[turn % len(urls) :] + urls[: turn % len(urls)]
        with lock:
            url = min(order, key=busy.__getitem__) if least else order[0]
            busy[url] += 1
        return url

    def client_loop(index: int) -> None:
        session: str | None = None
        ids: list[str] = []
        # Idle connections are dropped after 1 s: a client alternating replicas leaves each one's connection
        # idle for a whole turn, and reusing one just as uvicorn closes it (its keep-alive is 5 s, httpx's
        # default expiry too) reads as a reset that no server failure caused.
        with httpx.Client(timeout=120, limits=httpx.Limits(keepalive_expiry=1.0)) as http:
            for k, (kind, message, expect) in enumerate(plan(index, turns)):
                body = None
                # One idempotency key per turn, the same on its retries: a turn answered once, wherever.
                asked = {"message": message, "session_id": session, "client_message_id": uuid.uuid4().hex}
                for attempt in range(RETRIES if retry else 1):
                    url = pick(index + k + attempt)
                    t = time.perf_counter()
                    try:
                        r = http.post(f"{url}/v1/chat", json=asked)
                        ms = (time.perf_counter() - t) * 1000
                        if r.status_code == 200:
                            body = r.json()
                            break
                        problem = f"{r.status_code} {r.text[:160]}"
                    except httpx.HTTPError as exc:
                        problem = f"{type(exc).__name__}: {exc}"
                    finally:
                        with lock:
                            busy[url] -= 1
                    with lock:
                        out.errors.append(problem)
                    time.sleep(0.2)
                with lock:
                    out.sent += 1
                    done[0] += 1
                    if halfway is not None and done[0] >= total // 2:
                        halfway.set()
                    if body is None:
                        out.failed_turns += 1
                        continue
                    if attempt:
                        out.retried_turns += 1
                    out.latencies.setdefault(kind, []).append(ms)
                    out.routes[body["route"]] = out.routes.get(body["route"], 0) + 1
                    if expect is not None and expect not in body["reply"]:
                        out.lost_context.append(
                            f"client {index} turn {k}: {message!r} -> {body['reply'][:80]!r}"
                        )
                session = body["session_id"]
                ids.append(body["message_id"])
        if session is not None:
            with lock:
                out.answered.setdefault(session, []).extend(ids)

    threads = [threading.Thread(target=client_loop, args=(i,), daemon=True) for i in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(1800)
    out.seconds = time.perf_counter() - start
    return out


# -- the database's side -----------------------------------------------------------------------------------
def engine_for(database: str | Path):
    from sqlalchemy import create_engine

    if isinstance(database, Path):
        return create_engine(f"sqlite:///{database}")
    return create_engine(database.replace("postgresql://", "postgresql+psycopg://", 1))


def audit(database: str | Path, out: Outcome) -> dict:
    """The turns table against what the clients were answered: lost (answered, not logged), duplicate (logged
    in a client's session but never answered: a turn logged by a replica that died before replying, then
    retried), stray sessions (created in the run, unknown to every client), and half-written rows."""
    from sqlalchemy import func, select

    from assistant.conversation_tables import SESSIONS, TURNS

    engine = engine_for(database)
    try:
        with engine.connect() as conn:
            sessions = list(out.answered)
            logged: dict[str, list[str]] = {s: [] for s in sessions}
            for chunk in range(0, len(sessions), 500):
                rows = conn.execute(
                    select(TURNS.c.session_id, TURNS.c.id).where(
                        TURNS.c.session_id.in_(sessions[chunk : chunk + 500])
                    )
                )
                for sid, tid in rows:
                    logged[sid].append(tid)
            since = out.started_at - 1
            created = {
                r[0] for r in conn.execute(select(SESSIONS.c.id).where(SESSIONS.c.created_at >= since))
            }
            stray = created - set(sessions)
            stray_turns = (
                conn.execute(select(func.count()).where(TURNS.c.session_id.in_(sorted(stray)))).scalar()
                if stray
                else 0
            )
            # Half-written: a turn without its session row, a turn missing what every turn has, a session
            # whose row is older than its newest turn (both are written in one transaction).
            orphans = conn.execute(
                select(func.count())
                .select_from(TURNS.outerjoin(SESSIONS, TURNS.c.session_id == SESSIONS.c.id))
                .where(SESSIONS.c.id.is_(None), TURNS.c.created_at >= since)
            ).scalar()
            incomplete = conn.execute(
                select(func.count()).where(
                    TURNS.c.created_at >= since,
                    (TURNS.c.route.is_(None)) | (TURNS.c.reply.is_(None)) | (TURNS.c.message.is_(None)),
                )
            ).scalar()
            newest = (
                select(TURNS.c.session_id, func.max(TURNS.c.created_at).label("last"))
                .where(TURNS.c.created_at >= since)
                .group_by(TURNS.c.session_id)
                .subquery()
            )
            stale = conn.execute(
                select(func.count())
                .select_from(newest.join(SESSIONS, SESSIONS.c.id == newest.c.session_id))
                .where(SESSIONS.c.updated_at < newest.c.last - 1e-6)
            ).scalar()
    finally:
        engine.dispose()
    answered = sum(len(v) for v in out.answered.values())
    lost = sum(len(set(ids) - set(logged[s])) for s, ids in out.answered.items())
    duplicates = sum(len(set(logged[s]) - set(ids)) for s, ids in out.answered.items())
    repeated = sum(len(ids) - len(set(ids)) for ids in out.answered.values())  # a message id answered twice
    return {
        "turns_answered": answered,
        "turns_logged": sum(len(v) for v in logged.values()),
        "lost_turns": lost,
        "duplicate_turns": duplicates + repeated,
        "stray_sessions": len(stray),
        "stray_turns": stray_turns,
        "half_written": {
            "turns_without_session": orphans,
            "turns_incomplete": incomplete,
            "stale_sessions": stale,
        },
        "logged_exactly_once": lost == 0 and duplicates + repeated == 0 and not stray,
    }


def report(out: Outcome, kinds: bool = True) -> dict:
    turns = sum(len(v) for v in out.latencies.values())
    result = {
        "clients_turns_sent": out.sent,
        "answered": turns,
        "seconds": round(out.seconds, 2),
        "turns_per_s": round(turns / out.seconds, 2) if out.seconds else None,
        "errors": len(out.errors),
        "error_samples": out.errors[:3],
        "failed_turns": out.failed_turns,
        "retried_turns": out.retried_turns,
        "routes": out.routes,
        "lost_context": len(out.lost_context),
        "lost_context_samples": out.lost_context[:3],
    }
    if kinds:
        result["latency_ms"] = {k: summary(v) for k, v in sorted(out.latencies.items())}
    return result


def load() -> float:
    return round(os.getloadavg()[0], 2)


# -- the servers -------------------------------------------------------------------------------------------
def start_chroma(folder: Path) -> tuple[subprocess.Popen, str]:
    import httpx

    exe = Path(sys.executable).with_name("chroma")
    if not exe.exists():
        raise SystemExit(f"the chroma CLI is not installed next to {sys.executable}")
    port = free_port()
    logf = (folder / "chroma.log").open("w")
    proc = subprocess.Popen(
        [str(exe), "run", "--path", str(folder / "chroma-data"), "--port", str(port)],
        stdout=logf,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while True:
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            raise RuntimeError(f"chroma did not start: {(folder / 'chroma.log').read_text()[-2000:]}")
        time.sleep(0.3)


def start_all(home: Path, tmp: Path, database_url: str, chroma_url: str) -> tuple[Live, list[Live]]:
    """(a) on SQLite, and (b)'s two replicas on PostgreSQL + Chroma + one shared artifact folder."""
    from concurrent.futures import ThreadPoolExecutor

    quiet = {"LEPTON_GENERATOR__BACKEND": "none", "LEPTON_RATE_LIMIT_PER_MINUTE": "10000000"}
    shared = tmp / "artifacts"
    shutil.copytree(home / "models" / "intents", shared / "intents")
    replica_env = {
        **quiet,
        "LEPTON_DATABASE_URL": database_url,
        "LEPTON_KEY_PEPPER": secrets.token_urlsafe(32),
        "LEPTON_CHROMA_URL": chroma_url,
        "LEPTON_ARTIFACT_DIR": str(shared),
    }
    homes = {name: copy_home(home, tmp / name / "home") for name in ("a", "b1", "b2")}

    def start(name: str, env: dict) -> Live:
        # --demo: a knowledge base in an empty database is filled with the demo's (the homes' kb.db have it).
        live = start_server(
            homes[name], env=env, demo=True, log_path=tmp / name / "server.log", timeout_s=900
        )
        log(f"{name} ready at {live.url}")
        return live

    # (a) and the first replica together; the second once the first has filled the database and Chroma.
    with ThreadPoolExecutor(2) as pool:
        a = pool.submit(start, "a", quiet)
        b1 = pool.submit(start, "b1", replica_env)
        single, first = a.result(), b1.result()
    second = start("b2", replica_env)
    return single, [first, second]


def main() -> None:
    parser = base_args(__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="A smoke run: 8 clients, 10 turns, one round.")
    parser.add_argument(
        "--control",
        action="store_true",
        help="Also (c): two processes on one SQLite home, in the template rounds (two processes without "
        "PostgreSQL: what sharing the cores costs apart from the database).",
    )
    args = parser.parse_args()
    clients, turns = (8, 10) if args.quick else (args.clients, args.turns)
    rounds = 1 if args.quick else 2
    home = bench_home(args.home)

    from tests.database_server import PostgresServer, find_bindir

    bindir = find_bindir()
    if bindir is None:
        raise SystemExit(
            "PostgreSQL's server binaries (initdb, pg_ctl) are not installed: apt-get install postgresql"
        )
    result: dict = {"benchmark": "replicas", "machine": machine(), "clients": clients, "turns": turns}
    servers: list[Live] = []
    with tempfile.TemporaryDirectory(prefix="lepton-replicas-") as tmp_name:
        tmp = Path(tmp_name)
        pg = PostgresServer(bindir)
        chroma = None
        try:
            pg.start()
            database_url = pg.create_database("lepton")
            chroma, chroma_url = start_chroma(tmp)
            log(f"PostgreSQL on {pg.port} ({pg.seconds_to_start:.1f} s), Chroma at {chroma_url}")
            single, replicas = start_all(home, tmp, database_url, chroma_url)
            servers = [single, *replicas]
            a_urls, b_urls = [single.url], [r.url for r in replicas]
            a_db = single.home / "conversations.db"
            deployments = [("a", a_urls), ("b", b_urls)]
            if args.control:  # two processes on one home: SQLite in WAL, as one machine may run them
                control = copy_home(home, tmp / "c" / "home")
                quiet = {"LEPTON_GENERATOR__BACKEND": "none", "LEPTON_RATE_LIMIT_PER_MINUTE": "10000000"}
                for n in (1, 2):
                    log_path = tmp / "c" / f"server-{n}.log"
                    servers.append(
                        start_server(control, env=quiet, demo=True, log_path=log_path, timeout_s=900)
                    )
                deployments.append(("c", [servers[-2].url, servers[-1].url]))
                log("c ready")

            log("warm-up")
            run_clients(a_urls, 4, 4, plan=template_script, least=True)
            run_clients(b_urls, 4, 4, plan=template_script, least=True)

            # Template throughput and latency, a and b taking turns so that both see the same load.
            template: dict[str, list[dict]] = {name: [] for name, _ in deployments}
            for i in range(rounds):
                for name, urls in deployments:
                    before = load()
                    out = run_clients(urls, clients, turns, plan=template_script, least=True)
                    one = {**report(out), "loadavg_1m": [before, load()]}
                    one["latency_ms"] = one["latency_ms"].get("template", {"n": 0})
                    template[name].append(one)
                    log(
                        f"template {name} round {i + 1}: {one['turns_per_s']} turns/s, p95 {one['latency_ms'].get('p95')} ms"
                    )

            def med(name: str, key: str) -> float:
                vals = [r["latency_ms"][key] if key != "turns_per_s" else r[key] for r in template[name]]
                return round(statistics.median(vals), 2)

            figures = {n: {k: med(n, k) for k in ("turns_per_s", "p50", "p95")} for n in template}
            result["template"] = {
                "single_sqlite": figures["a"],
                "two_replicas_postgresql": figures["b"],
                "throughput_ratio": round(figures["b"]["turns_per_s"] / figures["a"]["turns_per_s"], 3),
                "p95_ratio": round(figures["b"]["p95"] / figures["a"]["p95"], 3),
                "goal": {"throughput_ratio": ">= 0.8", "p95_ratio": "<= 1.3"},
                "runs": template,
            }
            if "c" in figures:
                result["template"]["control_two_processes_sqlite"] = {
                    **figures["c"],
                    "throughput_ratio": round(figures["c"]["turns_per_s"] / figures["a"]["turns_per_s"], 3),
                    "p95_ratio": round(figures["c"]["p95"] / figures["a"]["p95"], 3),
                }
            # A load-blind balancer: with the GIL each process serves about one core, so any split of the
            # clients between two replicas is stable, and the split wanders; one replica queues, the tail grows.
            out = run_clients(b_urls, clients, turns, plan=template_script)
            blind = report(out)
            blind["latency_ms"] = blind["latency_ms"].get("template", {"n": 0})
            result["template"]["two_replicas_alternating"] = blind
            log(
                f"template b alternating: {blind['turns_per_s']} turns/s, p95 {blind['latency_ms'].get('p95')} ms"
            )

            # The same at light load (4 clients: no replica saturated): the turn's own cost, database included,
            # without the queueing that dominates a saturated closed loop.
            light: dict[str, list[dict]] = {"a": [], "b": []}
            for _ in range(rounds):
                for name, urls in (("a", a_urls), ("b", b_urls)):
                    out = run_clients(urls, LIGHT_CLIENTS, turns, plan=template_script, least=True)
                    one = {**report(out), "loadavg_1m": load()}
                    one["latency_ms"] = one["latency_ms"].get("template", {"n": 0})
                    light[name].append(one)
            a_p95 = statistics.median(r["latency_ms"]["p95"] for r in light["a"])
            b_p95 = statistics.median(r["latency_ms"]["p95"] for r in light["b"])
            result["template_light"] = {
                "clients": LIGHT_CLIENTS,
                "single_sqlite_p95": round(a_p95, 2),
                "two_replicas_postgresql_p95": round(b_p95, 2),
                "p95_ratio": round(b_p95 / a_p95, 3),
                "runs": light,
            }
            log(f"light load p95: a {a_p95:.1f} ms, b {b_p95:.1f} ms")

            # Mixed routes: errors and exactly-once logging on each deployment.
            mixed = {}
            for name, urls, db in (("a", a_urls, a_db), ("b", b_urls, database_url)):
                before = load()
                out = run_clients(urls, clients, turns)
                mixed[name] = {**report(out), "loadavg_1m": [before, load()], "log": audit(db, out)}
                log(f"mixed {name}: {mixed[name]['turns_per_s']} turns/s, {mixed[name]['errors']} errors")
            result["mixed"] = {"single_sqlite": mixed["a"], "two_replicas_postgresql": mixed["b"]}

            # One replica killed with -9 half-way through a mixed run; clients retry on the other.
            halfway = threading.Event()
            victim = replicas[1]

            def kill_when_halfway() -> None:
                halfway.wait(1800)
                os.kill(victim.proc.pid, signal.SIGKILL)
                victim.proc.wait(30)
                log("replica b2 killed with -9")

            killer = threading.Thread(target=kill_when_halfway, daemon=True)
            killer.start()
            before = load()
            out = run_clients(b_urls, clients, turns, retry=True, halfway=halfway)
            killer.join(60)
            killed = {**report(out), "loadavg_1m": [before, load()], "log": audit(database_url, out)}
            killed["lost_sessions"] = len({s.split(" turn")[0] for s in out.lost_context})
            result["kill9"] = killed
            log(f"kill -9 run: {killed['failed_turns']} failed turns, {killed['log']}")
        finally:
            for live in servers:
                if live.proc.poll() is None:
                    stop_server(live)
            if chroma is not None:
                chroma.terminate()
                chroma.wait(30)
            pg.stop()
    t, k, m = result["template"], result["kill9"], result["mixed"]
    result["goals_met"] = {
        "no_errors": all(
            x["errors"] == 0 and x["failed_turns"] == 0
            for x in [*m.values(), *t["runs"]["a"], *t["runs"]["b"], *light["a"], *light["b"]]
        ),
        "logged_exactly_once": all(x["log"]["logged_exactly_once"] for x in m.values()),
        "throughput_ratio": t["throughput_ratio"] >= 0.8,
        "p95_ratio": t["p95_ratio"] <= 1.3,
        "kill9_no_lost_turn_or_session": k["failed_turns"] == 0
        and k["log"]["lost_turns"] == 0
        and k["lost_sessions"] == 0,
        "kill9_no_duplicate_turn": k["log"]["duplicate_turns"] == 0 and k["log"]["stray_sessions"] == 0,
        "kill9_nothing_half_written": not any(k["log"]["half_written"].values()),
    }
    emit(result)


if __name__ == "__main__":
    main()
