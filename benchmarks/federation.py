"""Federation at scale: harvest, incremental sync, OWL-RL alignment and SPARQL, measured in one run.

Five pods (five ``dds-pod serve`` nodes, one pod each, on-disk stores) hold N contributions each
(``--contributions-per-pod``, 20 000 by default, 2 000 with ``--quick``): proposals with topic, place,
status and dates spread over 2024-2026, comments answering proposals of the same pod and of the
other pods, and supports; plus a few topics (platform-specific concepts aligned by ``skos:exactMatch``)
and spaces per pod. The pods are filled through the domain API (``Pod.write_batch``, SHACL validation
included, one document per call unless ``--fill-batch`` says otherwise, one process per pod) before their
servers start; each filled store is checked (one feed event per write, one value per version or counter),
cached under ``var/bench/federation/`` and copied for each run, so a rerun skips the fill.

Then, against a sixth node federating the five pods over HTTP:

1. the first full harvest, ``dds-pod harvest --config FED.toml`` in its own process;
2. 100 changes over HTTP (merge-patch updates, deletes, creates) and the incremental harvest;
3. the alignment as implemented (``Aligner.infer`` per harvested resource, summed) against owlrl's
   ``DeductiveClosure(OWLRL_Semantics)`` over the ontology plus one resource, and plus 1000 resources;
4. six typical SPARQL queries through the node's ``/sparql`` (HTTP, JSON results), on pyoxigraph in
   process (a copy of the merged store) and on rdflib in process (the same quads in an
   ``rdflib.Dataset`` with ``default_union``), median of several runs, rdflib capped per query.

    .venv/bin/python -m benchmarks.federation [--contributions-per-pod 20000 | --quick] [--base-port 18700]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import multiprocessing
import os
import platform
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.pods import group_cpu_seconds, machine  # noqa: E402
from dds_pod.testing import ServerProcess, free_port  # noqa: E402

CACHE = ROOT / "var" / "bench" / "federation"
DATA_VERSION = 1  # bump when the generated data changes: the cached stores are then rebuilt
CONTEXT = "https://w3id.org/dds/context.jsonld"
CHANGES = 100
DEEP_OFFSET = 50_000
RDFLIB_CAP_S = 60.0
RDFLIB_SLOW_S = 5.0  # one rdflib run slower than this is not repeated
OWLRL_SAMPLE = 1000


@dataclass(frozen=True)
class PodSpec:
    name: str
    title: str
    platform: str
    latitude: float
    longitude: float
    topics: dict[str, str]  # canonical topic key -> this platform's own slug

    @property
    def token(self) -> str:
        return f"{self.name}-bench-token"


# Each platform names its topics its own way; the canonical key is what their skos:exactMatch points at.
PODS = (
    PodSpec("bordeaux", "Bordeaux Métropole (Decidim)", "https://participation.bordeaux-metropole.example",
            44.8378, -0.5792, {"mobility": "mobilite", "environment": "environnement", "housing": "logement",
                               "culture": "culture", "education": "education", "health": "sante"}),
    PodSpec("paris", "Paris (Decidim)", "https://decidim.paris.example",
            48.8566, 2.3522, {"mobility": "deplacements", "environment": "vegetalisation", "housing": "habitat",
                              "culture": "culture-patrimoine", "education": "ecoles", "health": "sante-publique"}),
    PodSpec("madrid", "Madrid (Consul)", "https://decide.madrid.example",
            40.4168, -3.7038, {"mobility": "movilidad", "environment": "medio-ambiente", "housing": "vivienda",
                               "culture": "cultura", "education": "educacion", "health": "salud"}),
    PodSpec("lyon", "Lyon (Cap Collectif)", "https://jeparticipe.lyon.example",
            45.7640, 4.8357, {"mobility": "transports", "environment": "nature-en-ville", "housing": "logement",
                              "culture": "culture", "education": "jeunesse", "health": "sante"}),
    PodSpec("grenoble", "Grenoble (Decidim)", "https://grenoble.decidim.example",
            45.1885, 5.7245, {"mobility": "mobilites", "environment": "climat", "housing": "logement-social",
                              "culture": "culture", "education": "ecole", "health": "sante"}),
)
CANONICAL_TOPICS = "https://topics.dds.example/"
STATUSES = ("submitted", "evaluating", "accepted", "rejected", "withdrawn", "selected", "notSelected", "inProgress",
            "implemented")
STANCES = ("inFavour", "against", "neutral")
SUBJECTS = ("piste cyclable", "arceaux vélo", "jardin partagé", "arbres", "éclairage public", "aire de jeux",
            "fontaine", "bibliothèque", "marché", "logements étudiants", "compost collectif", "passage piéton",
            "zone 30", "vélo-école", "parking vélo", "navette électrique", "toilettes publiques", "skatepark",
            "mur d'escalade", "potager scolaire", "bancs", "ombrières", "rue aux écoles", "tiers-lieu")
PLACES = ("rue Victor-Hugo", "place de la République", "quai des Chartrons", "avenue Jean-Jaurès", "parc central",
          "quartier de la gare", "boulevard circulaire", "square Pasteur", "cours de la Libération", "rue Nationale")
OPINIONS = ("Excellente idée, je soutiens.", "Je ne suis pas convaincu du coût.", "Il faudrait consulter les "
            "riverains d'abord.", "Enfin ! On attend ça depuis des années.", "Attention au stationnement.",
            "Pourquoi pas, mais pas à cet endroit.", "Très utile pour les enfants du quartier.")
FIRST_DAY = datetime(2024, 1, 1, tzinfo=UTC)
DAYS = (datetime(2026, 12, 31, tzinfo=UTC) - FIRST_DAY).days


# ----------------------------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class Layout:
    """Ports, IRIs and directories of one benchmark size."""

    per_pod: int
    base_port: int
    fill_batch: int = 1

    def port(self, index: int) -> int:
        return self.base_port + 1 + index

    def base_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.port(index)}/"

    def pod_url(self, index: int) -> str:
        return f"{self.base_url(index)}{PODS[index].name}/"

    @property
    def proposals(self) -> int:
        return self.per_pod * 40 // 100

    @property
    def supports(self) -> int:
        return self.per_pod * 15 // 100

    @property
    def comments(self) -> int:
        return self.per_pod - self.proposals - self.supports

    def proposal(self, index: int, k: int) -> str:
        return f"{self.pod_url(index)}proposals/p{k:06d}"

    @property
    def cache(self) -> Path:
        return CACHE / f"pods-{self.per_pod}-port{self.base_port}-batch{self.fill_batch}-v{DATA_VERSION}"

    def node_config(self, directory: Path, index: int, data_dir: Path) -> Path:
        spec = PODS[index]
        lines = [f'base_url = "{self.base_url(index)}"', f'data_dir = "{data_dir}"', "page_size = 500",
                 f"[pods.{spec.name}]", f'title = "{spec.title}"', f'platform = "{spec.platform}"',
                 f'token = "{spec.token}"', 'language = "fr"']
        path = directory / f"{spec.name}.toml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path


# ------------------------------------------------------------------------------------------ the data


def documents(layout: Layout, index: int) -> list[dict]:
    """Every document of one pod, deterministic for a given size."""
    spec, pod, rng = PODS[index], layout.pod_url(index), random.Random(1000 + index)
    docs: list[dict] = []
    for key, slug in spec.topics.items():
        docs.append({"@context": CONTEXT, "id": f"{pod}topics/{slug}", "type": "Concept",
                     "prefLabel": {"fr": slug.replace("-", " ").capitalize(), "en": key.capitalize()},
                     "exactMatch": f"{CANONICAL_TOPICS}{key}"})
    spaces = [f"{pod}spaces/budget-participatif-{year}" for year in (2024, 2025, 2026)]
    for year, space in zip((2024, 2025, 2026), spaces, strict=True):
        docs.append({"@context": CONTEXT, "id": space, "type": "ParticipatoryBudget",
                     "title": {"fr": f"Budget participatif {year}"}, "startDate": f"{year}-02-01",
                     "endDate": f"{year}-11-30"})
    topic_slugs = list(spec.topics.values())
    for k in range(layout.proposals):
        published = _date(rng)
        subject, place = rng.choice(SUBJECTS), rng.choice(PLACES)
        doc = {
            "@context": CONTEXT, "id": layout.proposal(index, k), "type": "Proposal",
            "identifier": f"{spec.name.upper()}-{k}",
            "title": {"fr": f"{subject.capitalize()} {place} ({k})"},
            "content": {"fr": f"<p>Nous proposons {subject} {place}. {rng.choice(OPINIONS)}</p>"},
            "author": f"{pod}people/u{rng.randrange(5000):05d}",
            "published": _iso(published),
            "space": spaces[min(2, published.year - 2024)],
            "topic": f"{pod}topics/{rng.choice(topic_slugs)}",
            "status": rng.choice(STATUSES),
            "statusDate": _iso(published + timedelta(days=rng.randrange(1, 90))),
            "supportCount": rng.randrange(500),
        }
        if rng.random() < 0.8:
            doc["location"] = {"type": "Place", "name": f"{place}, {spec.name.capitalize()}",
                               "latitude": round(spec.latitude + rng.uniform(-0.1, 0.1), 5),
                               "longitude": round(spec.longitude + rng.uniform(-0.1, 0.1), 5)}
        if rng.random() < 0.3:
            doc["title"]["en"] = f"{subject} at {place} ({k})"
        docs.append(doc)
    for k in range(layout.comments):
        docs.append({"@context": CONTEXT, "id": f"{pod}comments/c{k:06d}", "type": "Comment",
                     "inReplyTo": _target(layout, index, rng), "content": {"fr": rng.choice(OPINIONS)},
                     "stance": rng.choice(STANCES), "author": f"{pod}people/u{rng.randrange(5000):05d}",
                     "published": _iso(_date(rng))})
    for k in range(layout.supports):
        docs.append({"@context": CONTEXT, "id": f"{pod}reactions/s{k:06d}", "type": "Support",
                     "object": _target(layout, index, rng), "actor": f"{pod}people/u{rng.randrange(5000):05d}",
                     "published": _iso(_date(rng))})
    return docs


def _target(layout: Layout, index: int, rng: random.Random) -> str:
    """A proposal of the same pod (70%) or of another one; early proposals get far more reactions."""
    pod = index if rng.random() < 0.7 else rng.choice([i for i in range(len(PODS)) if i != index])
    return layout.proposal(pod, int(layout.proposals * rng.random() ** 3))


def _date(rng: random.Random) -> datetime:
    return FIRST_DAY + timedelta(days=rng.randrange(DAYS), seconds=rng.randrange(86400))


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------------------------------ the fill


def fill_pod(layout: Layout, index: int, data_dir: str) -> dict:
    """Write one pod's documents into an on-disk store through ``Pod.write_batch`` (run in its own process)."""

    from dds_pod.config import from_dict
    from dds_pod.ldp.intake import Body
    from dds_pod.ldp.resources import BatchRejected
    from dds_pod.node import Node

    spec = PODS[index]
    started = time.perf_counter()
    config = from_dict({"base_url": layout.base_url(index), "data_dir": data_dir,
                        "pods": {spec.name: {"title": spec.title, "platform": spec.platform, "token": spec.token}}})
    node = Node(config)
    pod = node.pods[spec.name]
    docs = documents(layout, index)
    parse_s = write_s = 0.0
    try:
        # The one container the documents need that a new pod lacks, created first (see fill_batch).
        pod.post(pod.url, Body(b"", "text/turtle"), slug="topics", as_container=True, credential=spec.token)
        for start in range(0, len(docs), layout.fill_batch):
            moment = time.perf_counter()
            batch = [(doc["id"], node.intake.read_json_triples(doc, doc["id"], "fr"))
                     for doc in docs[start:start + layout.fill_batch]]
            parse_s += time.perf_counter() - moment
            moment = time.perf_counter()
            try:
                pod.write_batch(batch, [], credential=spec.token, atomic=True)
            except BatchRejected as rejected:
                first = next(iter(rejected.outcome.rejected.items()))
                raise RuntimeError(f"{spec.name}: {len(rejected.outcome.rejected)} rejected, e.g. {first[0]}: "
                                   f"{first[1].field_errors('en')}") from None
            write_s += time.perf_counter() - moment
        check_pod_store(node.store, pod, len(docs))
    finally:
        node.close()
    return {"pod": spec.name, "documents": len(docs), "seconds": time.perf_counter() - started,
            "parse_s": parse_s, "write_s": write_s}


def check_pod_store(store, pod, written: int) -> None:
    """Refuse a store whose bookkeeping is inconsistent: one event per write, one value per version/counter."""
    from dds_pod.changes import META_GRAPH

    feed = pod.feed.url
    events = next(iter(store.query(f"""SELECT (COUNT(DISTINCT ?e) AS ?n) (MAX(?s) AS ?max) WHERE {{ GRAPH <{feed}> {{
        ?e a ?kind BIND(<http://www.w3.org/2001/XMLSchema#integer>(STRAFTER(STR(?e), "#")) AS ?s) }} }}""")))
    several = list(store.query(f"""SELECT ?s ?p (COUNT(?o) AS ?n) WHERE {{ GRAPH <{META_GRAPH}> {{ ?s ?p ?o }} }}
        GROUP BY ?s ?p HAVING (COUNT(?o) > 1) LIMIT 3"""))
    problems = []
    if int(events["n"].value) != written + 1 or int(events["max"].value) != written + 1:  # + the topics/ container
        problems.append(f"{events['n'].value} events up to sequence {events['max'].value} for {written + 1} writes")
    problems += [f"{row['n'].value} values of <{row['p'].value}> for <{row['s'].value}>" for row in several]
    if problems:
        raise RuntimeError(f"{pod.url}: inconsistent store after the fill: {'; '.join(problems)}")


def _fill_main(layout: Layout, index: int, data_dir: str, out) -> None:
    try:
        out.send(fill_pod(layout, index, data_dir))
    except BaseException as error:
        out.send({"error": f"{type(error).__name__}: {error}"})
        raise


def ensure_filled(layout: Layout) -> tuple[list[dict], bool]:
    """The cached pod stores, filled now (one process per pod) when missing; and whether they were cached."""
    marker = layout.cache / "filled.json"
    if marker.exists():
        return json.loads(marker.read_text()), True
    shutil.rmtree(layout.cache, ignore_errors=True)
    partial = layout.cache.with_name(layout.cache.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    context = multiprocessing.get_context("spawn")
    jobs = []
    print(f"filling {len(PODS)} pods × {layout.per_pod} contributions into {layout.cache} "
          f"(one process per pod, {layout.fill_batch} document(s) per write_batch) ...", flush=True)
    for index, spec in enumerate(PODS):
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=_fill_main, args=(layout, index, str(partial / spec.name), send))
        process.start()
        jobs.append((process, receive))
    results = []
    for process, receive in jobs:
        result = receive.recv()
        process.join()
        if "error" in result:
            raise RuntimeError(f"fill failed: {result['error']}")
        results.append(result)
    (partial / "filled.json").write_text(json.dumps(results, indent=1))
    partial.rename(layout.cache)
    return results, False


# ------------------------------------------------------------------------------------------ processes


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn does: TIME_WAIT is no obstacle
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class Server(ServerProcess):
    """A ``dds-pod serve`` process whose readiness check tolerates a slow first answer on a loaded machine."""

    def start(self, timeout: float = 120) -> Server:
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dds_pod.cli", "serve", "--config", str(self.config), "--port", str(self.port)],
            stdout=self._log, stderr=self._log, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.url, timeout=10).status_code == 200:
                    return self
            time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log_path.read_text()}")


def cpu_of(servers: list[ServerProcess]) -> float:
    return sum(group_cpu_seconds(server.process.pid) for server in servers if server.alive)


@dataclass
class Harvest:
    name: str
    seconds: float
    cpu_s: float
    pods_cpu_s: float
    output: str
    resources: int = 0
    triples: int = 0


def harvest(name: str, config: Path, pods: list[ServerProcess]) -> Harvest:
    """One ``dds-pod harvest`` process: wall time, its CPU time and the pod servers' CPU time."""
    before, pods_before, started = resource.getrusage(resource.RUSAGE_CHILDREN), cpu_of(pods), time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "dds_pod.cli", "harvest", "--config", str(config)],
                          capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"harvest failed ({done.returncode}):\n{done.stdout}\n{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Harvest(name, seconds, cpu, cpu_of(pods) - pods_before, done.stdout.strip())


def changes_over_http(layout: Layout, session: requests.Session) -> dict[str, int | float]:
    """CHANGES writes spread over the pods: 70% merge-patch updates, 10% deletes, 20% creates."""
    rng = random.Random(7)
    counts = {"update": 0, "delete": 0, "create": 0}
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    patched: set[str] = set()
    deleted: set[str] = set()
    started = time.perf_counter()
    for i in range(CHANGES):
        index = i % len(PODS)
        spec, pod = PODS[index], layout.pod_url(index)
        auth = {"Authorization": f"Bearer {spec.token}"}
        if i < CHANGES * 70 // 100:
            while (iri := layout.proposal(index, rng.randrange(layout.proposals))) in patched:
                pass
            patched.add(iri)
            body = {"status": "accepted", "statusDate": now, "supportCount": 1000 + i}
            response = session.patch(iri, data=json.dumps(body),
                                     headers={**auth, "Content-Type": "application/merge-patch+json"})
            kind = "update"
        elif i < CHANGES * 80 // 100:
            while (iri := f"{pod}comments/c{rng.randrange(layout.comments):06d}") in deleted:
                pass
            deleted.add(iri)
            response = session.delete(iri, headers=auth)
            kind = "delete"
        else:
            other = (index + 1) % len(PODS)
            body = {"@context": CONTEXT, "type": "Comment", "inReplyTo": layout.proposal(other, rng.randrange(50)),
                    "content": {"fr": f"Réponse depuis {spec.name} ({i})."}, "stance": "inFavour",
                    "author": f"{pod}people/bench", "published": now}
            response = session.post(f"{pod}comments/", data=json.dumps(body),
                                    headers={**auth, "Content-Type": "application/ld+json", "Slug": f"bench-{i}"})
            kind = "create"
        if response.status_code not in (200, 201, 204):
            raise RuntimeError(f"{kind} {response.url}: {response.status_code} {response.text[:300]}")
        counts[kind] += 1
    return {**counts, "seconds": time.perf_counter() - started}


def verify_incremental(store, layout: Layout) -> str:
    """Check that the merged store shows the HTTP changes: the patched values, the new and the deleted comments."""
    patched = next(iter(store.query("""SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g {
        ?p a <https://w3id.org/dds/ns#Proposal> ; <https://w3id.org/dds/ns#supportCount> ?count
        FILTER(?count >= 1000) } }""")))["n"].value
    created = next(iter(store.query("""SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g {
        ?c a <https://w3id.org/dds/ns#Comment> FILTER(CONTAINS(STR(?c), "/comments/bench-")) } }""")))["n"].value
    comments = next(iter(store.query("""SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g {
        ?c a <https://w3id.org/dds/ns#Comment> } }""")))["n"].value
    expected = (CHANGES * 70 // 100, CHANGES * 20 // 100, layout.comments * len(PODS) + CHANGES * 10 // 100)
    found = (int(patched), int(created), int(comments))
    if found != expected:
        raise RuntimeError(f"the merged store does not show the changes: (patched, created, comments) = {found}, "
                           f"expected {expected}")
    return (f"{found[0]} patched proposals, {found[1]} new comments, {found[2]} comments in all "
            f"({CHANGES * 10 // 100} deleted)")


def wait_for_initial_sync(fed: ServerProcess, members: list[str], since: datetime, timeout: float = 600) -> float:
    """``dds-pod serve`` syncs once at start-up: wait until every member shows a later ``dds:lastSync``."""
    from rdflib import Graph, URIRef

    from dds_pod.vocab import DDS

    started, deadline = time.perf_counter(), time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = requests.get(f"{fed.url}catalog", headers={"Accept": "text/turtle"}, timeout=30).text
        catalog = Graph().parse(data=text, format="turtle")
        synced = [catalog.value(URIRef(m), DDS.lastSync) for m in members]
        if all(s is not None and s.toPython() >= since for s in synced):
            return time.perf_counter() - started
        time.sleep(0.5)
    raise RuntimeError("the federating node did not finish its start-up sync")


# ------------------------------------------------------------------------------------------ the merged store


@dataclass
class StoreCounts:
    quads: int
    resources: int
    data_triples: int
    inferred_triples: int
    other_quads: int  # provenance, members, catalogue


def resource_graphs(store, fed_base: str) -> list[str]:
    """Named graphs holding a harvested resource (not the node's own graphs about them)."""
    internal = f"{fed_base}federation/"
    return sorted(g.value for g in store.named_graphs() if not g.value.startswith(internal))


def count_store(store, fed_base: str) -> StoreCounts:
    import pyoxigraph as ox

    inferred_prefix = f"{fed_base}federation/inferred?"
    data = inferred = other = resources = 0
    for graph in store.named_graphs():
        n = sum(1 for _ in store.quads_for_pattern(None, None, None, graph))
        if graph.value.startswith(inferred_prefix):
            inferred += n
        elif graph.value.startswith(f"{fed_base}federation/"):
            other += n
        else:
            data += n
            resources += 1
    other += sum(1 for _ in store.quads_for_pattern(None, None, None, ox.DefaultGraph()))
    return StoreCounts(data + inferred + other, resources, data, inferred, other)


# ------------------------------------------------------------------------------------------ OWL-RL


@dataclass
class Alignment:
    resources: int
    infer_s: float
    inferred: int
    closure_s: float
    one_s: float
    one_triples: int
    sample: int
    sample_s: float
    sample_triples: int


def measure_alignment(store, fed_base: str, sample_size: int) -> Alignment:
    """Aligner.infer over every harvested resource vs owlrl's DeductiveClosure over the ontology plus resources."""
    import owlrl
    from rdflib import Graph

    from dds_pod import standard
    from dds_pod.federation.alignment import Aligner
    from dds_pod.rdfio import to_rdflib

    started = time.perf_counter()
    aligner = Aligner(standard.ontology_graph(), standard.shapes_graph())
    closure_s = time.perf_counter() - started
    graphs = resource_graphs(store, fed_base)
    infer_s, inferred = 0.0, 0
    import pyoxigraph as ox

    for graph in graphs:
        triples = [q.triple for q in store.quads_for_pattern(None, None, None, ox.NamedNode(graph))]
        moment = time.perf_counter()
        inferred += len(aligner.infer(triples))
        infer_s += time.perf_counter() - moment

    def closure(resources: list[str]) -> tuple[float, int]:
        graph = Graph()
        graph += standard.ontology_graph()
        for iri in resources:
            graph += to_rdflib([q.triple for q in store.quads_for_pattern(None, None, None, ox.NamedNode(iri))])
        moment = time.perf_counter()
        owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False, datatype_axioms=False).expand(graph)
        return time.perf_counter() - moment, len(graph)

    proposal = next(g for g in graphs if "/proposals/" in g)
    one = [closure([proposal]) for _ in range(3)]
    one_s, one_triples = statistics.median(s for s, _ in one), one[0][1]
    sample = random.Random(3).sample(graphs, min(sample_size, len(graphs)))
    sample_s, sample_triples = closure(sample)
    return Alignment(len(graphs), infer_s, inferred, closure_s, one_s, one_triples, len(sample), sample_s,
                     sample_triples)


# ------------------------------------------------------------------------------------------ queries

PREFIXES = """PREFIX dds: <https://w3id.org/dds/ns#>
PREFIX as: <https://www.w3.org/ns/activitystreams#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""


def queries(layout: Layout) -> dict[str, str]:
    spec = PODS[0]
    contributions = (layout.proposals + layout.comments) * len(PODS)
    offset = min(DEEP_OFFSET, contributions * 6 // 10)
    lat, lon = spec.latitude, spec.longitude
    return {
        "count by platform": """
            SELECT ?platform (COUNT(?c) AS ?n) WHERE { ?c a dds:Contribution ; dds:sourcePlatform ?platform }
            GROUP BY ?platform ORDER BY ?platform""",
        "topic + date + text": f"""
            SELECT ?p ?title ?published WHERE {{
              ?topic skos:exactMatch <{CANONICAL_TOPICS}mobility> .
              ?p a dds:Proposal ; dcterms:subject ?topic ; as:published ?published ; dcterms:title ?title .
              FILTER(?published >= "2025-01-01T00:00:00Z"^^xsd:dateTime
                     && ?published < "2025-07-01T00:00:00Z"^^xsd:dateTime)
              FILTER(CONTAINS(LCASE(STR(?title)), "vélo"))
            }} ORDER BY DESC(?published) ?p ?title""",
        "bounding box": f"""
            SELECT ?p ?lat ?lon WHERE {{
              ?p a dds:Proposal ; as:location ?place . ?place as:latitude ?lat ; as:longitude ?lon .
              FILTER(?lat >= {lat - 0.02:.4f} && ?lat <= {lat + 0.02:.4f}
                     && ?lon >= {lon - 0.02:.4f} && ?lon <= {lon + 0.02:.4f})
            }} ORDER BY ?p""",
        "cross-platform reactions": """
            SELECT ?from ?to (COUNT(?c) AS ?n) WHERE {
              ?c a dds:Comment ; as:inReplyTo ?p ; dds:sourcePlatform ?from .
              ?p a dds:Proposal ; dds:sourcePlatform ?to .
              FILTER(?from != ?to)
            } GROUP BY ?from ?to ORDER BY ?from ?to""",
        "one proposal + comments": f"""
            SELECT ?title ?c ?content ?published ?platform WHERE {{
              <{layout.proposal(0, 0)}> dcterms:title ?title . FILTER(LANG(?title) = "fr")
              ?c as:inReplyTo <{layout.proposal(0, 0)}> ; as:content ?content ; as:published ?published ;
                 dds:sourcePlatform ?platform .
            }} ORDER BY ?published ?c""",
        f"deep page (OFFSET {offset})": f"""
            SELECT ?c ?published WHERE {{ ?c a dds:Contribution ; as:published ?published }}
            ORDER BY DESC(?published) ?c OFFSET {offset} LIMIT 20""",
        "trivial (fixed cost)": "SELECT (1 AS ?one) WHERE {}",
    }


def fingerprint(rows: list[tuple[str, ...]]) -> str:
    """Rows as a multiset: equal for the same answers whatever the engine's order of ties."""
    return hashlib.sha256("\n".join(sorted("\t".join(row) for row in rows)).encode()).hexdigest()[:8]


@dataclass
class Timing:
    ms: list[float] = field(default_factory=list)
    rows: int = 0
    print: str = ""
    capped: bool = False

    @property
    def median(self) -> float | None:
        return statistics.median(self.ms) if self.ms else None


def time_runs(run: Callable[[], list[tuple[str, ...]]], runs: int, warmup: int = 1) -> Timing:
    timing = Timing()
    for _ in range(warmup):
        run()
    for _ in range(runs):
        started = time.perf_counter()
        rows = run()
        timing.ms.append((time.perf_counter() - started) * 1000)
    timing.rows, timing.print = len(rows), fingerprint(rows)
    return timing


def endpoint_runner(session: requests.Session, url: str, query: str) -> Callable[[], list[tuple[str, ...]]]:
    def run() -> list[tuple[str, ...]]:
        response = session.post(url, data={"query": PREFIXES + query},
                                headers={"Accept": "application/sparql-results+json"})
        if response.status_code != 200:
            raise RuntimeError(f"/sparql answered {response.status_code}: {response.text[:500]}")
        document = response.json()
        names = document["head"]["vars"]
        return [tuple(b[n]["value"] if n in b else "" for n in names) for b in document["results"]["bindings"]]

    return run


def oxigraph_runner(store, query: str) -> Callable[[], list[tuple[str, ...]]]:
    def run() -> list[tuple[str, ...]]:
        solutions = store.query(PREFIXES + query, use_default_graph_as_union=True)
        names = [v.value for v in solutions.variables]
        return [tuple(s[n].value if s[n] is not None else "" for n in names) for s in solutions]

    return run


def rdflib_runner(dataset, query: str) -> Callable[[], list[tuple[str, ...]]]:
    def run() -> list[tuple[str, ...]]:
        result = dataset.query(PREFIXES + query)
        names = [str(v) for v in result.vars]
        return [tuple(str(row[n]) if row[n] is not None else "" for n in names) for row in result]

    return run


def load_rdflib(store):
    """Every quad of the merged store in an rdflib Dataset whose default graph is the union of the graphs."""
    import pyoxigraph as ox
    from rdflib import BNode, Dataset, Literal, URIRef

    dataset = Dataset(default_union=True)
    iris: dict[str, URIRef] = {}
    contexts: dict[str, object] = {}
    string = "http://www.w3.org/2001/XMLSchema#string"

    def term(node):
        if isinstance(node, ox.NamedNode):
            found = iris.get(node.value)
            if found is None:
                found = iris[node.value] = URIRef(node.value)
            return found
        if isinstance(node, ox.BlankNode):
            return BNode(node.value)
        if node.language:
            return Literal(node.value, lang=node.language)
        if node.datatype.value == string:
            return Literal(node.value)
        return Literal(node.value, datatype=term(node.datatype), normalize=False)  # the lexical form as stored

    def quads():
        for quad in store:
            name = quad.graph_name
            if isinstance(name, ox.DefaultGraph):
                context = dataset.default_context
            else:
                context = contexts.get(name.value)
                if context is None:
                    context = contexts[name.value] = dataset.graph(URIRef(name.value))
            yield term(quad.subject), term(quad.predicate), term(quad.object), context

    dataset.addN(quads())
    return dataset


def _rdflib_child(run: Callable[[], list[tuple[str, ...]]], runs: int, budget_s: float, out) -> None:
    spent, rows = 0.0, []
    for _ in range(runs):
        started = time.perf_counter()
        rows = run()
        elapsed = time.perf_counter() - started
        spent += elapsed
        out.send(("time", elapsed * 1000, len(rows), fingerprint(rows)))
        if spent + elapsed > budget_s or elapsed > RDFLIB_SLOW_S:  # another run would not fit, or is not worth it
            break
    out.send(("done",))


def time_rdflib(run: Callable[[], list[tuple[str, ...]]], runs: int, cap_s: float) -> Timing:
    """Runs in a forked child (the dataset is shared copy-on-write), killed when the cap is reached."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_rdflib_child, args=(run, runs, cap_s, send))
    child.start()
    send.close()
    timing, deadline = Timing(), time.monotonic() + cap_s
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not receive.poll(remaining):
                timing.capped = not timing.ms
                break
            try:
                message = receive.recv()
            except EOFError:
                break
            if message[0] == "done":
                break
            timing.ms.append(message[1])
            timing.rows, timing.print = message[2], message[3]
    finally:
        if child.is_alive():
            child.kill()
        child.join()
    return timing


# ------------------------------------------------------------------------------------------ the run


def fed_config(layout: Layout, directory: Path, port: int, data_dir: Path) -> Path:
    members = [layout.pod_url(i) for i in range(len(PODS))]
    lines = [f'base_url = "http://127.0.0.1:{port}/"', f'data_dir = "{data_dir}"', "[federation]",
             f"members = {json.dumps(members)}", "interval_s = 3600", "query_timeout_s = 120",
             "fetch_timeout_s = 60", 'allow_networks = ["127.0.0.0/8"]']
    path = directory / "federation.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass
class QueryRow:
    name: str
    endpoint: Timing
    oxigraph: Timing
    rdflib: Timing | None = None


def run(layout: Layout, runs: int, rdflib_runs: int, rdflib_cap_s: float, keep: bool) -> None:
    import pyoxigraph as ox

    for index in range(len(PODS)):
        if not port_free(layout.port(index)):
            sys.exit(f"port {layout.port(index)} is taken: choose another --base-port")
    fill, cached = ensure_filled(layout)
    work = CACHE / f"work-{layout.per_pod}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    started = time.perf_counter()
    for spec in PODS:
        shutil.copytree(layout.cache / spec.name, work / "pods" / spec.name)
    copy_s = time.perf_counter() - started
    print(f"pod stores: {'cached' if cached else 'filled now'} (fill took {max(f['seconds'] for f in fill):.0f} s "
          f"wall with {len(PODS)} processes on {os.cpu_count()} cores), copied in {copy_s:.1f} s", flush=True)

    pods = [Server(layout.node_config(work, i, work / "pods" / spec.name), layout.port(i),
                          work / f"{spec.name}.log") for i, spec in enumerate(PODS)]
    fed_port = free_port()
    config = fed_config(layout, work, fed_port, work / "fed")
    fed = Server(config, fed_port, work / "fed.log")
    session = requests.Session()
    try:
        for server in pods:
            server.start(timeout=120)
        print("pods up; first harvest ...", flush=True)
        full = harvest("first full harvest", config, pods)
        print(f"  {full.seconds:.1f} s", flush=True)
        counted = count_store(ox.Store.read_only(str(work / "fed" / "federation")), fed.url)
        full.resources, full.triples = counted.resources, counted.data_triples
        changed = changes_over_http(layout, session)
        print(f"{CHANGES} changes over HTTP in {changed['seconds']:.1f} s; incremental harvest ...", flush=True)
        incremental = harvest(f"incremental, {CHANGES} changes", config, pods)
        incremental.resources = changed["update"] + changed["create"] + changed["delete"]
        idle = harvest("nothing changed (fixed cost)", config, pods)

        snapshot = work / "snapshot"
        shutil.copytree(work / "fed" / "federation", snapshot)
        store = ox.Store(str(snapshot))
        counts = count_store(store, fed.url)
        verified = verify_incremental(store, layout)
        serve_since = datetime.now(UTC)
        fed.start(timeout=120)
        sync_s = wait_for_initial_sync(fed, [layout.pod_url(i) for i in range(len(PODS))], serve_since)
        for server in pods:  # idle from now on: only the queries run
            server.stop()
        print(f"federating node up (start-up sync {sync_s:.1f} s); alignment ...", flush=True)
        alignment = measure_alignment(store, fed.url, OWLRL_SAMPLE)
        print("queries: endpoint and in-process pyoxigraph ...", flush=True)
        rows = []
        for name, query in queries(layout).items():
            rows.append(QueryRow(name, time_runs(endpoint_runner(session, f"{fed.url}sparql", query), runs),
                                 time_runs(oxigraph_runner(store, query), runs)))
    except Exception:
        for server in (*pods, fed):
            if server.process is not None:
                print(f"--- {server.log_path.name}\n{server.log()[-2000:]}", file=sys.stderr)
        raise
    finally:
        for server in (*pods, fed):
            if server.process is not None:
                server.stop()

    print("rdflib: loading the same quads ...", flush=True)
    started = time.perf_counter()
    dataset = load_rdflib(store)
    load_s = time.perf_counter() - started
    for row, (_, query) in zip(rows, queries(layout).items(), strict=True):
        print(f"  {row.name} ...", flush=True)
        row.rdflib = time_rdflib(rdflib_runner(dataset, query), rdflib_runs, rdflib_cap_s)
    if not keep:
        del store
        shutil.rmtree(work, ignore_errors=True)

    report(layout, fill, cached, copy_s, [full, incremental, idle], changed, verified, counts, alignment, rows,
           load_s, len(dataset), runs, rdflib_runs, rdflib_cap_s)


def versions() -> str:
    from importlib.metadata import version

    return ", ".join(f"{name} {version(name)}" for name in ("pyoxigraph", "rdflib", "owlrl", "pyshacl"))


def report(layout: Layout, fill: list[dict], cached: bool, copy_s: float, harvests: list[Harvest], changed: dict,
           verified: str, counts: StoreCounts, alignment: Alignment, rows: list[QueryRow], load_s: float,
           rdflib_quads: int, runs: int, rdflib_runs: int, rdflib_cap_s: float) -> None:
    print()
    print(f"machine: {machine()}")
    print(f"date: {date.today().isoformat()}   python {platform.python_version()}   {versions()}")
    print(f"data: {len(PODS)} pods × {layout.per_pod} contributions ({layout.proposals} proposals, "
          f"{layout.comments} comments, {layout.supports} supports, + {len(PODS[0].topics)} topics and 3 spaces), "
          f"each pod on its own `dds-pod serve` node (on-disk store)")
    fill_docs = sum(f["documents"] for f in fill)
    fill_s = max(f["seconds"] for f in fill)
    per_pod_s, parse_s = statistics.mean(f["seconds"] for f in fill), statistics.mean(f["parse_s"] for f in fill)
    print(f"fill: Pod.write_batch, {layout.fill_batch} document(s) per call, one process per pod: {fill_docs} "
          f"documents in {fill_s:.0f} s wall ({fill_docs / fill_s:.0f} docs/s; per pod {per_pod_s:.0f} s, "
          f"of which JSON-LD {parse_s:.0f} s)"
          + (" — cached from an earlier run" if cached else "") + f"; copied for this run in {copy_s:.1f} s")
    print(f"merged store after the syncs: {counts.quads} quads = {counts.data_triples} harvested triples in "
          f"{counts.resources} resource graphs + {counts.inferred_triples} inferred + {counts.other_quads} "
          f"provenance/catalogue")
    print()
    print("Harvest: `dds-pod harvest --config federation.toml` (a separate process, all members remote, over HTTP)")
    print()
    header = (f"| {'sync':<32} | {'resources':>9} | {'triples':>9} | {'wall s':>7} | {'harvester CPU s':>15} "
              f"| {'pods CPU s':>10} | {'resources/s':>11} | {'triples/s':>9} |")
    print(header)
    print(_rule(header))
    for item in harvests:
        per_s = f"{item.resources / item.seconds:.0f}" if item.resources else "—"
        triples = f"{item.triples / item.seconds:.0f}" if item.triples else "—"
        print(f"| {item.name:<32} | {item.resources or '—':>9} | {item.triples or '—':>9} | {item.seconds:>7.1f} "
              f"| {item.cpu_s:>15.1f} | {item.pods_cpu_s:>10.1f} | {per_s:>11} | {triples:>9} |")
    print()
    print(f"changes: {changed['update']} merge-patch updates, {changed['delete']} deletes, {changed['create']} "
          f"creates over HTTP in {changed['seconds']:.1f} s; after the incremental harvest the merged store has "
          f"{verified}")
    print("summary printed by the first harvest:")
    for line in harvests[0].output.splitlines():
        print(f"    {line}")
    print()
    a = alignment
    infer_ms = a.infer_s * 1000 / a.resources
    one_ms = a.one_s * 1000
    sample_ms = a.sample_s * 1000 / a.sample
    print("Alignment (OWL-RL): as implemented vs owlrl DeductiveClosure(OWLRL_Semantics, no axiomatic/datatype "
          "triples) in process")
    print()
    header = (f"| {'method':<62} | {'resources':>9} | {'triples':>8} | {'total s':>8} | {'ms/resource':>11} "
              f"| {'× infer':>8} |")
    print(header)
    print(_rule(header))
    print(f"| {'Aligner.infer, every harvested resource (summed)':<62} | {a.resources:>9} | {a.inferred:>8} "
          f"| {a.infer_s:>8.2f} | {infer_ms:>11.3f} | {1:>8.0f} |")
    print(f"| {'Aligner() once per process: owlrl closure of the ontology':<62} | {'—':>9} | {'—':>8} "
          f"| {a.closure_s:>8.2f} | {'—':>11} | {'—':>8} |")
    print(f"| {'owlrl: ontology + 1 resource':<62} | {1:>9} | {a.one_triples:>8} | {a.one_s:>8.2f} "
          f"| {one_ms:>11.1f} | {one_ms / infer_ms:>8.0f} |")
    print(f"| {f'owlrl: ontology + {a.sample} resources':<62} | {a.sample:>9} | {a.sample_triples:>8} "
          f"| {a.sample_s:>8.2f} | {sample_ms:>11.1f} | {sample_ms / infer_ms:>8.0f} |")
    whole = sample_ms * a.resources / 1000
    print(f"| {'owlrl over the whole store, linear estimate from the sample':<62} | {a.resources:>9} | {'—':>8} "
          f"| {whole:>8.0f} | {sample_ms:>11.1f} | {sample_ms / infer_ms:>8.0f} |")
    print()
    print(f"Queries: median of {runs} runs after a warm-up (endpoint: POST query= to /sparql with a requests.Session, "
          f"JSON results decoded; pyoxigraph: a copy of the merged store in process, union default graph; rdflib: "
          f"Dataset(default_union=True) with the same {rdflib_quads} quads, loaded in {load_s:.0f} s, up to "
          f"{rdflib_runs} runs, capped at {rdflib_cap_s:.0f} s per query)")
    print()
    header = (f"| {'query':<27} | {'rows':>5} | {'endpoint ms':>11} | {'pyoxigraph ms':>13} | {'rdflib ms':>9} "
              f"| {'endpoint/pyox':>13} | {'rdflib/endpoint':>15} | {'agree':>5} |")
    print(header)
    print(_rule(header))
    for row in rows:
        endpoint, oxi, rdf = row.endpoint.median, row.oxigraph.median, row.rdflib.median if row.rdflib else None
        ratio = endpoint / oxi
        rdf_cell = f">{rdflib_cap_s * 1000:.0f}" if rdf is None else f"{rdf:.0f}"
        slow = f"{rdf / endpoint:.0f}×" if rdf is not None else f">{rdflib_cap_s * 1000 / endpoint:.0f}×"
        slow_ok = rdf is None or rdf / endpoint >= 10
        prints = {row.endpoint.print, row.oxigraph.print} | ({row.rdflib.print} if rdf is not None else set())
        agree = "yes" if len(prints) == 1 else "NO"
        marks = ("", "") if row.name.startswith("trivial") else (" ✓" if ratio <= 1.5 else " ✗",
                                                                  " ✓" if slow_ok else " ✗")
        print(f"| {row.name:<27} | {row.endpoint.rows:>5} | {endpoint:>11.1f} | {oxi:>13.1f} | {rdf_cell:>9} "
              f"| {f'{ratio:.2f}{marks[0]}':>13} | {f'{slow}{marks[1]}':>15} | {agree:>5} |")
    print()
    print("targets: endpoint/pyoxigraph ≤ 1.5×, rdflib/endpoint ≥ 10× (not applied to the trivial query, which only "
          "shows the endpoint's fixed cost per query); rows: size of the answer; agree: the three engines give the "
          "same multiset of rows")


def _rule(header: str) -> str:
    return "|" + "|".join("-" * len(cell) for cell in header.split("|")[1:-1]) + "|"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contributions-per-pod", type=int, default=20_000)
    parser.add_argument("--quick", action="store_true", help="2 000 contributions per pod")
    parser.add_argument("--base-port", type=int, default=18_700, help="pods listen on the next five ports")
    parser.add_argument("--runs", type=int, default=5, help="runs per query on the endpoint and on pyoxigraph")
    parser.add_argument("--rdflib-runs", type=int, default=3)
    parser.add_argument("--rdflib-cap", type=float, default=RDFLIB_CAP_S, help="seconds per query on rdflib")
    parser.add_argument("--fill-batch", type=int, default=1,
                        help="documents per Pod.write_batch call when filling (part of the cache key; before commit "
                             "e547852 larger batches left inconsistent feeds, which the fill's check refuses)")
    parser.add_argument("--keep", action="store_true", help=f"keep the run's stores under {CACHE}")
    args = parser.parse_args()
    per_pod = 2_000 if args.quick else args.contributions_per_pod
    run(Layout(per_pod, args.base_port, args.fill_batch), args.runs, args.rdflib_runs, args.rdflib_cap, args.keep)


if __name__ == "__main__":
    main()
