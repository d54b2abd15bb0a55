"""Bulk import end to end: a Consul ``proposals.csv`` of N rows read, mapped and published into a real pod.

1. Generates a synthetic Consul/Decide Madrid ``proposals.csv`` of N rows (``--rows``, 100 000 by default)
   under ``var/bench/imports/``: the real scrape's columns (a pandas index column, ``id``, ``url``, ``code``,
   ``title``, ``userId``, ``date``, ``summary``, ``text``, ``numComments``, ``status``, ``numSupports``,
   ``isAssociation``) and the real value shapes and lengths (titles of 16–80 characters, summaries up to
   200, about 40% of the texts empty and the others around 1 000 characters, up to ~8 000), with made-up
   Spanish words. Most authors write one proposal, some several; about 1.5% are associations.
2. Times ``consul_csv.read`` (CSV parsing, mapping, HTML sanitising, pseudonymising) in this process.
3. Starts a fresh ``dds-pod serve`` (one serving process, waitress threads, on-disk oxigraph store under a temporary
   ``data_dir``) and times ``Publisher(pod, token).publish(batch)``: batches of 1000 documents posted to
   ``{pod}batch`` (two requests in flight; each batch screened against the shapes and committed in one
   transaction), then times GETs of 300 random resources just after the import and 30 s later (while the store
   merges the files it ingested). The server's CPU is utime + stime of its process group from ``/proc`` (as
   ``benchmarks.pods``), the client's is this process's. Unless ``--publish-rows`` is given, a 2 000-row pilot
   on its own server first projects the full run linearly; above 10 minutes only the first 20 000 proposals
   (and their authors) are published and (b) is extrapolated. Batches slow down somewhat as the store grows,
   so the projection underestimates. The per-batch times go to ``var/bench/imports/batches-*.json``.
4. Profiles ONE batch request of 1000 proposals in process (``create_app(...).test_client()``, on-disk store),
   after a warm-up batch: with cProfile, and with plain timers around the same steps (no profiler
   overhead); then the same 1000 documents again, which the pod finds unchanged. ``--growth-rows N`` also
   imports a file of N rows in process and prints each step's time every 5 batches (how they grow).

5. With ``--command``, runs ``dds-pod import consul-csv FILE`` itself (a process of its own, as a user would)
   into another fresh server, and times it from start to exit.

A contribution is a proposal (a CSV row); the batch also holds one agent document per distinct author.

The server runs with its background harvest of its own pods pushed out (``federation.interval_s = 86400``),
so that the figures are those of the import alone; ``--background-sync`` keeps the default 60 s.

    .venv/bin/python -m benchmarks.imports [--rows 100000] [--publish-rows N] [--growth-rows N] [--command]
                                           [--skip-profile] [--skip-http] [--background-sync]
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import functools
import itertools
import json
import math
import os
import platform
import pstats
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.pods import group_cpu_seconds, machine  # noqa: E402
from dds_pod.importers import consul_csv, rows  # noqa: E402
from dds_pod.importers.common import Batch, Settings  # noqa: E402
from dds_pod.importers.pseudonyms import Pseudonymiser  # noqa: E402
from dds_pod.importers.publisher import BATCH_SIZE, Publisher, chunked  # noqa: E402
from dds_pod.testing import TOKENS, ServerProcess, free_port, write_config  # noqa: E402

CACHE = ROOT / "var" / "bench" / "imports"
DATA_VERSION = 1  # bump when the generator changes: cached files are then rewritten
POD = "bordeaux"  # a pod of tests/e2e/server.py's configuration, whose token is known
PLATFORM = "https://decide.madrid.es"
KEY = "benchmark pseudonymisation key"
TARGET_PER_S = 2_000  # contributions per second, end to end
BUDGET_S = 600  # above this projected publishing time, publish fewer rows and extrapolate
FALLBACK_ROWS = 20_000
ROUNDS = 3  # timed requests per kind in the profile
SETTLE_S = 30  # after the import, before reads are timed again

# ------------------------------------------------------------------------------------------ synthetic data

HEADER = ["", "id", "url", "code", "title", "userId", "date", "summary", "text", "numComments", "status",
          "numSupports", "isAssociation"]
FIRST_DAY, LAST_DAY = date(2015, 9, 15), date(2019, 5, 28)
STATUSES = (("archived", 0.92), ("open", 0.06), ("retired", 0.015), ("successful", 0.005))
VERBS = ("Crear", "Ampliar", "Mejorar", "Limpiar", "Peatonalizar", "Instalar", "Reformar", "Abrir", "Recuperar",
         "Arreglar", "Plantar", "Proteger", "Construir", "Renovar", "Habilitar", "Iluminar", "Señalizar")
OBJECTS = ("un carril bici", "más bancos", "las aceras", "un huerto urbano", "la biblioteca municipal",
           "fuentes de agua potable", "una zona verde", "el polideportivo", "contenedores de reciclaje",
           "un aparcamiento de bicicletas", "la plaza del mercado", "árboles de sombra", "pasos de peatones",
           "una escuela infantil", "la línea de autobús nocturno", "un parque para perros", "los columpios",
           "baños públicos", "un centro de mayores", "la piscina de verano")
PLACES = ("en Arganzuela", "en Chamberí", "en Latina", "en Usera", "en Tetuán", "en Vallecas", "en Carabanchel",
          "en el Retiro", "en Moratalaz", "en Hortaleza", "en Barajas", "en el centro", "en todos los barrios",
          "junto al río", "cerca de los colegios", "en la Gran Vía")
SENTENCES = (
    "Muchos vecinos lo pedimos desde hace años y nadie nos ha escuchado.",
    "La propuesta no supone un gran coste para el Ayuntamiento.",
    "Los niños y las personas mayores serían los más beneficiados.",
    "En otras ciudades europeas funciona muy bien, por ejemplo en Ámsterdam o en Copenhague.",
    "Ahora mismo el espacio está abandonado, sucio y sin iluminación por la noche.",
    "Se podría financiar con los presupuestos participativos del distrito.",
    "Además, reduciría el tráfico y la contaminación, que son cada vez peores.",
    "Propongo empezar con una prueba de seis meses y evaluar los resultados.",
    "Hay que contar con las asociaciones de vecinos y con los comerciantes de la zona.",
    "Es una medida sencilla, barata y que mejora la vida de todos.",
    "El estado actual es lamentable: baldosas rotas, papeleras llenas y ni un árbol.",
    "Los datos del último estudio de movilidad muestran que la demanda existe.",
    "No se trata de prohibir nada, sino de dar alternativas a quien las necesita.",
    "Sería importante que el mantenimiento quedara garantizado después de la obra.",
    "Podría complementarse con actividades culturales los fines de semana.",
    "Las familias del barrio tienen que cruzar media ciudad para encontrar algo parecido.",
    "\"Más verde, menos asfalto\", como dicen los carteles de la última manifestación.",
    "La accesibilidad para personas con movilidad reducida debe ser una prioridad.",
    "Ya existe un proyecto similar que se aprobó pero nunca se llegó a ejecutar.",
    "Pido que se estudie la propuesta con seriedad y que se publiquen los costes.",
)


def _sentences(rng: random.Random, target: int) -> str:
    parts, size = [], 0
    while size < target:
        sentence = rng.choice(SENTENCES)
        parts.append(sentence)
        size += len(sentence) + 1
    return " ".join(parts)


def _cut(text: str, maximum: int) -> str:
    """At most ``maximum`` characters, cut at a word boundary."""
    return text if len(text) <= maximum else text[:maximum].rsplit(" ", 1)[0].rstrip(",;:")


def _url_slug(title: str) -> str:
    table = str.maketrans("áéíóúñü", "aeiounu")
    return "-".join("".join(c for c in word if c.isalnum()) for word in title.lower().translate(table).split())


def generate(path: Path, count: int, seed: int = 2015) -> None:
    """Write ``count`` synthetic Consul proposals (with the real file's columns and lengths) to ``path``."""
    rng = random.Random(seed)
    span = (LAST_DAY - FIRST_DAY).days
    statuses, weights = zip(*STATUSES, strict=True)
    authors: list[str] = []
    associations: set[str] = set()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    with temporary.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        ident = 0
        for index in range(count):
            ident += rng.randint(1, 3)
            day = FIRST_DAY + timedelta(days=span * index // max(count - 1, 1))
            title = f"{rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(PLACES)}"
            if rng.random() < 0.4:
                title += f" y {rng.choice(OBJECTS)}"
            title = _cut(title, 80)
            if rng.random() < 0.7 or not authors:  # most authors write one proposal, some several
                user = str(rng.randint(1, 400_000))
                authors.append(user)
                if rng.random() < 0.015:
                    associations.add(user)
            else:
                user = rng.choice(authors)
            summary = _cut(_sentences(rng, max(29, int(200 - abs(rng.gauss(0, 35))))), 200)
            text = "" if rng.random() < 0.42 else _sentences(rng, min(8_000, int(rng.lognormvariate(math.log(900),
                                                                                                      0.8))))
            writer.writerow([
                index, ident, f"/proposals/{ident}-{_url_slug(title)}"[:95], f"MAD-{day:%Y-%m}-{ident}", title,
                user, day.isoformat(), summary, text, int(rng.lognormvariate(math.log(15), 1.2)),
                rng.choices(statuses, weights)[0], int(rng.lognormvariate(math.log(300), 1.5)),
                int(user in associations),
            ])
    temporary.replace(path)


def proposals_file(count: int) -> Path:
    path = CACHE / f"proposals-{count}-v{DATA_VERSION}.csv"
    if not path.exists():
        generate(path, count)
    return path


# ------------------------------------------------------------------------------------------ stage (a): read


@dataclass
class Reading:
    rows: int
    documents: int
    proposals: int
    agents: int
    problems: int
    csv_s: float
    read_s: float
    cpu_s: float
    batch: Batch


def settings_for(pod_url: str) -> Settings:
    return Settings(pod_url=pod_url, platform=PLATFORM, locale="es", pseudonymiser=Pseudonymiser(KEY))


def read(path: Path, count: int, pod_url: str) -> Reading:
    started = time.perf_counter()
    table = rows.read_table(path)  # the CSV parsing alone, for the split (consul_csv.read parses again)
    csv_s = time.perf_counter() - started
    del table
    cpu, started = time.process_time(), time.perf_counter()
    batch, problems = consul_csv.read([path], settings_for(pod_url))
    read_s, cpu = time.perf_counter() - started, time.process_time() - cpu
    if problems:
        raise RuntimeError(f"{len(problems)} bad rows in the generated file, e.g. {problems[0]}")
    types = [document["type"] for document in batch.documents.values()]
    return Reading(count, len(types), types.count("Proposal"), len(types) - types.count("Proposal"), len(problems),
                   csv_s, read_s, cpu, batch)


# ------------------------------------------------------------------------------------------ stage (b): publish


@dataclass
class Publishing:
    documents: int
    proposals: int
    wall_s: float
    server_cpu_s: float
    client_cpu_s: float
    created: int
    rejected: int
    store_bytes: int
    batch_s: list[float] = field(default_factory=list)
    batch_kinds: list[str] = field(default_factory=list)  # the type of each batch's first document
    reads: dict[str, list[float]] = field(default_factory=dict)  # GET latencies after the import, by moment


def fresh_server(directory: Path, port: int, background_sync: bool) -> ServerProcess:
    """A ``dds-pod serve`` on a fresh on-disk store under ``directory``, not started."""
    directory.mkdir(parents=True, exist_ok=True)
    config = write_config(directory, port, data_dir=directory / "data", max_body_bytes=64 * 1024 * 1024)
    if not background_sync:
        # The node's background harvest of its own pods (every 60 s) is pushed beyond the run: see the module doc.
        config.write_text(config.read_text(encoding="utf-8") + "[federation]\ninterval_s = 86400\n", encoding="utf-8")
    return ServerProcess(config, port, directory / "server.log")


def publish(batch: Batch, proposals: int, directory: Path, port: int, background_sync: bool = False,
            reads: bool = True) -> Publishing:
    data_dir = directory / "data"
    server = fresh_server(directory, port, background_sync)
    try:
        start(server)
        publisher = Publisher(f"{server.url}{POD}/", TOKENS[POD])
        marks = [time.perf_counter()]
        pgid = server.process.pid
        server_before, client_before = group_cpu_seconds(pgid), time.process_time()
        summary = publisher.publish(batch, progress=lambda _: marks.append(time.perf_counter()))
        wall = marks[-1] - marks[0]
        server_cpu, client_cpu = group_cpu_seconds(pgid) - server_before, time.process_time() - client_before
        latencies = {}
        if reads:
            latencies["just after"] = read_latencies(list(batch.documents))
            time.sleep(SETTLE_S)
            latencies[f"{SETTLE_S} s later"] = read_latencies(list(batch.documents))
    except Exception:
        print(server.log()[-3000:], file=sys.stderr)
        raise
    finally:
        server.stop()
    if summary.rejected:
        iri, why = next(iter(summary.rejected.items()))
        raise RuntimeError(f"{len(summary.rejected)} documents rejected, e.g. {iri}: {why}")
    size = sum(f.stat().st_size for f in data_dir.rglob("*") if f.is_file())
    steps = [b - a for a, b in itertools.pairwise(marks)]
    documents = list(batch.documents.values())
    kinds = [json.loads(chunk[0])["type"] for chunk in chunked(documents)]
    return Publishing(len(batch.documents), proposals, wall, server_cpu, client_cpu, summary.created,
                      len(summary.rejected), size, steps, kinds, latencies)


def read_latencies(iris: list[str], count: int = 300) -> list[float]:
    """Seconds for a GET (JSON-LD) of ``count`` resources picked at random among ``iris``, one after the other:
    what a reader of the pod sees while the store is still merging the files the import ingested."""
    session, picked = requests.Session(), random.Random(7).sample(iris, min(count, len(iris)))
    seconds = []
    for iri in picked:
        started = time.perf_counter()
        response = session.get(iri, headers={"Accept": "application/ld+json"}, timeout=60)
        seconds.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"GET {iri}: {response.status_code}")
    return seconds


def start(server: ServerProcess, timeout: float = 60) -> None:
    """``server.start()``, waiting on when the first answer takes more than its 1 s (a busy machine)."""
    try:
        server.start()
    except requests.Timeout:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(server.url, timeout=10).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.5)
        raise


def subset(reading: Reading, count: int) -> tuple[Batch, int]:
    """The documents of the first ``count`` proposals and of their authors, in the importer's order."""
    kept, authors = {}, set()
    for iri, document in reading.batch.documents.items():
        if document["type"] == "Proposal" and len(kept) < count:
            kept[iri] = document
            if "author" in document:
                authors.add(document["author"])
    kept.update({iri: d for iri, d in reading.batch.documents.items() if iri in authors})
    return Batch(kept), count


# ------------------------------------------------------------------------------------------ profile of one batch

# (label, module, owner, attribute): the steps of one batch request, nested as noted in STEP_PARENT.
STEPS = (
    ("request body: JSON parsing", "dds_pod.jsonld", None, "loads"),
    ("JSON-LD → RDF (Intake.read_json_batch)", "dds_pod.ldp.intake", "Intake", "read_json_batch"),
    ("existence look-ups (Pod._current)", "dds_pod.ldp.resources", "Pod", "_current"),
    ("server-managed preparation (Pod._prepare)", "dds_pod.ldp.resources", "Pod", "_prepare"),
    ("shapes: screen, pyshacl if flagged (Validator.validate_triples)", "dds_pod.validation", "Validator",
     "validate_triples"),
    ("unchanged detection (_same_content, hashing)", "dds_pod.ldp.resources", None, "_same_content"),
    ("staging (Pod._stage_write: quads, feed)", "dds_pod.ldp.resources", "Pod", "_stage_write"),
    ("commit (OxigraphStore.commit)", "dds_pod.store.oxigraph", "OxigraphStore", "commit"),
    ("notifications (Outbox.stage)", "dds_pod.federation.outbox", "Outbox", "stage"),
)
# The columns of the growth table, one per step above ("" leaves a step out).
SHORT_NAMES = ("", "JSON-LD", "look-ups", "prepare", "shapes", "", "staging", "commit", "")


def _target(module: str, owner: str | None):
    imported = sys.modules[module]
    return getattr(imported, owner) if owner else imported


class Timers:
    """Plain timers wrapped around the steps (outermost call only): the split without profiler overhead."""

    def __init__(self) -> None:
        self.seconds = dict.fromkeys((label for label, *_ in STEPS), 0.0)
        self._saved: list[tuple[object, str, Callable]] = []
        self._depth: dict[str, int] = {}

    def __enter__(self) -> Timers:
        for label, module, owner, attribute in STEPS:
            target = _target(module, owner)
            original = getattr(target, attribute)
            self._saved.append((target, attribute, original))
            setattr(target, attribute, self._wrap(label, original))
        return self

    def _wrap(self, label: str, original: Callable) -> Callable:
        @functools.wraps(original)
        def timed(*args, **kwargs):
            depth = self._depth.get(label, 0)
            self._depth[label] = depth + 1
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self._depth[label] = depth
                if depth == 0:
                    self.seconds[label] += time.perf_counter() - started
        return timed

    def __exit__(self, *exc) -> None:
        for target, attribute, original in reversed(self._saved):
            setattr(target, attribute, original)


def profile_split(stats: pstats.Stats) -> dict[str, float]:
    """Cumulative seconds of each step's function in a cProfile run."""
    found = {}
    for label, module, _owner, attribute in STEPS:
        filename = module.replace(".", "/") + ".py"
        found[label] = sum(entry[3] for (file, _line, name), entry in stats.stats.items()  # type: ignore[attr-defined]
                           if name == attribute and file.endswith(filename))
    return found


@dataclass
class Profiled:
    name: str
    total_s: float
    split: dict[str, float]
    outcome: dict[str, int]
    top: list[tuple[str, float, float]] = field(default_factory=list)


def profile(path: Path, directory: Path, rows_needed: int = 2 * BATCH_SIZE) -> list[Profiled]:
    from dds_pod.app import create_app
    from dds_pod.config import load

    port = 8000
    os.environ.setdefault("DDS_TEST_TOKEN_PARIS", TOKENS["paris"])  # the configuration's other pod
    config = load(write_config(directory, port, data_dir=directory / "profile-data", max_body_bytes=64 << 20))
    pod_url = f"http://127.0.0.1:{port}/{POD}/"
    small = CACHE / f"proposals-{rows_needed}-v{DATA_VERSION}.csv"
    if not small.exists():
        generate(small, rows_needed)
    batch, problems = consul_csv.read([small], settings_for(pod_url))
    assert not problems
    proposals = [d for d in batch.documents.values() if d["type"] == "Proposal"]
    agents = [d for d in batch.documents.values() if d["type"] != "Proposal"]
    warmup, measured = proposals[BATCH_SIZE:2 * BATCH_SIZE], proposals[:BATCH_SIZE]
    app = create_app(config)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {TOKENS[POD]}", "Content-Type": "application/json"}

    def post(documents: list[dict]) -> dict:
        body = json.dumps({"put": documents, "delete": [], "atomic": False}, ensure_ascii=False).encode("utf-8")
        response = client.post(f"/{POD}/batch", data=body, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"batch: {response.status_code} {response.get_data(as_text=True)[:500]}")
        outcome = response.get_json()
        if outcome["rejected"]:
            raise RuntimeError(f"rejected: {list(outcome['rejected'].items())[:1]}")
        return {key: len(value) for key, value in outcome.items()}

    results = []
    try:
        post(agents[:BATCH_SIZE])  # warm-up: contexts, shapes, store
        post(warmup)
        for name, fresh in (("new", True), ("unchanged", False)):
            # Timers: median of ROUNDS requests of the same kind (new documents each time, or the same again).
            rounds, outcome = [], {}
            for index in range(ROUNDS):
                # "unchanged": ``measured`` was stored by the "new" cProfile request below, which runs first.
                documents = [_renamed(d, f"r{index}-") for d in measured] if fresh else measured
                with Timers() as timers:
                    started = time.perf_counter()
                    outcome = post(documents)
                    total = time.perf_counter() - started
                rounds.append((total, dict(timers.seconds)))
            split = {label: statistics.median(r[1][label] for r in rounds) for label in rounds[0][1]}
            results.append(Profiled(f"{name}: timers", statistics.median(r[0] for r in rounds), split, outcome))
            documents = measured  # new the first time (the timed rounds were renamed), then unchanged
            profiler = cProfile.Profile()
            profiler.enable()
            started = time.perf_counter()
            outcome = post(documents)
            total = time.perf_counter() - started
            profiler.disable()
            stats = pstats.Stats(profiler)
            top = sorted(((f"{Path(file).name}:{line}({func})", entry[2], entry[3])
                          for (file, line, func), entry in stats.stats.items()),  # type: ignore[attr-defined]
                         key=lambda item: -item[1])[:12]
            results.append(Profiled(f"{name}: cProfile", total, profile_split(stats), outcome, top))
    finally:
        app.extensions["dds.node"].close()
    return results


def _renamed(document: dict, prefix: str) -> dict:
    """The same proposal under another IRI (so that a second measured batch is new too)."""
    head, _, tail = document["id"].rpartition("/")
    return {**document, "id": f"{head}/{prefix}{tail}", "identifier": f"{prefix}{document['identifier']}"}


# ------------------------------------------------------------------------------------------ stage (c): the command


@dataclass
class Command:
    wall_s: float
    summary: str  # the command's "created ..., rejected ..." line


def run_command(path: Path, directory: Path, port: int, background_sync: bool) -> Command:
    """``dds-pod import consul-csv FILE`` run as a user would, timed from the process's start to its exit (the
    interpreter's start-up and imports, reading, publishing), into a fresh server."""
    server = fresh_server(directory, port, background_sync)
    try:
        start(server)
        command = [sys.executable, "-m", "dds_pod.cli", "import", "consul-csv", str(path), "--pod",
                   f"{server.url}{POD}/", "--token", TOKENS[POD], "--platform", PLATFORM]
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "DDS_PSEUDONYM_KEY": KEY},
                              check=False)
        wall = time.perf_counter() - started
    finally:
        server.stop()
    summary = next((line for line in done.stdout.splitlines() if line.startswith("created ")), "")
    if done.returncode != 0 or not summary:
        raise RuntimeError(f"the import command failed ({done.returncode}): {done.stderr[-2000:]}")
    return Command(wall, summary)


# ------------------------------------------------------------------------------------------ report


def print_table(reading: Reading, publishing: Publishing | None, published_rows: int,
                command: Command | None = None) -> None:
    header = f"| {'stage':<56} | {'contrib.':>8} | {'docs':>7} | {'wall s':>7} | {'contrib./s':>10} " \
             f"| {'docs/s':>7} | {'target':>10} |"
    print(header)
    print("|" + "|".join("-" * len(cell) for cell in header.split("|")[1:-1]) + "|")

    def line(name: str, contributions: int, documents: int, seconds: float, target: bool = True) -> None:
        rate = contributions / seconds
        mark = (f"≥ {TARGET_PER_S} " + ("✓" if rate >= TARGET_PER_S else "✗")) if target else "—"
        print(f"| {name:<56} | {contributions:>8} | {documents:>7} | {seconds:>7.1f} | {rate:>10.0f} "
              f"| {documents / seconds:>7.0f} | {mark:>10} |")

    line("CSV parsing only (rows.read_table)", reading.rows, reading.rows, reading.csv_s, target=False)
    line("(a) consul_csv.read: parse, map, sanitise, pseudonymise", reading.rows, reading.documents, reading.read_s)
    if publishing is None:
        return
    scale = reading.rows / published_rows
    measured = "" if scale == 1 else f" ({published_rows} rows)"
    line(f"(b) publish over HTTP, batches of {BATCH_SIZE}{measured}", published_rows, publishing.documents,
         publishing.wall_s)
    if scale != 1:
        line(f"(b) extrapolated linearly to {reading.rows} rows (×{scale:g})", reading.rows, reading.documents,
             publishing.wall_s * scale)
    line("end to end: (a) + (b)" + (" extrapolated" if scale != 1 else ""), reading.rows,
         reading.documents, reading.read_s + publishing.wall_s * scale)
    if command is not None:
        line("(c) command `dds-pod import consul-csv`, start to exit", reading.rows, reading.documents,
             command.wall_s)


def print_publishing(publishing: Publishing) -> None:
    p = publishing
    print(f"server CPU: {p.server_cpu_s:.1f} s = {p.server_cpu_s * 1000 / p.proposals:.2f} ms per contribution "
          f"({p.server_cpu_s * 1000 / p.documents:.2f} ms per document; {p.server_cpu_s / p.wall_s:.0%} of a core); "
          f"client CPU (JSON encoding, requests): {p.client_cpu_s:.1f} s = "
          f"{p.client_cpu_s * 1000 / p.documents:.2f} ms per document")
    print(f"created {p.created}, rejected {p.rejected}; store on disk {p.store_bytes / 1e6:.0f} MB; "
          f"{len(p.batch_s)} batches, median {statistics.median(p.batch_s):.2f} s")
    for kind in dict.fromkeys(p.batch_kinds):
        times = [t for t, k in zip(p.batch_s, p.batch_kinds, strict=True) if k == kind]
        parts = [times[len(times) * i // 10:len(times) * (i + 1) // 10] for i in range(10)]
        tenths = ", ".join(f"{statistics.median(part):.2f}" for part in parts if part)
        print(f"  {kind} batches ({len(times)}), median s per batch in each tenth of them, in order: {tenths}")
    for moment, seconds in p.reads.items():
        ordered = sorted(seconds)
        print(f"GET of {len(seconds)} random resources {moment}: median {statistics.median(seconds) * 1000:.1f} ms, "
              f"95th percentile {ordered[int(len(ordered) * 0.95)] * 1000:.1f} ms, max {ordered[-1] * 1000:.1f} ms")


def growth(path: Path, directory: Path, every: int) -> None:
    """Import the whole file in process, batch after batch, printing the steps' times every ``every`` batches."""
    from dds_pod.app import create_app
    from dds_pod.config import load

    os.environ.setdefault("DDS_TEST_TOKEN_PARIS", TOKENS["paris"])
    config = load(write_config(directory, 8000, data_dir=directory / "growth-data", max_body_bytes=64 << 20))
    batch, _ = consul_csv.read([path], settings_for(f"http://127.0.0.1:8000/{POD}/"))
    documents = list(batch.documents.values())
    app = create_app(config)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {TOKENS[POD]}", "Content-Type": "application/json"}
    short = {label: name for (label, *_), name in zip(STEPS, SHORT_NAMES, strict=True) if name}
    print(f"In process, batch after batch ({len(documents)} documents of {path.name}, on-disk store); seconds:")
    print()
    header = f"| {'batch':>5} | {'type':<8} | {'whole':>5} | " + " | ".join(f"{n:>7}" for n in short.values()) + " |"
    print(header)
    print("|" + "|".join("-" * (len(cell) - 1) + ":" for cell in header.split("|")[1:-1]) + "|")
    try:
        for index, start in enumerate(range(0, len(documents), BATCH_SIZE)):
            chunk = documents[start:start + BATCH_SIZE]
            body = json.dumps({"put": chunk, "delete": []}, ensure_ascii=False).encode("utf-8")
            with Timers() as timers:
                started = time.perf_counter()
                response = client.post(f"/{POD}/batch", data=body, headers=headers)
                total = time.perf_counter() - started
            if response.status_code != 200:
                raise RuntimeError(f"batch {index}: {response.status_code} {response.get_data(as_text=True)[:300]}")
            if index % every == 0 or start + BATCH_SIZE >= len(documents):
                cells = " | ".join(f"{timers.seconds[label]:>7.2f}" for label in short)
                print(f"| {index + 1:>5} | {chunk[0]['type']:<8} | {total:>5.2f} | {cells} |")
    finally:
        app.extensions["dds.node"].close()


def print_profile(results: list[Profiled]) -> None:
    print(f"One batch request of {BATCH_SIZE} proposals in process (create_app(...).test_client(), on-disk store, "
          f"after warm-up); timers: median of {ROUNDS} requests, no profiler; cProfile: one request")
    print()
    width = 16
    header = f"| {'step':<48} |" + "".join(f" {r.name:>{width}} |" for r in results)
    print(header)
    print("|" + "|".join("-" * len(cell) for cell in header.split("|")[1:-1]) + "|")

    def cell(seconds: float, total: float | None) -> str:
        share = "" if total is None else f" {seconds / total:4.0%}"
        return f" {f'{seconds * 1000:.0f} ms{share}':>{width}} |"

    for label in results[0].split:
        print(f"| {label:<48} |" + "".join(cell(r.split[label], r.total_s) for r in results))
    print(f"| {'rest (Flask, auth, answer)':<48} |"
          + "".join(cell(r.total_s - sum(r.split.values()), r.total_s) for r in results))
    print(f"| {'whole request':<48} |" + "".join(cell(r.total_s, None) for r in results))
    print("outcomes: " + "; ".join(f"{r.name}: {r.outcome}" for r in results))
    for result in results:
        if result.top:
            print()
            print(f"cProfile, {result.name}: top functions by own time (s own / s cumulative)")
            for name, own, cumulative in result.top:
                print(f"  {own:7.3f} {cumulative:7.3f}  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="proposals in the generated file")
    parser.add_argument("--publish-rows", type=int, default=None,
                        help=f"publish only the first N proposals and extrapolate (default: all, or {FALLBACK_ROWS} "
                             f"when publishing all would take more than {BUDGET_S // 60} minutes)")
    parser.add_argument("--skip-http", action="store_true", help="only stage (a) and the profile")
    parser.add_argument("--skip-profile", action="store_true")
    parser.add_argument("--growth-rows", type=int, default=0,
                        help="also import a file of N rows in process, printing each step's time every 5 batches")
    parser.add_argument("--command", action="store_true",
                        help="also time `dds-pod import consul-csv` on the whole file, into a fresh server")
    parser.add_argument("--background-sync", action="store_true",
                        help="keep the node's background harvest of its own pods (every 60 s) during the import")
    args = parser.parse_args()

    started = time.perf_counter()
    path = proposals_file(args.rows)
    generated = time.perf_counter() - started
    print(f"generated {path.relative_to(ROOT)} ({path.stat().st_size / 1e6:.1f} MB) in {generated:.1f} s",
          file=sys.stderr)

    port = free_port()
    reading = read(path, args.rows, f"http://127.0.0.1:{port}/{POD}/")
    print(f"read {reading.rows} rows in {reading.read_s:.1f} s: {reading.proposals} proposals, {reading.agents} agents",
          file=sys.stderr)

    publishing, published_rows, note = None, args.rows, ""
    with tempfile.TemporaryDirectory(prefix="dds-bench-imports-") as tmp:
        if not args.skip_http:
            published_rows = args.publish_rows or args.rows
            if args.publish_rows is None and args.rows > FALLBACK_ROWS:
                # A pilot of 2 000 proposals into a fresh server projects the full run.
                pilot_batch, _ = subset(reading, 2_000)
                pilot = publish(pilot_batch, 2_000, Path(tmp) / "pilot", port,  # the IRIs name this port
                                args.background_sync, reads=False)
                projected = pilot.wall_s * args.rows / 2_000
                print(f"pilot: 2000 rows published in {pilot.wall_s:.1f} s, {args.rows} rows projected to "
                      f"{projected:.0f} s", file=sys.stderr)
                if projected > BUDGET_S:
                    published_rows = FALLBACK_ROWS
                    note = (f"publishing all {args.rows} rows was projected to take {projected / 60:.0f} min "
                            f"(from a 2 000-row pilot), so {FALLBACK_ROWS} were published and (b) extrapolated "
                            f"linearly")
            batch, _ = subset(reading, published_rows) if published_rows < args.rows else (reading.batch, 0)
            publishing = publish(batch, published_rows, Path(tmp) / "run", port, args.background_sync)
        command = run_command(path, Path(tmp) / "command", port, args.background_sync) if args.command else None
        profiled = [] if args.skip_profile else profile(path, Path(tmp))
        if args.growth_rows:
            print()  # the growth table is printed as it goes, before the summary
            growth(proposals_file(args.growth_rows), Path(tmp), every=5)
            print()

    print(f"machine: {machine()}")
    print(f"date: {date.today().isoformat()}   python {platform.python_version()}   load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"file: {path.relative_to(ROOT)}, {args.rows} synthetic Consul proposals, "
          f"{path.stat().st_size / 1e6:.1f} MB; {reading.documents} documents ({reading.proposals} proposals, "
          f"{reading.agents} pseudonymous agents)")
    sync = "every 60 s (default)" if args.background_sync else "off (federation.interval_s = 86400)"
    print(f"server: dds-pod serve (one process, waitress threads), on-disk oxigraph store in a fresh temporary "
          f"data_dir, background harvest of its own pods {sync}; client: Publisher, batches of {BATCH_SIZE}, "
          f"two requests in flight, loopback")
    if note:
        print(f"NOTE: {note}")
    print()
    print_table(reading, publishing, published_rows, command)
    if command is not None:
        print(f"(c) the command's summary: {command.summary}")
    print()
    print(f"(a) CPU {reading.cpu_s:.1f} s; CSV parsing {reading.csv_s:.1f} s of {reading.read_s:.1f} s")
    if publishing is not None:
        print_publishing(publishing)
        record = CACHE / f"batches-{args.rows}-{published_rows}.json"
        record.write_text(json.dumps({"date": date.today().isoformat(), "rows": published_rows,
                                      "seconds": publishing.batch_s, "kinds": publishing.batch_kinds}))
        print(f"per-batch times: {record.relative_to(ROOT)}")
    if profiled:
        print()
        print_profile(profiled)


if __name__ == "__main__":
    main()
