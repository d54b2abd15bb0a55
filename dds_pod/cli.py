"""The ``dds-pod`` command line: thin wrappers around the library."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__, rdfio
from .errors import DDSError
from .terms import date_time, utc_now
from .validation import Report, default_validator

EXIT_OK, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    return args.command(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dds-pod", description="Democracy Data Space pod and federation")
    parser.add_argument("--version", action="version", version=f"dds-pod {__version__}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    validate = commands.add_parser("validate", help="check documents against the DDS shapes")
    validate.add_argument("files", nargs="+", metavar="FILE")
    validate.add_argument("--format", choices=("text", "json", "turtle"), default="text",
                          help="report format (default: text)")
    validate.add_argument("--input-format", choices=sorted(rdfio.FORMATS),
                          help="format of the files (default: from their extension)")
    validate.add_argument("--platform", metavar="IRI",
                          help="fill in the server-managed fields as a pod of this platform would")
    validate.add_argument("--lang", choices=("en", "fr"), default="en", help="language of the messages")
    validate.add_argument("--max-bytes", type=int, default=rdfio.DEFAULT_MAX_BYTES,
                          help="largest document accepted (default: 5 MB)")
    validate.set_defaults(command=run_validate)

    serve = commands.add_parser("serve", help="serve a node's pods over HTTP")
    serve.add_argument("--config", required=True, help="the node's TOML configuration")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--threads", type=int, help="request threads (default: [server] threads, 8)")
    serve.add_argument("--workers", type=_positive, default=1, metavar="N",
                       help="serving processes (default 1); more than one needs a store on a SPARQL engine")
    serve.add_argument("--seed", action="append", default=[], metavar="POD=[KIND:]PATH",
                       help="fill an empty POD at start-up from PATH: JSON-LD files (the default), or with KIND "
                            "decidim-dataspace (a folder of the module's JSON answers), decidim-csv or consul-csv")
    serve.set_defaults(command=run_serve)

    worker = commands.add_parser("worker", help="run the node's jobs (harvest, notifications) without serving HTTP")
    worker.add_argument("--config", required=True, help="the node's TOML configuration")
    worker.set_defaults(command=run_worker)

    harvest = commands.add_parser("harvest", help="sync the federation's members once and exit")
    harvest.add_argument("--config", required=True, help="the node's TOML configuration")
    harvest.set_defaults(command=run_harvest)

    analyse = commands.add_parser("analyse", help="analyse the merged graph once and publish the results")
    analyse.add_argument("--config", required=True, help="the node's TOML configuration")
    analyse.set_defaults(command=run_analyse)

    index = commands.add_parser("index", help="the search index of the merged graph")
    index_commands = index.add_subparsers(required=True, metavar="ACTION")
    rebuild = index_commands.add_parser("rebuild", help="rebuild the search index from the merged graph")
    rebuild.add_argument("--config", required=True, help="the node's TOML configuration")
    rebuild.set_defaults(command=run_index_rebuild)

    importer = commands.add_parser("import", help="import a platform's data into a pod")
    sources = importer.add_subparsers(required=True, metavar="SOURCE")
    decidim = sources.add_parser("decidim-dataspace", help="a Decidim platform with the decidim-dataspace module")
    decidim.add_argument("url", help="the platform's base URL")
    _pod_arguments(decidim)
    decidim.add_argument("--locale", default="en", help="preferred locale of the texts (default: en)")
    decidim.add_argument("--container", metavar="REF", help="only this participatory space")
    decidim.set_defaults(command=run_import_decidim)

    for name, help_text, platform in (
        ("decidim-csv", "Decidim open-data CSV exports (;-separated)", "https://www.decidim.barcelona"),
        ("consul-csv", "Consul / Decide Madrid CSV exports", "https://decide.madrid.es"),
    ):
        csv = sources.add_parser(name, help=help_text)
        csv.add_argument("files", nargs="+", metavar="FILE")
        _pod_arguments(csv)
        csv.add_argument("--strict", action="store_true",
                         help="any bad row or rejected document fails the whole import before anything is written")
        csv.set_defaults(command=run_import_csv, csv_kind=name, default_platform=platform)
    return parser


def _pod_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pod", required=True, metavar="POD_URL", help="the pod to publish into")
    parser.add_argument("--token", required=True, help="the pod's bearer token")
    parser.add_argument("--authors", choices=("pseudonyms", "names"), default="pseudonyms",
                        help="publish people as pseudonymous agents (default) or by name")
    parser.add_argument("--platform", metavar="IRI", help="the platform's IRI (default: its URL)")


def run_validate(args: argparse.Namespace) -> int:
    validator = default_validator()
    outcomes: list[tuple[str, Report | None, str | None]] = []
    for name in args.files:
        try:
            graph = _read(Path(name), args)
        except (DDSError, OSError) as exc:
            outcomes.append((name, None, getattr(exc, "message", None) or _os_message(exc)))
            continue
        if args.platform:
            stamped = validator.fill_server_managed(rdfio.to_oxigraph(graph), args.platform, date_time(utc_now()))
            graph = rdfio.to_rdflib(stamped)
        outcomes.append((name, validator.validate(graph), None))
    {"text": _print_text, "json": _print_json, "turtle": _print_turtle}[args.format](outcomes, args.lang)
    if any(error for _, _, error in outcomes):
        return EXIT_UNREADABLE
    return EXIT_OK if all(report is not None and report.conforms for _, report, _ in outcomes) else EXIT_INVALID


def run_serve(args: argparse.Namespace) -> int:
    from .config import ConfigError, load
    from .server import serve

    try:
        config = load(args.config)
    except ConfigError as exc:
        print(f"dds-pod: {exc.message}", file=sys.stderr)
        return EXIT_UNREADABLE
    from .demo import SEED_KINDS

    seeds = []
    for item in args.seed:
        pod, _, source = item.partition("=")
        kind, _, path = source.rpartition(":") if source.split(":", 1)[0] in SEED_KINDS else ("", "", source)
        if pod not in config.pods or not Path(path).exists():
            print(f"dds-pod: --seed {item!r}: expected POD=[KIND:]PATH with a pod of the configuration and an "
                  f"existing PATH; KIND is one of {', '.join(SEED_KINDS)}", file=sys.stderr)
            return EXIT_UNREADABLE
        seeds.append((pod, kind or "jsonld", Path(path)))
    return serve(config, args.host, args.port, args.threads, seeds, args.workers)


def run_worker(args: argparse.Namespace) -> int:
    from .config import ConfigError, load
    from .server import work

    try:
        config = load(args.config)
    except ConfigError as exc:
        print(f"dds-pod: {exc.message}", file=sys.stderr)
        return EXIT_UNREADABLE
    return work(config)


def _positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, not {text!r}")
    return number


def _node(config_path: str):
    """The node of a configuration file, or None (the reason printed) when the configuration is refused."""
    from .config import ConfigError, load
    from .node import Node

    try:
        return Node(load(config_path))
    except ConfigError as exc:
        print(f"dds-pod: {exc.message}", file=sys.stderr)
        return None


def run_harvest(args: argparse.Namespace) -> int:
    node = _node(args.config)
    if node is None:
        return EXIT_UNREADABLE
    try:
        harvester = node.harvester
        with _progress(len(harvester.sources)) as bar:
            reports = harvester.sync_all(progress=bar.update_member)
    finally:
        node.close()
    for report in reports:
        print(report.summary())
    failed = [r for r in reports if r.status == "failed"]
    return EXIT_INVALID if failed else EXIT_OK


def run_analyse(args: argparse.Namespace) -> int:
    """One analysis of the node's merged graph, published in its analysis graph; the counts per step printed."""
    node = _node(args.config)
    if node is None:
        return EXIT_UNREADABLE
    try:
        if not node.config.analysis.enabled:
            print("dds-pod: the analysis is disabled by [analysis] enabled = false", file=sys.stderr)
            return EXIT_INVALID
        store = node.config.store
        if store.backend == "oxigraph" and store.options.get("path") is None:
            print("dds-pod: the node's store is in memory: this command would analyse an empty graph and keep "
                  "nothing; give the node a data_dir (or a [store]) that its server harvests into", file=sys.stderr)
            return EXIT_UNREADABLE
        outcome = node.analysis.run()
    except DDSError as exc:
        print(f"dds-pod: the analysis did not run: {exc.message}", file=sys.stderr)
        return EXIT_UNREADABLE
    finally:
        node.close()
    print(outcome.summary())
    return EXIT_OK


def run_index_rebuild(args: argparse.Namespace) -> int:
    from .errors import StoreUnavailable
    from .search.updater import rebuild

    node = _node(args.config)
    if node is None:
        return EXIT_UNREADABLE
    try:
        with _counting("index") as bar:
            written = rebuild(node.search, node.search_documents, bar.update)
    except StoreUnavailable as exc:  # the index's server (or the store) is away: nothing was replaced
        print(f"dds-pod: {exc.message}", file=sys.stderr)
        return EXIT_UNREADABLE
    finally:
        node.close()
    print(f"search index rebuilt: {written} documents")
    return EXIT_OK


class _counting:
    """A progress bar of a known total on a terminal (tqdm), nothing when the output is a pipe or a file."""

    def __init__(self, description: str) -> None:
        self.description = description
        self.bar: Any = None

    def update(self, done: int, total: int) -> None:
        if not sys.stderr.isatty():
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(desc=self.description, total=total, unit=" documents", file=sys.stderr)
        self.bar.n = done
        self.bar.refresh()

    def __enter__(self) -> _counting:
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()


class _progress:
    """A progress bar on a terminal (tqdm), nothing when the output is a pipe or a file."""

    def __init__(self, members: int) -> None:
        self.bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(desc="harvest", unit=" resources", file=sys.stderr)

    def update_member(self, member: str, count: int) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(member)
            self.bar.n = count
            self.bar.refresh()

    def __enter__(self) -> _progress:
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()


def run_import_decidim(args: argparse.Namespace) -> int:
    from .importers import decidim_dataspace as decidim

    settings = _import_settings(args, default_platform=args.url.rstrip("/"))
    if settings is None:
        return EXIT_UNREADABLE
    try:
        data = decidim.fetch(args.url, args.locale, args.container)
    except decidim.SourceError as exc:
        print(f"dds-pod: cannot read the platform: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    return _publish(args, settings, decidim.to_batch(data, settings))


def run_import_csv(args: argparse.Namespace) -> int:
    from .importers import consul_csv, decidim_csv

    settings = _import_settings(args, default_platform=args.default_platform)
    if settings is None:
        return EXIT_UNREADABLE
    reader = decidim_csv.read if args.csv_kind == "decidim-csv" else consul_csv.read
    batch, problems = reader([Path(f) for f in args.files], settings)
    for problem in problems:
        print(f"bad row {problem}", file=sys.stderr)
    if problems and args.strict:
        print(f"dds-pod: {len(problems)} bad row(s); nothing was written (--strict)", file=sys.stderr)
        return EXIT_INVALID
    status = _publish(args, settings, batch)
    if problems:
        print(f"skipped {len(problems)} bad row(s)")
    return max(status, EXIT_INVALID if problems else EXIT_OK)


def _publish(args: argparse.Namespace, settings, batch) -> int:
    from .importers.publisher import Publisher, PublishError

    publisher = Publisher(settings.pod_url, args.token, atomic=getattr(args, "strict", False))
    try:
        with _progress(len(batch.documents)) as bar:
            summary = publisher.publish(batch, progress=lambda n: bar.update_member(settings.pod_url, n))
    except PublishError as exc:
        print(f"dds-pod: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    for line in summary.lines():
        print(line)
    if summary.rejected and publisher.atomic and not (summary.created or summary.updated or summary.deleted):
        print(f"dds-pod: the pod refuses {len(summary.rejected)} document(s); nothing was written (--strict)",
              file=sys.stderr)
    return EXIT_INVALID if summary.rejected else EXIT_OK


def _import_settings(args: argparse.Namespace, default_platform: str):
    from .config import ConfigError, pseudonym_key
    from .importers.common import Settings
    from .importers.pseudonyms import Pseudonymiser

    pod = args.pod if args.pod.endswith("/") else args.pod + "/"
    pseudonymiser = None
    if args.authors == "pseudonyms":
        try:
            key = pseudonym_key()  # an import command has no configuration file: the environment only
        except ConfigError:
            key = None
        if key is None:
            print("dds-pod: set DDS_PSEUDONYM_KEY (16 characters or more) to pseudonymise authors, "
                  "or pass --authors=names", file=sys.stderr)
            return None
        pseudonymiser = Pseudonymiser(key)
    return Settings(pod_url=pod, platform=args.platform or default_platform, locale=getattr(args, "locale", "en"),
                    names=args.authors == "names", pseudonymiser=pseudonymiser)


def _read(path: Path, args: argparse.Namespace):
    fmt = rdfio.FORMATS[args.input_format] if args.input_format else rdfio.format_for_path(path)
    size = path.stat().st_size
    rdfio.check_size(size, args.max_bytes)
    # One's own files: the parsers' bounds hold, the JSON-LD processor may take its time.
    return rdfio.parse(path.read_bytes(), fmt, base=path.resolve().as_uri(), max_bytes=args.max_bytes,
                       max_values=None)


def _os_message(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"cannot read: {exc.strerror}"
    return str(exc)


def _sorted_results(report: Report):
    return sorted(report.results, key=lambda r: (r.focus, r.path or "", r.severity, r.message()))


def _print_text(outcomes, lang: str) -> None:
    for name, report, error in outcomes:
        if error:
            print(f"{name}: error: {error}", file=sys.stderr)
            continue
        for result in _sorted_results(report):
            severity = "Info (server-managed)" if result.server_managed else result.severity
            print(f"{name}: {result.focus or '-'} {result.field} {severity}: {result.message(lang)}")
        print(f"{name}: {'conforms' if report.conforms else 'does not conform'}")


def _print_json(outcomes, lang: str) -> None:
    files = []
    for name, report, error in outcomes:
        entry: dict = {"file": name, "conforms": bool(report and report.conforms), "error": error}
        entry["results"] = [r.as_json() for r in _sorted_results(report)] if report else []
        files.append(entry)
    document = {"conforms": all(f["conforms"] for f in files), "files": files}
    print(json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True))


def _print_turtle(outcomes, lang: str) -> None:
    for name, report, error in outcomes:
        print(f"# {name}")
        if error:
            print(f"# error: {error}", file=sys.stderr)
            continue
        print(report.to_graph().serialize(format="turtle"))


if __name__ == "__main__":
    sys.exit(main())
