"""The `ashyq` command line (DESIGN §4). Commands are thin: each calls one function of the pipeline.

This module is the composition root, so it is the one place that may start the crawlers (via Scrapy's
registry, by spider name) and the simulator.
"""

from __future__ import annotations

import logging
import sys
from datetime import date
from pathlib import Path

import click

from entities.config import database_url
from entities.db import make_engine


def _engine():  # type: ignore[no-untyped-def]
    return make_engine(database_url())


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log debug output.")
def main(verbose: bool) -> None:
    """Ashyq: who holds which education contract in Kazakhstan, on what legal basis."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


# ---------------------------------------------------------------------------------------------- db
@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database (ASHYQ_DATABASE_URL, default data/ashyq.sqlite) to the newest schema."""
    from entities.migrate import upgrade

    engine = _engine()
    if engine.url.get_backend_name() == "sqlite" and engine.url.database:
        Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)
    upgrade(engine)
    click.echo(f"database at head: {engine.url.render_as_string(hide_password=True)}")


# ------------------------------------------------------------------------------------------- crawl
@main.command()
@click.argument("source")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Start of the date window (inclusive).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="End of the date window (inclusive).")
@click.option("--supplier", "supplier_bin", help="Tender history of one supplier (BIN or IIN).")
@click.option("--customer", "customer_bin", help="Contracts and announcements of one customer (BIN).")
@click.option("--slugs", help="govkz: comma-separated gov.kz entity slugs, or 'pack' (default) or 'all'.")
@click.option("--bins", help="statgov: comma-separated BINs instead of every BIN in the organizations table.")
@click.option("--job-dir", type=click.Path(path_type=Path), help="Scrapy JOBDIR: a killed crawl resumes from here.")
@click.option("-a", "extra", multiple=True, help="Extra spider argument NAME=VALUE (repeatable).")
def crawl(
    source: str,
    since: date | None,
    until: date | None,
    supplier_bin: str | None,
    customer_bin: str | None,
    slugs: str | None,
    bins: str | None,
    job_dir: Path | None,
    extra: tuple[str, ...],
) -> None:
    """Run one spider (goszakup, …) into the raw store; `curated` loads data/curated/*.yaml (-a path=DIR)."""
    from pipeline.crawl import CrawlError, run_crawl

    if source == "curated":
        _load_curated(dict(pair.partition("=")[::2] for pair in extra).get("path"))
        return
    args: dict[str, str] = {}
    if since:
        args["since"] = since.strftime("%Y-%m-%d")
    if until:
        args["until"] = until.strftime("%Y-%m-%d")
    if supplier_bin:
        args["supplier"] = supplier_bin
    if customer_bin:
        args["customer"] = customer_bin
    if slugs:
        args["slugs"] = slugs
    if bins:
        args["bins"] = bins
    for pair in extra:
        name, _, value = pair.partition("=")
        args[name] = value
    try:
        stats = run_crawl(source, args, job_dir=job_dir)
    except CrawlError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(stats.summary())
    if not stats.complete:
        # Scripts must be able to tell: re-running the same command resumes the missing units.
        sys.exit(1)


def _load_curated(path: str | None) -> None:
    from pipeline.curated import CURATED_DIR
    from pipeline.raw_import import load_curated_raw

    load = load_curated_raw(_engine(), Path(path) if path else CURATED_DIR)
    for error in load.errors:
        click.echo(f"error: {error}", err=True)
    click.echo(load.summary())
    if load.rejected_files:
        sys.exit(1)


# ------------------------------------------------------------------------------------------ import
@main.group("import")
def import_() -> None:
    """Import files into the raw store (sources without an API)."""


@import_.command("ppp")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--sheet", default=None, help="Worksheet name (xlsx; default: the first with a header row).")
def import_ppp_cmd(file: Path, sheet: str | None) -> None:
    """PPP registry spreadsheet (xlsx or csv; docs/ppp-import.md) → raw records; rejected rows are listed."""
    from pipeline.ppp_import import PPPImportError
    from pipeline.raw_import import import_ppp_raw

    try:
        load = import_ppp_raw(_engine(), file, sheet=sheet)
    except PPPImportError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    for reject in load.rejects:
        click.echo(f"rejected: {file.name} row {reject.row_number}: {reject.reason}", err=True)
    click.echo(load.summary())
    if load.rejects:
        sys.exit(1)


# ------------------------------------------------------------------------------------------- build
@main.command()
def build() -> None:
    """Normalize raw records, derive engagements (incremental; re-running changes nothing)."""
    from pipeline.build import run_build

    report = run_build(_engine(), progress=True)
    click.echo(report.summary())


# ------------------------------------------------------------------------------------------ export
@main.group()
def export() -> None:
    """Export tables for spreadsheets and other tools."""


FORMAT_OPTION = click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True,
    help="CSV (UTF-8 with BOM) or JSON (same fields, same order).",
)  # fmt: skip


@export.command("engagements")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True)
@FORMAT_OPTION
def export_engagements_cmd(output: Path, fmt: str) -> None:
    """Who holds what, on which basis, in the documented column order."""
    if fmt == "json":
        from pipeline.export_json import export_engagements_json as write
    else:
        from pipeline.export import export_engagements as write

    count = write(_engine(), output)
    click.echo(f"{count} engagements written to {output}")


@export.command("entities")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True)
@FORMAT_OPTION
def export_entities_cmd(output: Path, fmt: str) -> None:
    """Organizations and persons: every name seen, sources, and each merge's rule and score."""
    if fmt == "json":
        from pipeline.export_json import export_entities_json as write
    else:
        from pipeline.resolution import export_entities as write

    count = write(_engine(), output)
    click.echo(f"{count} entities written to {output}")


@export.command("memoranda")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True)
def export_memoranda_cmd(output: Path) -> None:
    """Memoranda with their parties: CSV (UTF-8 with BOM), lists joined with ` | `."""
    from pipeline.export_memoranda import export_memoranda

    count = export_memoranda(_engine(), output)
    click.echo(f"{count} memoranda written to {output}")


# >>> export graph (pipeline.graph)
@export.command("graph")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True)
@click.option("--format", "fmt", type=click.Choice(["gexf", "graphml"]), default=None,
              help="Default: from the file extension (.graphml), else gexf.")
def export_graph_cmd(output: Path, fmt: str | None) -> None:
    """The relationship graph with every edge's evidence, for Gephi and other tools (GEXF or GraphML)."""
    from pipeline.graph import export_graph

    chosen = fmt or ("graphml" if output.suffix.lower() == ".graphml" else "gexf")
    nodes, edges = export_graph(_engine(), output, chosen)
    click.echo(f"{nodes} nodes and {edges} edges written to {output} ({chosen})")
# <<< export graph

# >>> export ftm, ocds, json (pipeline.export_ftm, pipeline.export_ocds)
@export.command("ftm")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True)
def export_ftm_cmd(output: Path) -> None:
    """FollowTheMoney entities, one JSON object per line (OpenAleph, `ftm` tools); every entity has sourceUrl."""
    from pipeline.export_ftm import export_ftm

    report = export_ftm(_engine(), output)
    click.echo(f"{report.summary()} written to {output}")


@export.command("ocds")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True)
@click.option("--ocid-prefix", default=None, help="Your registered OCDS prefix (default: a placeholder).")
@click.option("--uri", default=None, help="Where the package will be published (the package's `uri`).")
@click.option("--validate", is_flag=True, help="Check the written file against the official OCDS 1.1 schema.")
def export_ocds_cmd(output: Path, ocid_prefix: str | None, uri: str | None, validate: bool) -> None:
    """goszakup contracts as one OCDS 1.1 release package (one release per contract root)."""
    from pipeline.export_ocds import (
        DEFAULT_URI,
        OCID_PREFIX,
        NothingToExportError,
        export_ocds,
        validate_package,
    )

    try:
        report = export_ocds(
            _engine(), output, ocid_prefix=ocid_prefix or OCID_PREFIX, uri=uri or DEFAULT_URI, allow_empty=False
        )
    except NothingToExportError as exc:
        click.echo(f"error: {exc}; nothing written", err=True)
        sys.exit(1)
    click.echo(f"{report.summary()} written to {output}")
    if ocid_prefix is None:
        click.echo(f"note: ocids use the placeholder prefix {OCID_PREFIX}; register a prefix before publishing")
    if validate:
        errors = validate_package(output)
        for error in errors:
            click.echo(f"invalid: {error}", err=True)
        if errors:
            sys.exit(1)
        click.echo("valid against the OCDS 1.1.5 release-package schema (with the legalBasis extension)")


# <<< export ftm, ocds, json

# >>> export flags (pipeline.flags)
@export.command("flags")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True)
def export_flags_cmd(output: Path) -> None:
    """Red flags with inputs, thresholds, sources and adjudication state: CSV (UTF-8 with BOM)."""
    from pipeline.flags.export import export_flags

    count = export_flags(_engine(), output)
    click.echo(f"{count} flags written to {output}")
# <<< export flags


# ---------------------------------------------------------------------------------- serve and demo
@main.command()
@click.option("--port", default=8501, show_default=True)
def dashboard(port: int) -> None:
    """Serve the Streamlit dashboard on 127.0.0.1."""
    from pipeline.serve import ServeError, serve_dashboard

    try:
        serve_dashboard(port=port)
    except ServeError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


@main.command()
@click.option("--port", default=8765, show_default=True)
@click.option("--scenario", default="demo", show_default=True, help="demo, or scale:N for N contracts.")
@click.option("--fault-rate", default=0.0, show_default=True, help="Share of requests that fail transiently.")
@click.option("--token", default=None, help="The token the simulator accepts (default: any non-empty).")
def simulate(port: int, scenario: str, fault_rate: float, token: str | None) -> None:
    """Serve the offline source simulator on 127.0.0.1 (goszakup GraphQL v3)."""
    from crawlers.simulator.server import serve_forever

    serve_forever(port=port, scenario=scenario, fault_rate=fault_rate, token=token)


@main.command()
@click.option("--port", default=8501, show_default=True)
@click.option("--no-serve", is_flag=True, help="Build the demo database and stop (no dashboard).")
@click.option("--refresh", is_flag=True, help="Crawl the simulator again even if the demo data exists.")
def demo(port: int, no_serve: bool, refresh: bool) -> None:
    """Offline demo: simulator → crawl → build → dashboard, on SQLite under data/."""
    from pipeline.crawl import CrawlError
    from pipeline.demo import run_demo
    from pipeline.serve import ServeError

    try:
        run_demo(port=port, serve=not no_serve, refresh=refresh)
    except (CrawlError, ServeError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


# ------------------------------------------------------------------------------- entity resolution
@main.command("resolve")
@click.argument("in_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def resolve_cmd(in_csv: Path, output: Path) -> None:
    """Resolve a CSV of names (record_id,kind,name,bin,iin,context) to record_id,entity_id; no database."""
    from pipeline.resolve_csv import ResolveInputError, resolve_csv

    try:
        report, _ = resolve_csv(in_csv, output)
    except ResolveInputError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(report.summary(), err=True)


@main.command()
@click.argument("decision", type=click.Choice(["same", "different", "unsure"]))
@click.argument("left")
@click.argument("right")
@click.option("--note", default=None, help="Why: what you checked.")
@click.option("--author", default=None, help="Who decides (default: $ASHYQ_USER, else the login name).")
def judge(decision: str, left: str, right: str, note: str | None, author: str | None) -> None:
    """Decide whether two mentions or entities (ids from `ashyq review`) are the same; overrides the matcher."""
    from entities.judgements import JudgementError, record_judgement

    try:
        j = record_judgement(_engine(), decision, left, right, note=note, author=author)
    except JudgementError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(f"judgement {j.id}: {j.left_ref} {j.decision} {j.right_ref} (by {j.author}); applies from the next build")


@main.command()
@click.option("--limit", default=30, show_default=True, help="How many pairs to list.")
@click.option("--kind", type=click.Choice(["organization", "person"]), default=None)
def review(limit: int, kind: str | None) -> None:
    """List the uncertain entity matches, most important first, with the `ashyq judge` line for each."""
    from entities.judgements import review_queue

    items, _ = review_queue(_engine(), kind=kind)  # type: ignore[arg-type]
    if not items:
        click.echo("no uncertain pairs")
        return
    for item in items[:limit]:
        p = item.pair
        click.echo(f"{p.kind} · score {p.score:.0f} · {p.reason} · {p.importance:g} mentions involved")
        click.echo(f"  {item.left.id:>8}  {item.left.name}   [{p.left_entity}]")
        click.echo(f"  {item.right.id:>8}  {item.right.name}   [{p.right_entity}]")
        click.echo(f"  ashyq judge same|different|unsure {item.left.id} {item.right.id} --note \"…\"")
    if len(items) > limit:
        click.echo(f"… {len(items) - limit} more (--limit)")


# >>> graph commands (pipeline.graph)
@main.group()
def graph() -> None:
    """The relationship graph (built by `ashyq build`): ego networks and paths, with evidence."""


def _graph_or_exit():  # type: ignore[no-untyped-def]
    from pipeline.graph import load_graph

    engine = _engine()
    g = load_graph(engine)
    if g.number_of_edges() == 0:
        raise click.ClickException("the graph is empty: run `ashyq build` first")
    return engine, g


@graph.command("ego")
@click.argument("entity")
@click.option("--depth", type=click.IntRange(1, 3), default=2, show_default=True)
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True,
              help="Most nodes shown; the most important (weighted degree) are kept.")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")
def graph_ego(entity: str, depth: int, limit: int, as_json: bool) -> None:
    """The ego network of ENTITY (an entity id such as kz-bin-…, or a BIN)."""
    import json

    from pipeline.graph import GraphQueryError, ego, format_ego, with_evidence

    engine, g = _graph_or_exit()
    try:
        result = ego(g, entity, depth=depth, limit=limit)
    except GraphQueryError as exc:
        raise click.ClickException(str(exc)) from exc
    result["edges"] = with_evidence(engine, result["edges"], per_edge=3)
    click.echo(json.dumps(result, ensure_ascii=False, indent=1) if as_json else format_ego(result))


@graph.command("path")
@click.argument("source")
@click.argument("target")
@click.option("--max-length", type=click.IntRange(1, 12), default=6, show_default=True)
@click.option("--exclude-hubs", type=int, default=None, help="Do not pass through nodes with more neighbours.")
@click.option("--exclude", multiple=True, help="An entity id never passed through (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")
def graph_path(source: str, target: str, max_length: int, exclude_hubs: int | None, exclude: tuple[str, ...],
               as_json: bool) -> None:
    """A shortest path from SOURCE to TARGET (entity ids or BINs), each hop with its edges and evidence."""
    import json

    from pipeline.graph import GraphQueryError, format_path, shortest_path, with_evidence

    engine, g = _graph_or_exit()
    try:
        result = shortest_path(g, source, target, max_length=max_length, exclude_hubs=exclude_hubs, exclude=exclude)
    except GraphQueryError as exc:
        raise click.ClickException(str(exc)) from exc
    if result is None:
        click.echo(f"no path of at most {max_length} hops")
        sys.exit(1)
    for hop in result["hops"]:
        hop["edges"] = with_evidence(engine, hop["edges"])
    click.echo(json.dumps(result, ensure_ascii=False, indent=1) if as_json else format_path(result))
# <<< graph commands

# >>> flags commands (pipeline.flags)
@main.group()
def flags() -> None:
    """Red flags: each with its rule, inputs, thresholds, legal reference and adjudication."""


@flags.command("list")
@click.option("--code", default=None, help="Only this rule (e.g. single_source_share).")
@click.option("--region", default=None, help="Only this region (two-digit KATO).")
@click.option("--state", type=click.Choice(["open", "justified", "unjustified"]), default=None)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line instead of text.")
def flags_list(code: str | None, region: str | None, state: str | None, as_json: bool) -> None:
    """List flags, ordered by id, with the `ashyq flag` line to adjudicate each."""
    import json

    from pipeline.flags.adjudicate import flag_rows
    from pipeline.flags.rules import CODES

    if code is not None and code not in CODES:
        click.echo(f"error: unknown flag code {code!r}; codes: {', '.join(CODES)}", err=True)
        sys.exit(2)
    count = 0
    for row in flag_rows(_engine(), code=code, region=region, state=state):
        count += 1
        if as_json:
            item = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
            click.echo(json.dumps(item, ensure_ascii=False, sort_keys=True))
            continue
        click.echo(f"{row['id']} · {row['severity']} · {row['state']} · region {row['region_kato'] or '-'}")
        click.echo(f"  {row['explanation']}")
        if row["note"]:
            click.echo(f"  verdict by {row['author']}: {row['note']}")
    if not as_json:
        click.echo(f"{count} flag(s)", err=True)


@main.command("flag")
@click.argument("state", type=click.Choice(["justified", "unjustified"]))
@click.argument("flag_id")
@click.option("--note", default=None, help="Why: what you checked.")
@click.option("--author", default=None, help="Who decides (default: $ASHYQ_USER, else the login name).")
def flag_cmd(state: str, flag_id: str, note: str | None, author: str | None) -> None:
    """Mark a flag justified or unjustified; the newest verdict counts, and it survives every rebuild."""
    from pipeline.flags.adjudicate import FlagError, record_verdict

    try:
        verdict = record_verdict(_engine(), state, flag_id, note=note, author=author)
    except FlagError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(f"flag {verdict.flag_id}: {verdict.state} (by {verdict.author})")
# <<< flags commands


if __name__ == "__main__":
    main()
